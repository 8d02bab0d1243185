package frontend_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/api"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
)

var cspRE = regexp.MustCompile(`^default-src 'self'; script-src 'self' 'nonce-([A-Za-z0-9+/=]{16,})' 'strict-dynamic' 'report-sample'; ` +
	`style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; form-action 'self'; ` +
	`base-uri 'none'; object-src 'none'; frame-ancestors 'none'$`)

func checkHeaders(t *testing.T, name string, r response) string {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	m := cspRE.FindStringSubmatch(csp)
	if m == nil {
		t.Errorf("%s: CSP %q", name, csp)
		return ""
	}
	for k, want := range map[string]string{
		"Permissions-Policy": middleware.PermissionsPolicy, "X-Frame-Options": "DENY",
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", name, k, got, want)
		}
	}
	if r.header.Get("Strict-Transport-Security") != "" {
		t.Errorf("%s: HSTS over plain http", name)
	}
	return m[1]
}

// Every response — HTML pages, errors, redirects, JSON, static files —
// carries the security headers, with a fresh CSP nonce each time.
func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	s := newSite(t, nil)
	anon, user := s.browser(), s.browser()
	user.signIn("hal@example.org", "")
	s.db.Exec(context.Background(), `INSERT INTO maintenance_mode (id, is_enabled) VALUES (1, false)`)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		name   string
		b      *browser
		method string
		path   string
		status int
		html   bool
	}{
		{"landing", anon, "GET", "/", 200, true},
		{"landing signed in", user, "GET", "/", 200, true},
		{"signed out page", anon, "GET", "/accounts/signed-out/", 200, true},
		{"profile", user, "GET", "/accounts/me/", 200, true},
		{"not found", anon, "GET", "/no/such/page", 404, true},
		{"csrf failure page", user, "POST", "/oidc/logout/", 403, true},
		{"sign-in refused page", anon, "GET", "/oidc/callback/?state=x&code=y", 400, true},
		{"api not found page", user, "GET", "/api/advisories/ECL-2222-3333-4444/", 404, true},
		{"healthz", anon, "GET", "/healthz", 200, false},
		{"readyz", anon, "GET", "/readyz", 200, false},
		{"static", anon, "GET", "/static/site.css", 200, false},
		{"api", user, "GET", "/api/me/", 200, false},
		{"api anonymous", anon, "GET", "/api/advisories/", 401, false},
		{"metrics", anon, "GET", "/metrics", 200, false},
		{"report form", anon, "GET", "/report/", 200, true},
		{"report form signed in", user, "GET", "/report/", 200, true},
		{"report thanks", anon, "GET", "/report/thank-you/?ref=ECL-2222-3333-4444", 200, true},
		{"report projects", anon, "GET", "/report/projects.json", 200, false},
		{"report not found", anon, "GET", "/report/no/such/page", 404, true},
		{"report invalid", anon, "POST", "/report/", 400, true},
		{"invitation page", user, "GET", "/invitations/" + strings.Repeat("A", 43) + "/", 200, true},
		{"invitation refused page", user, "POST", "/invitations/" + strings.Repeat("A", 43) + "/", 404, true},
		{"publish page, no repository", user, "GET", "/publication/ECL-2222-3333-4444/publish/", 404, true},
	}
	nonces := map[string]bool{}
	for _, tc := range cases {
		var r response
		if tc.method == "POST" && (tc.path == "/report/" || strings.HasPrefix(tc.path, "/invitations/")) {
			r = tc.b.do(tc.method, tc.path, "csrfmiddlewaretoken="+tc.b.csrf()+"&summary=x",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		} else {
			r = tc.b.do(tc.method, tc.path, "", nil)
		}
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if isHTML := strings.HasPrefix(r.header.Get("Content-Type"), "text/html"); isHTML != tc.html {
			t.Errorf("%s: Content-Type %q", tc.name, r.header.Get("Content-Type"))
		}
		nonce := checkHeaders(t, tc.name, r)
		if nonces[nonce] {
			t.Errorf("%s: nonce %q reused", tc.name, nonce)
		}
		nonces[nonce] = true
	}
	// Redirects too.
	for _, path := range []string{"/oidc/authenticate/", "/accounts/me/", "/oidc/step-up/"} {
		resp, err := noFollow.Get(s.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("%s: %d, want 302", path, resp.StatusCode)
		}
		checkHeaders(t, path, response{header: resp.Header})
	}

	// Report-only mode, a report URI, and HSTS behind a trusted TLS edge.
	s2 := newSite(t, map[string]string{"CSP_REPORT_ONLY": "true", "CSP_REPORT_URI": "/csp-report", "USE_X_FORWARDED_PROTO": "true"})
	r := s2.browser().do("GET", "/", "", map[string]string{"X-Forwarded-Proto": "https"})
	if r.header.Get("Content-Security-Policy") != "" || !strings.HasSuffix(r.header.Get("Content-Security-Policy-Report-Only"), "; report-uri /csp-report") {
		t.Errorf("report-only: %v", r.header)
	}
	if r.header.Get("Strict-Transport-Security") != middleware.HSTS {
		t.Errorf("HSTS over TLS: %q", r.header.Get("Strict-Transport-Security"))
	}
}

