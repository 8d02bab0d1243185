package frontend_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The comment edit, redaction and history endpoints (issue 5): who may
// call them, the CSRF check, the body's validation, and what each does to
// the thread and its history, over the whole site on a real database.
func TestAPICommentEditRedactHistory(t *testing.T) {
	w := newWorld(t, nil)
	id := w.draft(t, "Comment history")
	path := "/api/advisories/" + id + "/"
	viewer, collab := w.browser(), w.browser()
	viewer.signIn("vera@example.org", "")
	collab.signIn("cole@example.org", "")
	for email, perm := range map[string]string{"vera@example.org": "viewer", "cole@example.org": "collaborator"} {
		if r := w.owner.send("POST", path+"grants/", `{"principal": "user", "permission": "`+perm+`", "email": "`+email+`"}`); r.status != 201 {
			t.Fatalf("grant %s: %d %s", email, r.status, r.body)
		}
	}
	anon := w.browser()
	anon.get("/") // a CSRF cookie, to show the 401 does not depend on it

	post := func(b *browser, body string) string {
		t.Helper()
		r := b.send("POST", path+"comments/", body)
		if r.status != 201 {
			t.Fatalf("post %s: %d %s", body, r.status, r.body)
		}
		return strconv.FormatInt(int64(r.json(t)["id"].(float64)), 10)
	}
	pub := path + "comments/" + post(viewer, `{"body": "First thoughts."}`) + "/"
	internal := path + "comments/" + post(w.owner, `{"body": "Team only.", "is_internal": true}`) + "/"
	collabs := path + "comments/" + post(collab, `{"body": "Leaked token abc123."}`) + "/"
	last := path + "comments/" + post(viewer, `{"body": "Later."}`) + "/"
	other := w.draft(t, "Another advisory")
	elsewhere := "/api/advisories/" + other + "/comments/" + strings.TrimSuffix(strings.TrimPrefix(pub, path+"comments/"), "/") + "/"

	noToken := map[string]string{"Content-Type": "application/json"}
	withToken := func(b *browser, token string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "X-CSRFToken": token}
	}
	for _, tc := range []struct {
		name        string
		b           *browser
		method      string
		path        string
		body        string
		header      map[string]string // nil: the browser's own CSRF token
		status      int
		code        string // the error envelope's code, if any
		messageHas  string
		notFoundDoc bool // the HTML 404 page
	}{
		{name: "anonymous edit", b: anon, method: "PATCH", path: pub, body: `{"body": "x"}`, header: withToken(anon, anon.csrf()), status: 401, code: "not_authenticated"},
		{name: "anonymous redact", b: anon, method: "POST", path: pub + "redact/", header: withToken(anon, anon.csrf()), status: 401, code: "not_authenticated"},
		{name: "anonymous versions", b: anon, method: "GET", path: pub + "versions/", status: 401, code: "not_authenticated"},
		{name: "edit without CSRF token", b: viewer, method: "PATCH", path: pub, body: `{"body": "x"}`, header: noToken, status: 403, code: "csrf_failed"},
		{name: "edit with wrong CSRF token", b: viewer, method: "PATCH", path: pub, body: `{"body": "x"}`, header: withToken(viewer, w.owner.csrf()), status: 403, code: "csrf_failed"},
		{name: "redact with wrong CSRF token", b: viewer, method: "POST", path: pub + "redact/", header: withToken(viewer, "nope"), status: 403, code: "csrf_failed"},
		{name: "owner edits another's comment", b: w.owner, method: "PATCH", path: pub, body: `{"body": "x"}`, status: 403, code: "forbidden"},
		{name: "collaborator redacts another's comment", b: collab, method: "POST", path: pub + "redact/", body: `{}`, status: 403, code: "forbidden"},
		{name: "owner redacts another's comment", b: w.owner, method: "POST", path: pub + "redact/", body: `{}`, status: 403, code: "forbidden"},
		{name: "blank body", b: viewer, method: "PATCH", path: pub, body: `{"body": "   "}`, status: 400, code: "invalid_body", messageHas: "body"},
		{name: "no body", b: viewer, method: "PATCH", path: pub, body: `{}`, status: 400, code: "invalid_body", messageHas: "body"},
		{name: "body not a string", b: viewer, method: "PATCH", path: pub, body: `{"body": 3}`, status: 400, code: "invalid_body", messageHas: "body"},
		{name: "body too long", b: viewer, method: "PATCH", path: pub, body: `{"body": "` + strings.Repeat("a", 20001) + `"}`, status: 400, code: "invalid_body", messageHas: "body"},
		{name: "is_internal is fixed", b: viewer, method: "PATCH", path: pub, body: `{"body": "x", "is_internal": true}`, status: 400, code: "invalid_body", messageHas: "is_internal"},
		{name: "not an object", b: viewer, method: "PATCH", path: pub, body: `["x"]`, status: 400, code: "invalid_body"},
		{name: "viewer reads an internal comment's versions", b: viewer, method: "GET", path: internal + "versions/", status: 404, notFoundDoc: true},
		{name: "viewer edits an internal comment", b: viewer, method: "PATCH", path: internal, body: `{"body": "x"}`, status: 404, notFoundDoc: true},
		{name: "viewer redacts an internal comment", b: viewer, method: "POST", path: internal + "redact/", body: `{}`, status: 404, notFoundDoc: true},
		{name: "stranger reads versions", b: w.stranger, method: "GET", path: pub + "versions/", status: 404, notFoundDoc: true},
		{name: "stranger edits", b: w.stranger, method: "PATCH", path: pub, body: `{"body": "x"}`, status: 404, notFoundDoc: true},
		{name: "comment of another advisory", b: w.owner, method: "GET", path: elsewhere + "versions/", status: 404, notFoundDoc: true},
		{name: "unknown comment", b: viewer, method: "GET", path: path + "comments/999999/versions/", status: 404, notFoundDoc: true},
		{name: "malformed comment id", b: viewer, method: "PATCH", path: path + "comments/x1/", body: `{"body": "x"}`, status: 404, notFoundDoc: true},
		{name: "unlisted method", b: viewer, method: "DELETE", path: pub, status: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			switch {
			case tc.method == "GET":
				r = tc.b.get(tc.path)
			case tc.header != nil:
				r = tc.b.do(tc.method, tc.path, tc.body, tc.header)
			default:
				r = tc.b.send(tc.method, tc.path, tc.body)
			}
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" {
				m := r.json(t)
				if m["error"] != tc.code || !strings.Contains(m["message"].(string), tc.messageHas) {
					t.Fatalf("error %v, want %s naming %q", m, tc.code, tc.messageHas)
				}
			}
			if tc.notFoundDoc && !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("not the HTML 404 page: %s %s", r.header.Get("Content-Type"), r.body)
			}
		})
	}
	if n := w.count(t, `SELECT count(*) FROM comment_versions`); n != 4 {
		t.Fatalf("%d versions after the refused calls, want the 4 originals", n)
	}

	// The author edits: a new version is appended, the old one kept.
	r := viewer.send("PATCH", pub, `{"body": "  Second thoughts, @owen.  "}`)
	c := r.json(t)
	if r.status != 200 || c["body"] != "Second thoughts, @owen." || c["edited_at"] == nil || c["is_redacted"] != false ||
		c["author"] != "vera@example.org" || c["is_internal"] != false {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	versions := func(b *browser, p string) []string {
		t.Helper()
		r := b.get(p + "versions/")
		if r.status != 200 {
			t.Fatalf("versions %s: %d %s", p, r.status, r.body)
		}
		var out []string
		for i, v := range r.json(t)["results"].([]any) {
			v := v.(map[string]any)
			if v["version"] != float64(i+1) || v["created_at"] == nil {
				t.Fatalf("version %d: %v", i+1, v)
			}
			out = append(out, v["body"].(string))
		}
		return out
	}
	for _, b := range []*browser{viewer, w.owner, collab, w.admin} {
		if got := versions(b, pub); len(got) != 2 || got[0] != "First thoughts." || got[1] != "Second thoughts, @owen." {
			t.Fatalf("history: %q", got)
		}
	}
	// The same body again changes nothing.
	if r := viewer.send("PATCH", pub, `{"body": "Second thoughts, @owen."}`); r.status != 200 || len(versions(viewer, pub)) != 2 {
		t.Fatalf("unchanged edit: %d %s", r.status, r.body)
	}
	// An internal comment: its author edits it; collaborators read its
	// history, the viewer never does (tested above).
	if r := w.owner.send("PATCH", internal, `{"body": "Team only, revised."}`); r.status != 200 || r.json(t)["is_internal"] != true {
		t.Fatalf("edit internal: %d %s", r.status, r.body)
	}
	if got := versions(collab, internal); len(got) != 2 || got[1] != "Team only, revised." {
		t.Fatalf("internal history: %q", got)
	}

	// The author redacts: same id, same place, no body anywhere — history
	// included; the versions stay stored.
	before := threadOf(t, viewer, path)
	r = viewer.send("POST", pub+"redact/", `{}`)
	c = r.json(t)
	if r.status != 200 || c["is_redacted"] != true || c["body"] != "" || !strings.HasSuffix(pub, "/"+jsonInt(int64(c["id"].(float64)))+"/") ||
		c["author"] != "vera@example.org" {
		t.Fatalf("redact: %d %s", r.status, r.body)
	}
	after := threadOf(t, viewer, path)
	if len(after) != len(before) {
		t.Fatalf("thread %d → %d comments", len(before), len(after))
	}
	for i := range after {
		if after[i]["id"] != before[i]["id"] {
			t.Fatalf("thread order changed: %v → %v", before, after)
		}
		if after[i]["id"] == c["id"] && (after[i]["body"] != "" || after[i]["is_redacted"] != true) {
			t.Fatalf("redacted comment in the thread: %v", after[i])
		}
	}
	for _, b := range []*browser{viewer, w.owner, w.admin} {
		if got := versions(b, pub); len(got) != 2 || got[0] != "" || got[1] != "" {
			t.Fatalf("redacted history leaks: %q", got)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM comment_versions WHERE comment_id = $1`, int64(c["id"].(float64))); n != 2 {
		t.Fatalf("%d stored versions after redaction", n)
	}
	// Redaction is one-way: no edit, no second redaction.
	if r := viewer.send("PATCH", pub, `{"body": "Back again."}`); r.status != 403 {
		t.Fatalf("edit after redaction: %d %s", r.status, r.body)
	}
	if r := viewer.send("POST", pub+"redact/", `{}`); r.status != 403 {
		t.Fatalf("second redaction: %d %s", r.status, r.body)
	}

	// A global admin redacts anyone's comment (with a form body, as a
	// script might); the admin sees the author's email whole, the viewer
	// masked (INV-PRIVACY-4).
	r = w.admin.do("POST", collabs+"redact/", "csrfmiddlewaretoken="+w.admin.csrf(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": w.admin.csrf()})
	if r.status != 200 || r.json(t)["is_redacted"] != true || r.json(t)["author"] != "cole@example.org" {
		t.Fatalf("admin redaction: %d %s", r.status, r.body)
	}
	for _, cm := range threadOf(t, viewer, path) {
		if strings.HasSuffix(collabs, "/"+jsonInt(int64(cm["id"].(float64)))+"/") && (cm["author"] != "c•••@example.org" || cm["body"] != "") {
			t.Fatalf("viewer sees the redacted comment as %v", cm)
		}
	}
	for action, want := range map[string]int{"comment.edited": 2, "comment.redacted": 2} {
		if n := w.count(t, `SELECT count(*) FROM audit_log WHERE action = $1`, action); n != want {
			t.Errorf("%d %s audit rows, want %d", n, action, want)
		}
	}

	// Edits share the comment rule, 30/min per user, in their own bucket:
	// the 31st is refused without a version being written (a fresh
	// window: the calls above counted too).
	w.clock.Advance(time.Minute)
	for i := 0; i < 30; i++ {
		if r := viewer.send("PATCH", last, `{"body": "Edit `+strconv.Itoa(i)+`"}`); r.status != 200 {
			t.Fatalf("edit #%d: %d %s", i+1, r.status, r.body)
		}
	}
	r = viewer.send("PATCH", last, `{"body": "one too many"}`)
	if r.status != http.StatusTooManyRequests || r.json(t)["error"] != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("31st edit: %d %s", r.status, r.body)
	}
	if got := versions(viewer, last); len(got) != 31 || got[30] != "Edit 29" {
		t.Fatalf("%d versions after the limit", len(got))
	}
}

// threadOf is the advisory's thread as b reads it.
func threadOf(t *testing.T, b *browser, path string) []map[string]any {
	t.Helper()
	r := b.get(path + "comments/")
	if r.status != 200 {
		t.Fatalf("thread: %d %s", r.status, r.body)
	}
	var out []map[string]any
	for _, c := range r.json(t)["results"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}
