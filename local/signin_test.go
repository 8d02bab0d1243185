package main

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is an HTTP client with a cookie jar that follows redirects, as a
// person's browser would.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: strings.TrimRight(base, "/"), c: &http.Client{Jar: jar}}
}

type response struct {
	status int
	header http.Header
	body   string
	url    *url.URL // after redirects
}

func (b *browser) do(method, path string, body io.Reader, header map[string]string) response {
	b.t.Helper()
	target := path
	if strings.HasPrefix(path, "/") {
		target = b.base + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(raw), url: resp.Request.URL}
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, nil, nil) }

// csrf returns the CSRF cookie the server gave this browser.
func (b *browser) csrf() string {
	u, _ := url.Parse(b.base + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "csrftoken" {
			return c.Value
		}
	}
	b.t.Fatal("no csrftoken cookie")
	return ""
}

// postJSON sends an unsafe JSON request with the CSRF header (when token is
// not empty).
func (b *browser) postJSON(path, token, body string) response {
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["X-CSRFToken"] = token
	}
	return b.do(http.MethodPost, path, strings.NewReader(body), h)
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// submitIdPForm fills the development provider's sign-in form (the page
// the previous redirects ended on) and follows the redirects back.
func (b *browser) submitIdPForm(page response, email, name, groups string) response {
	b.t.Helper()
	if page.status != http.StatusOK || !strings.Contains(page.url.Path, "/dev/idp/authorize") {
		b.t.Fatalf("expected the provider's sign-in form, got %d at %s:\n%s", page.status, page.url, page.body)
	}
	m := formAction.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no form on the sign-in page:\n%s", page.body)
	}
	form := url.Values{"email": {email}, "name": {name}, "groups": {groups}}
	return b.do(http.MethodPost, html.UnescapeString(m[1]), strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// signIn goes through the whole code flow by real redirects.
func (b *browser) signIn(email, name, groups, next string) response {
	b.t.Helper()
	form := b.get("/oidc/authenticate/?next=" + url.QueryEscape(next))
	return b.submitIdPForm(form, email, name, groups)
}

func decode(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("status %d, body %q: %v", r.status, r.body, err)
	}
	return m
}