func apiPath(p string) string {
	return strings.NewReplacer("{advisory_id}", "ECL-2222-3333-4444", "{grant_id}", "1", "{slug}", "no-such-project",
		"{comment_id}", "1", "{invitation_id}", "1", "{task_id}", "1", "{kind}", "osv").Replace(p)
}

// Every /api/ route answers an anonymous caller 401 JSON not_authenticated
// (unsafe ones too, with or without a CSRF token).
func TestAPIAnonymousIs401(t *testing.T) {
	s := newSite(t, nil)
	b := s.browser()
	b.get("/") // a CSRF cookie, to show the 401 does not depend on it
	for _, rt := range api.Routes() {
		for _, token := range []string{"", b.csrf()} {
			r := b.do(rt.Method, apiPath(rt.Pattern), `{}`, map[string]string{"Content-Type": "application/json", "X-CSRFToken": token})
			if r.status != 401 || r.json(t)["error"] != "not_authenticated" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s anonymous: %d %s", rt.Method, rt.Pattern, r.status, r.body)
			}
		}
	}
}

// Every unsafe route refuses a missing, wrong, foreign (another session's)
// or cross-site request, and accepts the right token.
func TestUnsafeRoutesNeedCSRF(t *testing.T) {
	s := newSite(t, nil)
	var unsafe []string
	for _, rt := range (*auth.Auth)(nil).Routes() {
		if method, path, _ := strings.Cut(rt.Pattern, " "); !middleware.Safe(method) {
			unsafe = append(unsafe, method+" "+path)
		}
	}
	for _, rt := range api.Routes() {
		if !middleware.Safe(rt.Method) {
			unsafe = append(unsafe, rt.Method+" "+apiPath(rt.Pattern))
		}
	}
	unsafe = append(unsafe, "POST /report/")
	if len(unsafe) < 2 {
		t.Fatalf("unsafe routes: %v", unsafe)
	}
	other := s.browser()
	other.signIn("olga@example.org", "")
	foreign := other.csrf()
	for _, route := range unsafe {
		method, path, _ := strings.Cut(route, " ")
		b := s.browser()
		b.signIn("admin@example.org", "advisoryhub-security")
		good := b.csrf()
		for name, hdr := range map[string]map[string]string{
			"missing":    {},
			"wrong":      {"X-CSRFToken": good[:len(good)-2] + "xx"},
			"foreign":    {"X-CSRFToken": foreign},
			"cross-site": {"X-CSRFToken": good, "Sec-Fetch-Site": "cross-site"},
			"bad origin": {"X-CSRFToken": good, "Origin": "https://evil.example"},
		} {
			hdr["Content-Type"] = "application/json"
			r := b.do(method, path, `{"is_enabled": false}`, hdr)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "CSRF") && !strings.Contains(r.body, "csrf") {
				t.Errorf("%s %s, %s token: %d %s", method, path, name, r.status, r.body)
			}
		}
		r := b.do(method, path, `{"is_enabled": false}`, map[string]string{"Content-Type": "application/json", "X-CSRFToken": good})
		if r.status == http.StatusForbidden && strings.Contains(strings.ToLower(r.body), "csrf") {
			t.Errorf("%s %s with the right token refused: %s", method, path, r.body)
		}
	}
	// A token minted before sign-in is useless after it (rotation).
	b := s.browser()
	b.get("/")
	before := b.csrf()
	b.signIn("pat@example.org", "")
	if b.csrf() == before {
		t.Error("CSRF token not rotated at sign-in")
	}
	if r := b.postJSON("/api/admin/maintenance/", before, `{"is_enabled": false}`); r.status != 403 || r.json(t)["error"] != "csrf_failed" {
		t.Errorf("pre-login token: %d %s", r.status, r.body)
	}
}

