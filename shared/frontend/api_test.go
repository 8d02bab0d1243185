package frontend_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// do sends an unsafe JSON request with the browser's CSRF token.
func (b *browser) send(method, path, body string) response {
	b.s.t.Helper()
	return b.do(method, path, body, map[string]string{"Content-Type": "application/json", "X-CSRFToken": b.csrf()})
}

// sql runs fn in a transaction as the system principal (row-level
// security sees everything).
func (s *site) sql(t testing.TB, fn func(ctx context.Context, tx *postgres.DB) error) {
	t.Helper()
	ctx := postgres.AsSystem(context.Background())
	if err := s.db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func (s *site) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	s.sql(t, func(ctx context.Context, tx *postgres.DB) error { return tx.QueryRow(ctx, query, args...).Scan(&n) })
	return n
}

// world is a site with an admin, the `lantern` project (created through
// the API, team lantern-security), its owner and a stranger.
type world struct {
	*site
	admin, owner, stranger *browser
}

func newWorld(t *testing.T, env map[string]string) *world {
	t.Helper()
	s := newSite(t, env)
	s.sql(t, func(ctx context.Context, tx *postgres.DB) error {
		_, err := tx.EnsureUnsortedProject(ctx, s.cfg.OIDC.AdminGroup)
		return err
	})
	w := &world{site: s, admin: s.browser(), owner: s.browser(), stranger: s.browser()}
	w.admin.signIn("admin@example.org", "advisoryhub-security")
	w.owner.signIn("owen@example.org", "lantern-security")
	w.stranger.signIn("stan@example.org", "")
	r := w.admin.send("POST", "/api/projects/", `{"slug": "lantern", "name": "Eclipse Lantern", "security_team": "lantern-security",
		"homepage_url": "https://lantern.example.org"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create project: %d %s", r.status, r.body)
	}
	return w
}

// draft creates a draft on lantern as the owner and returns its id.
func (w *world) draft(t *testing.T, summary string) string {
	t.Helper()
	r := w.owner.send("POST", "/api/advisories/", `{"project": "lantern", "summary": "`+summary+`", "details": "Some *details*.",
		"aliases": ["CVE-2026-1234"], "references": [{"type": "WEB", "url": "https://lantern.example.org/sec"}]}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create draft: %d %s", r.status, r.body)
	}
	d := r.json(t)
	id := d["advisory_id"].(string)
	if d["state"] != "draft" || r.header.Get("Location") != "/api/advisories/"+id+"/" {
		t.Fatalf("created %v, Location %q", d, r.header.Get("Location"))
	}
	return id
}