// Sign-in through /dev/idp/ by real redirects with a cookie jar, with a
// chosen email and groups, then the API as that user; sign-out ends it.
func TestShimSignInThroughDevIdP(t *testing.T) {
	base, stop := start(t, dataDir(t))
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	b := newBrowser(t, base)

	// Anonymous: the API answers 401 JSON, never a redirect.
	if r := b.get("/api/advisories/"); r.status != 401 || decode(t, r)["error"] != "not_authenticated" {
		t.Fatalf("anonymous /api/advisories/: %d %s", r.status, r.body)
	}

	// The provider page offers the demo users and the three fields.
	form := b.get("/oidc/authenticate/?next=/accounts/me/")
	for _, want := range []string{`name="email"`, `name="name"`, `name="groups"`, "alice@example.org"} {
		if !strings.Contains(form.body, want) {
			t.Fatalf("sign-in form lacks %s:\n%s", want, form.body)
		}
	}
	landed := b.submitIdPForm(form, "dora@example.org", "Dora Explorer", "demo-lantern-security, team-x@other.example, idm_all_persons@x")
	if landed.status != 200 || landed.url.Path != "/accounts/me/" || !strings.Contains(landed.body, "dora@example.org") {
		t.Fatalf("after sign-in: %d at %s:\n%s", landed.status, landed.url, landed.body)
	}

	me := decode(t, b.get("/api/me/"))
	if me["email"] != "dora@example.org" || me["display_name"] != "Dora Explorer" || me["is_admin"] != false {
		t.Fatalf("/api/me/: %v", me)
	}
	groups, _ := json.Marshal(me["groups"])
	if string(groups) != `["demo-lantern-security","team-x"]` {
		t.Fatalf("groups mirrored as %s", groups)
	}
	list := decode(t, b.get("/api/advisories/?page_size=10"))
	if list["total"] != float64(0) || list["page_size"] != float64(10) {
		t.Fatalf("/api/advisories/: %v", list)
	}
	if r := b.get("/api/advisories/?state=bogus"); r.status != 400 || decode(t, r)["error"] != "invalid_state" {
		t.Fatalf("bad state: %d %s", r.status, r.body)
	}
	if r := b.get("/api/advisories/ECL-2222-3333-4444/"); r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("unknown advisory: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r := b.do(http.MethodDelete, "/api/advisories/", nil, map[string]string{"X-CSRFToken": b.csrf()}); r.status != 405 || r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Fatalf("DELETE /api/advisories/: %d Allow=%q", r.status, r.header.Get("Allow"))
	}

	// Unsafe requests need the CSRF token; with it, a non-admin is refused.
	if r := b.postJSON("/api/admin/maintenance/", "", `{"is_enabled": true}`); r.status != 403 || decode(t, r)["error"] != "csrf_failed" {
		t.Fatalf("no CSRF token: %d %s", r.status, r.body)
	}
	if r := b.postJSON("/api/admin/maintenance/", b.csrf(), `{"is_enabled": true}`); r.status != 403 || decode(t, r)["error"] != "forbidden" {
		t.Fatalf("non-admin maintenance toggle: %d %s", r.status, r.body)
	}

	// Sign-out (a form POST with the token) ends the session, and continues
	// to the provider's end-session endpoint.
	out := b.do(http.MethodPost, "/oidc/logout/", strings.NewReader(url.Values{"csrfmiddlewaretoken": {b.csrf()}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if out.status != 200 || !strings.Contains(out.body, "/dev/idp/logout") {
		t.Fatalf("logout: %d %s", out.status, out.body)
	}
	if r := b.get("/api/me/"); r.status != 401 {
		t.Fatalf("after logout /api/me/: %d %s", r.status, r.body)
	}
}

// Step-up: an ordinary sign-in does not satisfy it (401 step_up_required);
// a prompt=login round trip through the provider does. Maintenance mode
// then pauses everyone but admins.
func TestShimStepUpThroughDevIdP(t *testing.T) {
	base, stop := start(t, dataDir(t))
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	admin := newBrowser(t, base)
	admin.signIn("admin@example.org", "Ada Admin", "advisoryhub-security", "/api/me/")
	if me := decode(t, admin.get("/api/me/")); me["is_admin"] != true || me["step_up_fresh"] != false {
		t.Fatalf("admin /api/me/: %v", me)
	}

	stale := admin.postJSON("/api/admin/maintenance/", admin.csrf(), `{"is_enabled": true, "message": "upgrade"}`)
	body := decode(t, stale)
	if stale.status != 401 || body["error"] != "step_up_required" || body["step_up_url"] != "/oidc/step-up/" {
		t.Fatalf("stale step-up: %d %s", stale.status, stale.body)
	}

	// A second ordinary sign-in (single sign-on at the provider, old
	// auth_time) is still not a step-up.
	if r := admin.get("/oidc/authenticate/?next=/api/me/"); r.url.Path != "/api/me/" {
		t.Fatalf("signed-in login: landed on %s", r.url)
	}

	// The step-up asks the provider for a fresh login (prompt=login), which
	// shows the form again even though the provider remembers the admin.
	form := admin.get("/oidc/step-up/?next=/api/me/")
	if !strings.Contains(form.url.RawQuery, "prompt=login") || !strings.Contains(form.url.RawQuery, "max_age=0") {
		t.Fatalf("step-up went to %s", form.url)
	}
	back := admin.submitIdPForm(form, "admin@example.org", "Ada Admin", "advisoryhub-security")
	if back.url.Path != "/api/me/" || decode(t, back)["step_up_fresh"] != true {
		t.Fatalf("after step-up: %s %s", back.url, back.body)
	}

	on := admin.postJSON("/api/admin/maintenance/", admin.csrf(), `{"is_enabled": true, "message": "upgrade"}`)
	if on.status != 200 || decode(t, on)["is_enabled"] != true {
		t.Fatalf("fresh step-up: %d %s", on.status, on.body)
	}

	// Maintenance: a non-admin's unsafe request is refused before any
	// handler (503, Retry-After, JSON on /api/); signing in still works.
	carol := newBrowser(t, base)
	carol.signIn("carol@example.org", "Carol", "", "/api/me/")
	paused := carol.postJSON("/api/admin/maintenance/", carol.csrf(), `{"is_enabled": false}`)
	if paused.status != 503 || paused.header.Get("Retry-After") != "3600" || !strings.Contains(decode(t, paused)["detail"].(string), "maintenance") {
		t.Fatalf("maintenance for a non-admin: %d %v %s", paused.status, paused.header, paused.body)
	}
	if r := carol.get("/api/me/"); r.status != 200 {
		t.Fatalf("reads continue during maintenance: %d", r.status)
	}
	off := admin.postJSON("/api/admin/maintenance/", admin.csrf(), `{"is_enabled": false}`)
	if off.status != 200 || decode(t, off)["is_enabled"] != false {
		t.Fatalf("admin turns maintenance off: %d %s", off.status, off.body)
	}
}