func sessionRows(t *testing.T, s *site) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The session cookie: HttpOnly, SameSite=Lax, only its hash stored; the id
// rotates at every sign-in; idle and absolute timeouts end it; sign-out
// ends it and is recorded.
func TestSessionLifecycle(t *testing.T) {
	s := newSite(t, nil)
	b := s.browser()
	var setCookie string
	b.beforeRedirect = func(req *http.Request) {
		if req.Response != nil {
			for _, c := range req.Response.Header.Values("Set-Cookie") {
				if strings.HasPrefix(c, "sessionid=") && !strings.HasPrefix(c, "sessionid=;") {
					setCookie = c
				}
			}
		}
	}
	b.signIn("sam@example.org", "")
	if !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") || !strings.Contains(setCookie, "Path=/") {
		t.Fatalf("session cookie attributes: %q", setCookie)
	}
	id := b.cookie("sessionid").Value
	sum := sha256.Sum256([]byte(id))
	var stored int
	if err := s.db.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE id_hash = $1`, sum[:]).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("session row by hash: %d %v", stored, err)
	}
	var raw int
	s.db.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE encode(id_hash, 'escape') LIKE '%' || $1 || '%'`, id).Scan(&raw)
	if raw != 0 {
		t.Fatal("the cookie value is stored")
	}

	// A step-up is a new login: the id rotates, the old row is gone.
	b.stepUp("sam@example.org", "")
	if nid := b.cookie("sessionid").Value; nid == id {
		t.Fatal("session id not rotated at sign-in")
	}
	if n := sessionRows(t, s); n != 1 {
		t.Fatalf("%d session rows after rotation", n)
	}

	// Idle timeout (12 h by default).
	s.clock.Advance(11 * time.Hour)
	if r := b.get("/api/me/"); r.status != 200 {
		t.Fatalf("within the idle timeout: %d", r.status)
	}
	s.clock.Advance(13 * time.Hour)
	if r := b.get("/api/me/"); r.status != 401 {
		t.Fatalf("idle session still works: %d", r.status)
	}
	if n := sessionRows(t, s); n != 0 {
		t.Fatalf("idle session not deleted: %d rows", n)
	}

	// Absolute timeout (14 days), however active the session is.
	b.signIn("sam@example.org", "")
	for i := 0; i < 30; i++ { // 30 × 11 h < 14 d
		s.clock.Advance(11 * time.Hour)
		if r := b.get("/api/me/"); r.status != 200 {
			t.Fatalf("active session ended early, after %d h: %d", (i+1)*11, r.status)
		}
	}
	s.clock.Advance(11 * time.Hour)
	if r := b.get("/api/me/"); r.status != 401 {
		t.Fatalf("session outlived its absolute timeout: %d", r.status)
	}

	// Sign-out.
	b.signIn("sam@example.org", "")
	out := b.do("POST", "/oidc/logout/", "csrfmiddlewaretoken="+b.csrf(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if out.status != 200 || !strings.Contains(out.body, "/dev/idp/logout?") || !strings.Contains(out.body, "id_token_hint") {
		t.Fatalf("RP-initiated logout: %d %s", out.status, out.body)
	}
	if n := sessionRows(t, s); n != 0 {
		t.Fatalf("logout left %d session rows", n)
	}
	counts := accessLog(t, s)
	if counts["auth.login"] < 3 || counts["auth.logout"] != 1 || counts["auth.step_up_completed"] != 1 {
		t.Fatalf("access log: %v", counts)
	}
}

func accessLog(t *testing.T, s *site) map[string]int {
	t.Helper()
	rows, err := s.db.Query(context.Background(), `SELECT action, count(*) FROM access_log GROUP BY action`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			t.Fatal(err)
		}
		out[a] = n
	}
	return out
}