func TestAPIProjects(t *testing.T) {
	w := newWorld(t, nil)
	if r := w.owner.get("/api/projects/"); r.status != 403 || r.json(t)["error"] != "forbidden" {
		t.Fatalf("non-admin list: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", "/api/projects/", `{"slug": "x", "name": "X", "security_team": "x"}`); r.status != 403 {
		t.Fatalf("non-admin create: %d %s", r.status, r.body)
	}
	list := w.admin.get("/api/projects/").json(t)["results"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["slug"] != "lantern" || list[0].(map[string]any)["security_team"] != "lantern-security" {
		t.Fatalf("projects: %v", list)
	}
	r := w.admin.send("POST", "/api/projects/", `{"slug": "Bad Slug", "name": "", "security_team": "a@b", "homepage_url": "ftp://x"}`)
	problems, _ := r.json(t)["problems"].(map[string]any)
	if r.status != 422 || r.json(t)["error"] != "validation_failed" || len(problems) != 4 || problems["homepage_url"] == nil {
		t.Fatalf("invalid project: %d %s", r.status, r.body)
	}
	if r := w.admin.send("POST", "/api/projects/", `{"slug": "lantern", "name": "Again", "security_team": "x"}`); r.status != 409 {
		t.Fatalf("taken slug: %d %s", r.status, r.body)
	}
	if r := w.admin.send("POST", "/api/projects/", `{"slug": "x", "name": "X", "security_team": "x", "colour": "red"}`); r.status != 400 {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}

	// PATCH changes only what it names, and is audited with the diff.
	r = w.admin.send("PATCH", "/api/projects/lantern/", `{"name": "Lantern", "is_mature_publisher": true}`)
	p := r.json(t)
	if r.status != 200 || p["name"] != "Lantern" || p["is_mature_publisher"] != true || p["homepage_url"] != "https://lantern.example.org" {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if r := w.admin.send("PATCH", "/api/projects/lantern/", `{"is_mature_publisher": "yes"}`); r.status != 422 {
		t.Fatalf("wrong type: %d %s", r.status, r.body)
	}
	if r := w.admin.send("PATCH", "/api/projects/unsorted/", `{"slug": "sorted"}`); r.status != 422 {
		t.Fatalf("renaming the sentinel: %d %s", r.status, r.body)
	}
	if r := w.admin.send("PATCH", "/api/projects/nope/", `{"name": "N"}`); r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("unknown project: %d %s", r.status, r.body)
	}
	if n := w.count(t, `SELECT count(*) FROM audit_log WHERE action = 'project.updated'`); n != 1 {
		t.Fatalf("project.updated rows: %d", n)
	}
	if n := w.count(t, `SELECT count(*) FROM audit_log WHERE action = 'project.created'`); n != 1 {
		t.Fatalf("project.created rows: %d", n)
	}
}

func TestAPICreateAndEditAdvisory(t *testing.T) {
	w := newWorld(t, nil)
	if r := w.stranger.send("POST", "/api/advisories/", `{"project": "lantern", "summary": "x"}`); r.status != 403 {
		t.Fatalf("stranger creates: %d %s", r.status, r.body)
	}
	r := w.owner.send("POST", "/api/advisories/", `{"project": "nope", "summary": "x"}`)
	if r.status != 422 || r.json(t)["problems"].(map[string]any)["project"] == nil {
		t.Fatalf("unknown project: %d %s", r.status, r.body)
	}
	r = w.owner.send("POST", "/api/advisories/", `{"summary": "x"}`)
	if r.status != 422 || r.json(t)["problems"].(map[string]any)["project"] != "is required" {
		t.Fatalf("no project: %d %s", r.status, r.body)
	}
	if r := w.owner.do("POST", "/api/advisories/", "project=lantern", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": w.owner.csrf()}); r.status != 415 {
		t.Fatalf("form body: %d %s", r.status, r.body)
	}
	id := w.draft(t, "XSS in the gallery")
	path := "/api/advisories/" + id + "/"

	// Invalid content: 422 with every problem at its field path; nothing
	// is written.
	versions := w.count(t, `SELECT count(*) FROM advisory_versions`)
	r = w.owner.send("PATCH", path, `{"aliases": ["", "CVE-2026-1234"], "references": [{"url": "notaurl"}], "severity": "high"}`)
	problems, _ := r.json(t)["problems"].(map[string]any)
	if r.status != 422 || r.json(t)["error"] != "validation_failed" || problems["severity"] == nil {
		t.Fatalf("wrong shape: %d %s", r.status, r.body)
	}
	r = w.owner.send("PATCH", path, `{"aliases": ["", "CVE-2026-1234"], "references": [{"url": "notaurl"}]}`)
	problems, _ = r.json(t)["problems"].(map[string]any)
	if r.status != 422 || problems["aliases[0]"] == nil || problems["references[0].url"] == nil {
		t.Fatalf("invalid content: %d %s", r.status, r.body)
	}
	if w.count(t, `SELECT count(*) FROM advisory_versions`) != versions {
		t.Fatal("a refused edit wrote a version")
	}
	if r := w.owner.send("PATCH", path, `{"project": "other"}`); r.status != 400 || !strings.Contains(r.body, "change-project") {
		t.Fatalf("project in PATCH: %d %s", r.status, r.body)
	}

	// A partial edit keeps the other fields.
	r = w.owner.send("PATCH", path, `{"summary": "Stored XSS in the gallery", "cwe_ids": ["CWE-79"]}`)
	d := r.json(t)
	if r.status != 200 || d["summary"] != "Stored XSS in the gallery" || d["details"] != "Some *details*." ||
		len(d["aliases"].([]any)) != 1 || d["cwe_ids"].([]any)[0] != "CWE-79" {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if r := w.stranger.send("PATCH", path, `{"summary": "mine"}`); r.status != 404 {
		t.Fatalf("stranger edits an invisible advisory: %d", r.status)
	}

	// Dismiss needs a reason; reopen returns to draft.
	r = w.owner.send("POST", path+"dismiss/", `{}`)
	if r.status != 422 || r.json(t)["problems"].(map[string]any)["reason"] == nil {
		t.Fatalf("dismiss without reason: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"dismiss/", `{"reason": "duplicate"}`); r.status != 200 || r.json(t)["state"] != "dismissed" || r.json(t)["dismissed_reason"] != "duplicate" {
		t.Fatalf("dismiss: %d %s", r.status, r.body)
	}
	if r := w.owner.send("PATCH", path, `{"summary": "late"}`); r.status != 403 {
		t.Fatalf("edit a dismissed advisory: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"dismiss/", `{"reason": "again"}`); r.status != 409 || r.json(t)["error"] != "invalid_transition" {
		t.Fatalf("dismiss a dismissed advisory: %d %s", r.status, r.body)
	}
	if r := w.owner.do("POST", path+"reopen/", "", map[string]string{"X-CSRFToken": w.owner.csrf()}); r.status != 200 || r.json(t)["state"] != "draft" {
		t.Fatalf("reopen with no body: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"frobnicate/", `{}`); r.status != 404 {
		t.Fatalf("unknown action: %d", r.status)
	}
	if r := w.owner.do("GET", path+"dismiss/", "", nil); r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Fatalf("GET an action: %d Allow=%q", r.status, r.header.Get("Allow"))
	}

	// Moving a draft needs the destination team too (or an admin).
	if r := w.admin.send("POST", "/api/projects/", `{"slug": "ambra", "name": "Ambra", "security_team": "ambra-security"}`); r.status != 201 {
		t.Fatalf("create ambra: %d", r.status)
	}
	if r := w.owner.send("POST", path+"change-project/", `{"project": "ambra"}`); r.status != 403 {
		t.Fatalf("owner moves to a foreign project: %d %s", r.status, r.body)
	}
	if r := w.admin.send("POST", path+"change-project/", `{"project": "ambra"}`); r.status != 200 || r.json(t)["project"].(map[string]any)["slug"] != "ambra" {
		t.Fatalf("admin moves: %d %s", r.status, r.body)
	}
	for _, action := range []string{"advisory.created", "advisory.edited", "advisory.dismissed", "advisory.reopened", "advisory.project_changed"} {
		if w.count(t, `SELECT count(*) FROM audit_log WHERE action = $1`, action) == 0 {
			t.Errorf("no %s audit row", action)
		}
	}
}

// Triage through the API: a scripted report, routing, promotion; and the
// withdrawal of a published advisory, which needs permission, then a
// fresh step-up.
func TestAPITriageAndWithdraw(t *testing.T) {
	w := newWorld(t, nil)
	anon := w.browser()
	anon.get("/report/")
	r := anon.send("POST", "/report/", `{"project_slug": "lantern", "summary": "SQLi in search", "details": "' OR 1=1"}`)
	if r.status != 202 {
		t.Fatalf("JSON report: %d %s", r.status, r.body)
	}
	path := "/api/advisories/" + r.json(t)["reference"].(string) + "/"
	if d := w.owner.get(path).json(t); d["state"] != "triage" {
		t.Fatalf("report: %v", d)
	}
	if r := w.owner.send("POST", path+"flag-routing/", `{}`); r.status != 422 {
		t.Fatalf("flag without note: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"flag-routing/", `{"note": "not ours"}`); r.status != 200 {
		t.Fatalf("flag: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"promote/", `{}`); r.status != 403 {
		t.Fatalf("owner promotes a flagged report: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"clear-routing/", `{"note": "ours after all"}`); r.status != 200 {
		t.Fatalf("clear: %d %s", r.status, r.body)
	}
	if r := w.owner.do("POST", path+"promote/", "project=lantern", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": w.owner.csrf()}); r.status != 200 || r.json(t)["state"] != "draft" {
		t.Fatalf("promote (form body): %d %s", r.status, r.body)
	}

	// An unsorted report is reassigned by an admin.
	r = anon.send("POST", "/report/", `{"project_slug": "__unsorted__", "summary": "Something", "details": "somewhere"}`)
	upath := "/api/advisories/" + r.json(t)["reference"].(string) + "/"
	if r := w.owner.send("POST", upath+"reassign/", `{"project": "lantern"}`); r.status != 404 {
		t.Fatalf("owner reassigns an invisible report: %d %s", r.status, r.body)
	}
	if r := w.admin.send("POST", upath+"reassign/", `{"project": "lantern"}`); r.status != 200 || r.json(t)["project"].(map[string]any)["slug"] != "lantern" {
		t.Fatalf("admin reassigns: %d %s", r.status, r.body)
	}

	// Withdraw: only a published advisory, only an admin or a mature
	// publisher's team, only after a fresh step-up.
	if r := w.admin.send("POST", path+"withdraw/", `{"reason": "bogus"}`); r.status != 409 {
		t.Fatalf("withdraw a draft: %d %s", r.status, r.body)
	}
	w.sql(t, func(ctx context.Context, tx *postgres.DB) error {
		_, err := tx.Exec(ctx, `UPDATE advisories SET state = 'published', published_at = now() WHERE advisory_id = $1`,
			strings.Split(path, "/")[3])
		return err
	})
	if r := w.owner.send("POST", path+"withdraw/", `{"reason": "bogus"}`); r.status != 403 {
		t.Fatalf("non-mature owner withdraws: %d %s", r.status, r.body)
	}
	if r := w.admin.send("POST", path+"withdraw/", `{"reason": "bogus"}`); r.status != 401 || r.json(t)["error"] != "step_up_required" {
		t.Fatalf("withdraw without step-up: %d %s", r.status, r.body)
	}
	w.admin.stepUp("admin@example.org", "advisoryhub-security")
	r = w.admin.send("POST", path+"withdraw/", `{"reason": "bogus"}`)
	if d := r.json(t); r.status != 200 || d["withdrawn_reason"] != "bogus" || d["republish_required"] != true {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
}

// The routing and promotion actions are limited to 20/h per user; the
// refused request changes nothing.
func TestAPIActionRateLimit(t *testing.T) {
	w := newWorld(t, nil)
	id := w.draft(t, "A")
	for i := 0; i < 20; i++ {
		if r := w.owner.send("POST", "/api/advisories/"+id+"/promote/", `{}`); r.status != 409 {
			t.Fatalf("promote a draft #%d: %d %s", i, r.status, r.body)
		}
	}
	r := w.owner.send("POST", "/api/advisories/"+id+"/promote/", `{}`)
	if r.status != 429 || r.json(t)["error"] != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("21st promote: %d %v %s", r.status, r.header, r.body)
	}
}

func TestAPICommentsAndGrants(t *testing.T) {
	w := newWorld(t, nil)
	id := w.draft(t, "Comment me")
	path := "/api/advisories/" + id + "/"
	viewer := w.browser()
	viewer.signIn("vera@example.org", "")

	// Grants: an existing user by email, a group, an unknown email (an
	// invitation), owner refused.
	r := w.owner.send("POST", path+"grants/", `{"principal": "user", "permission": "viewer", "email": "VERA@example.org"}`)
	if r.status != 201 || r.json(t)["created"] != "grant" {
		t.Fatalf("grant a user: %d %s", r.status, r.body)
	}
	grantID := int64(r.json(t)["grant"].(map[string]any)["id"].(float64))
	if r := w.owner.send("POST", path+"grants/", `{"principal": "group", "permission": "collaborator", "group": "lantern-security"}`); r.status != 201 {
		t.Fatalf("grant a group: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"grants/", `{"principal": "group", "permission": "viewer", "group": "nobody"}`); r.status != 404 || r.json(t)["error"] != "unknown_group" {
		t.Fatalf("unknown group: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"grants/", `{"principal": "user", "permission": "owner", "email": "x@example.org"}`); r.status != 400 || r.json(t)["error"] != "invalid_permission" {
		t.Fatalf("owner grant: %d %s", r.status, r.body)
	}
	r = w.owner.send("POST", path+"grants/", `{"principal": "user", "permission": "collaborator", "email": "NewBie@Example.org"}`)
	if r.status != 201 || r.json(t)["created"] != "invitation" {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	if r := viewer.send("POST", path+"grants/", `{"principal": "user", "permission": "viewer", "email": "x@example.org"}`); r.status != 403 {
		t.Fatalf("viewer grants: %d %s", r.status, r.body)
	}
	panel := w.owner.get(path + "grants/").json(t)
	if len(panel["grants"].([]any)) != 2 || len(panel["pending"].([]any)) != 1 {
		t.Fatalf("access panel: %v", panel)
	}
	if r := viewer.get(path + "grants/"); r.status != 403 {
		t.Fatalf("viewer reads grants: %d", r.status)
	}

	// Comments: the viewer posts a public one, not an internal one; the
	// owner posts an internal one the viewer never sees; emails masked.
	if r := viewer.send("POST", path+"comments/", `{"body": "Seen it.", "is_internal": true}`); r.status != 403 {
		t.Fatalf("viewer posts internal: %d %s", r.status, r.body)
	}
	if r := viewer.send("POST", path+"comments/", `{"body": "   "}`); r.status != 400 || r.json(t)["error"] != "invalid_body" {
		t.Fatalf("blank comment: %d %s", r.status, r.body)
	}
	if r := viewer.send("POST", path+"comments/", `{"body": "Seen it, @owen."}`); r.status != 201 || r.json(t)["author"] != "vera@example.org" {
		t.Fatalf("viewer comments: %d %s", r.status, r.body)
	}
	if r := w.owner.send("POST", path+"comments/", `{"body": "Team only.", "is_internal": true}`); r.status != 201 {
		t.Fatalf("owner internal comment: %d %s", r.status, r.body)
	}
	var seen []map[string]any
	for _, c := range viewer.get(path + "comments/").json(t)["results"].([]any) {
		seen = append(seen, c.(map[string]any))
	}
	if len(seen) != 1 || seen[0]["body"] != "Seen it, @owen." || seen[0]["author"] != "vera@example.org" {
		t.Fatalf("viewer's thread: %v", seen)
	}
	ownerThread := w.owner.get(path + "comments/").json(t)["results"].([]any)
	if len(ownerThread) != 2 || ownerThread[0].(map[string]any)["author"] != "vera@example.org" {
		t.Fatalf("owner's thread: %v", ownerThread)
	}
	// Another collaborator's email is masked for the viewer (INV-PRIVACY-4).
	if r := w.owner.send("POST", path+"comments/", `{"body": "Public reply."}`); r.status != 201 {
		t.Fatalf("owner reply: %d", r.status)
	}
	thread := viewer.get(path + "comments/").json(t)["results"].([]any)
	if got := thread[len(thread)-1].(map[string]any)["author"]; got != "o•••@example.org" {
		t.Fatalf("viewer sees the owner as %v", got)
	}
	if r := w.stranger.get(path + "comments/"); r.status != 404 {
		t.Fatalf("stranger reads comments: %d", r.status)
	}

	// Revoking the grant ends the viewer's access.
	if r := w.owner.send("DELETE", path+"grants/"+jsonInt(grantID)+"/", ""); r.status != 200 || r.json(t)["revoked"] != float64(grantID) {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := viewer.get(path + "comments/"); r.status != 404 {
		t.Fatalf("revoked viewer reads comments: %d", r.status)
	}
	for _, action := range []string{"access.granted", "access.revoked", "invitation.created", "comment.created"} {
		if w.count(t, `SELECT count(*) FROM audit_log WHERE action = $1`, action) == 0 {
			t.Errorf("no %s audit row", action)
		}
	}
	// The invitation queued its email (and nothing else was queued).
	if n := w.count(t, `SELECT count(*) FROM outbox`); n != 1 || w.count(t, `SELECT count(*) FROM outbox WHERE kind = 'invitation.send_email'`) != 1 {
		t.Errorf("%d jobs queued, want the one invitation email", n)
	}

	// Comments are limited to 30/min per user: the 31st is refused
	// without being written.
	for i := 0; i < 28; i++ {
		if r := w.owner.send("POST", path+"comments/", `{"body": "again"}`); r.status != 201 {
			t.Fatalf("comment #%d: %d %s", i+2, r.status, r.body)
		}
	}
	before := w.count(t, `SELECT count(*) FROM comments`)
	r = w.owner.send("POST", path+"comments/", `{"body": "one too many"}`)
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.json(t)["error"] != "rate_limited" {
		t.Fatalf("31st comment: %d %v %s", r.status, r.header, r.body)
	}
	if w.count(t, `SELECT count(*) FROM comments`) != before {
		t.Fatal("a throttled comment was written")
	}
	w.clock.Advance(time.Minute)
	if r := w.owner.send("POST", path+"comments/", `{"body": "next window"}`); r.status != 201 {
		t.Fatalf("next window: %d %s", r.status, r.body)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Invitations are redeemed at sign-in when the verified email matches,
// whatever its case (INV-ACCESS-2); an expired one is not (INV-ACCESS-3).
func TestInvitationRedeemedAtSignIn(t *testing.T) {
	w := newWorld(t, nil)
	id := w.draft(t, "Invite me")
	path := "/api/advisories/" + id + "/"
	for _, email := range []string{"NewBie@Example.org", "late@example.org"} {
		r := w.owner.send("POST", path+"grants/", `{"principal": "user", "permission": "collaborator", "email": "`+email+`"}`)
		if r.status != 201 || r.json(t)["created"] != "invitation" {
			t.Fatalf("invite %s: %d %s", email, r.status, r.body)
		}
	}
	newbie := w.browser()
	newbie.signIn("newbie@example.ORG", "")
	if r := newbie.get(path); r.status != 200 || r.json(t)["advisory_id"] != id {
		t.Fatalf("invitee after sign-in: %d %s", r.status, r.body)
	}
	// As collaborator: internal comments are open to them.
	if r := newbie.send("POST", path+"comments/", `{"body": "On it.", "is_internal": true}`); r.status != 201 {
		t.Fatalf("invitee posts internal: %d %s", r.status, r.body)
	}
	// Fifteen days later the other invitation has lapsed.
	w.clock.Advance(15 * 24 * time.Hour)
	late := w.browser()
	late.signIn("late@example.org", "")
	if r := late.get(path); r.status != 404 {
		t.Fatalf("expired invitation redeemed: %d", r.status)
	}
	if n := w.count(t, `SELECT count(*) FROM audit_log WHERE action = 'invitation.redeemed'`); n != 1 {
		t.Fatalf("invitation.redeemed rows: %d", n)
	}
	if n := w.count(t, `SELECT count(*) FROM invitations WHERE redeemed_at IS NULL`); n != 1 {
		t.Fatalf("unredeemed invitations: %d", n)
	}
}

// The JSON report: the same answer for a real report and a honeypot trip,
// validation as 422, and the anonymous rate limit (429, nothing written).
func TestReportJSON(t *testing.T) {
	w := newWorld(t, map[string]string{"RATELIMIT_INTAKE_ANON": "3/h"})
	anon := w.browser()
	anon.get("/report/")
	real := anon.send("POST", "/report/", `{"project_slug": "lantern", "summary": "RCE", "details": "Upload a jsp.", "email": "x@example.org"}`)
	trap := anon.send("POST", "/report/", `{"project_slug": "lantern", "summary": "RCE", "details": "Upload a jsp.", "website": "http://spam"}`)
	for _, r := range []response{real, trap} {
		if r.status != 202 || len(r.json(t)) != 1 || !strings.HasPrefix(r.json(t)["reference"].(string), "ECL-") {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM advisories`); n != 1 {
		t.Fatalf("advisories: %d (the honeypot made one?)", n)
	}
	if n := w.count(t, `SELECT count(*) FROM honeypot_submissions`); n != 1 {
		t.Fatalf("honeypot rows: %d", n)
	}
	r := anon.send("POST", "/report/", `{"project_slug": "", "summary": "", "details": ""}`)
	problems, _ := r.json(t)["problems"].(map[string]any)
	if r.status != 422 || problems["summary"] == nil || problems["project_slug"] == nil {
		t.Fatalf("invalid report: %d %s", r.status, r.body)
	}
	r = anon.send("POST", "/report/", `{"project_slug": "lantern", "summary": "again", "details": "again"}`)
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.json(t)["error"] != "rate_limited" {
		t.Fatalf("4th report: %d %v %s", r.status, r.header, r.body)
	}
	if n := w.count(t, `SELECT count(*) FROM advisories`); n != 1 {
		t.Fatalf("a throttled report wrote: %d advisories", n)
	}
	// No token, no report.
	if r := anon.do("POST", "/report/", `{}`, map[string]string{"Content-Type": "application/json"}); r.status != 403 {
		t.Fatalf("report without CSRF token: %d", r.status)
	}
}