// INV-AUTH-8: a banned account cannot sign in, and a live session stops
// working at its next request. Groups are mirrored at each login (INV-OIDC-1).
func TestBannedAndGroupMirror(t *testing.T) {
	s := newSite(t, nil)
	b := s.browser()
	b.signIn("bea@example.org", "team-a, team-b@corp.example, idm_all_persons@corp.example")
	if got := b.get("/api/me/").json(t)["groups"]; len(got.([]any)) != 2 {
		t.Fatalf("groups: %v", got)
	}
	// A new login (another browser) replaces the mirror wholesale.
	c := s.browser()
	c.signIn("bea@example.org", "team-b")
	if got := c.get("/api/me/").json(t)["groups"]; len(got.([]any)) != 1 || got.([]any)[0] != "team-b" {
		t.Fatalf("groups not replaced: %v", got)
	}

	if _, err := s.db.Exec(context.Background(), `UPDATE users SET is_active = false, banned_at = now(), ban_reason = 'test' WHERE email = 'bea@example.org'`); err != nil {
		t.Fatal(err)
	}
	for _, br := range []*browser{b, c} {
		if r := br.get("/api/me/"); r.status != 401 {
			t.Fatalf("banned user's session still works: %d", r.status)
		}
	}
	if n := sessionRows(t, s); n != 0 {
		t.Fatalf("banned user's sessions kept: %d", n)
	}
	d := s.browser()
	r := d.submit(d.get("/oidc/authenticate/"), "bea@example.org", "")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "disabled") {
		t.Fatalf("banned sign-in: %d %s", r.status, r.body)
	}
	if n := sessionRows(t, s); n != 0 {
		t.Fatalf("banned sign-in made a session")
	}
	if accessLog(t, s)["auth.login_failed"] != 1 {
		t.Fatalf("failed login not recorded: %v", accessLog(t, s))
	}
}

// Step-up: stamped only after a prompt=login round trip whose auth_time is
// fresh; it goes stale after STEP_UP_MAX_AGE_SECONDS.
func TestStepUpNeedsFreshAuthTime(t *testing.T) {
	s := newSite(t, map[string]string{"STEP_UP_MAX_AGE_SECONDS": "30"})
	b := s.browser()
	b.signIn("admin@example.org", "advisoryhub-security")
	toggle := func() response { return b.postJSON("/api/admin/maintenance/", b.csrf(), `{"is_enabled": false}`) }
	if r := toggle(); r.status != 401 || r.json(t)["error"] != "step_up_required" {
		t.Fatalf("no step-up: %d %s", r.status, r.body)
	}

	// The provider authenticated the user, but the answer reaches us 45 s
	// later: auth_time is no longer fresh, nothing is stamped.
	b.beforeRedirect = func(req *http.Request) {
		if req.URL.Path == auth.CallbackPath {
			s.clock.Advance(45 * time.Second)
		}
	}
	if me := b.stepUp("admin@example.org", "advisoryhub-security").json(t); me["step_up_fresh"] != false {
		t.Fatalf("stale auth_time stamped a step-up: %v", me)
	}
	if r := toggle(); r.status != 401 {
		t.Fatalf("stale step-up accepted: %d", r.status)
	}
	b.beforeRedirect = nil

	// The marker is kept until a real step-up completes.
	if me := b.stepUp("admin@example.org", "advisoryhub-security").json(t); me["step_up_fresh"] != true {
		t.Fatalf("fresh step-up not stamped: %v", me)
	}
	if r := toggle(); r.status != 200 {
		t.Fatalf("fresh step-up refused: %d %s", r.status, r.body)
	}
	if accessLog(t, s)["auth.step_up_completed"] != 1 {
		t.Fatalf("step-up not recorded: %v", accessLog(t, s))
	}
	s.clock.Advance(31 * time.Second)
	if r := toggle(); r.status != 401 {
		t.Fatalf("step-up did not go stale: %d", r.status)
	}

	// STEP_UP_REQUIRED=false switches the mechanism off.
	off := newSite(t, map[string]string{"STEP_UP_REQUIRED": "false"})
	o := off.browser()
	o.signIn("admin@example.org", "advisoryhub-security")
	if r := o.postJSON("/api/admin/maintenance/", o.csrf(), `{"is_enabled": false}`); r.status != 200 {
		t.Fatalf("step-up off: %d %s", r.status, r.body)
	}
}

// The callback refuses a state that this browser did not start, a replay,
// and a provider error; each is recorded as a failed login.
func TestCallbackRefusals(t *testing.T) {
	s := newSite(t, nil)
	b := s.browser()
	var callback string
	b.beforeRedirect = func(req *http.Request) {
		if req.URL.Path == auth.CallbackPath {
			callback = req.URL.String()
		}
	}
	b.signIn("vic@example.org", "")
	b.beforeRedirect = nil

	if r := b.get(callback); r.status != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d %s", r.status, r.body)
	}
	stranger := s.browser()
	stranger.get("/oidc/authenticate/") // a flow of its own
	if r := stranger.get(callback); r.status != http.StatusBadRequest {
		t.Fatalf("callback in another browser: %d", r.status)
	}
	if r := b.get("/oidc/callback/?error=access_denied"); r.status != http.StatusUnauthorized {
		t.Fatalf("provider error: %d", r.status)
	}
	if got := accessLog(t, s)["auth.login_failed"]; got != 3 {
		t.Fatalf("failed logins recorded: %d", got)
	}
	// next never leaves the site.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
		if got := auth.SafeNext(next); got != "/" {
			t.Errorf("SafeNext(%q) = %q", next, got)
		}
	}
}

// Maintenance mode: HTML unsafe requests get the 503 page (HX-Refresh for
// HTMX); sign-in plumbing stays open; admins are exempt.
func TestMaintenanceMode(t *testing.T) {
	s := newSite(t, map[string]string{"STEP_UP_REQUIRED": "false"})
	admin, user := s.browser(), s.browser()
	admin.signIn("admin@example.org", "advisoryhub-security")
	user.signIn("uma@example.org", "")
	if r := admin.postJSON("/api/admin/maintenance/", admin.csrf(), `{"is_enabled": true, "message": "back soon"}`); r.status != 200 {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	r := user.do("POST", "/no/such/form/", "csrfmiddlewaretoken="+user.csrf(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"})
	if r.status != 503 || r.header.Get("Retry-After") != "3600" || r.header.Get("HX-Refresh") != "true" || !strings.Contains(r.body, "maintenance") {
		t.Fatalf("paused HTML request: %d %v", r.status, r.header)
	}
	if r := user.postJSON("/api/admin/maintenance/", user.csrf(), `{"is_enabled": false}`); r.status != 503 || r.json(t)["detail"] == nil {
		t.Fatalf("paused API request: %d %s", r.status, r.body)
	}
	out := user.do("POST", "/oidc/logout/", "csrfmiddlewaretoken="+user.csrf(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if out.status != 200 {
		t.Fatalf("logout during maintenance: %d", out.status)
	}
	if r := admin.postJSON("/api/admin/maintenance/", admin.csrf(), `{"is_enabled": false}`); r.status != 200 || r.json(t)["is_enabled"] != false {
		t.Fatalf("admin disables: %d %s", r.status, r.body)
	}
	var n int
	s.db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action IN ('maintenance.enabled', 'maintenance.disabled')`).Scan(&n)
	if n != 2 {
		t.Fatalf("maintenance toggles audited: %d", n)
	}
}

// Request metrics are exported under the matched route, never the raw path.
func TestRequestMetrics(t *testing.T) {
	s := newSite(t, nil)
	b := s.browser()
	b.get("/api/advisories/ECL-2222-3333-4444/")
	b.get("/no/such/page")
	body := b.get("/metrics").body
	for _, want := range []string{
		`advisoryhub_http_requests_total{method="GET",route="GET /api/advisories/{advisory_id}/{$}",status="401"} 1`,
		`advisoryhub_http_requests_total{method="GET",route="/",status="404"} 1`,
		`advisoryhub_http_request_duration_seconds_bucket{method="GET",route="GET /healthz"`,
	} {
		if want == `advisoryhub_http_request_duration_seconds_bucket{method="GET",route="GET /healthz"` {
			b.get("/healthz")
			body = b.get("/metrics").body
		}
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "ECL-2222") {
		t.Error("a raw path leaked into the metrics")
	}
}
