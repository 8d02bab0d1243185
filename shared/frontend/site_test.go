package frontend_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/devidp"
	"github.com/eclipse-csi/advisoryhub/shared/frontend"
	"github.com/eclipse-csi/advisoryhub/shared/gitrepo"
	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/metrics"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is the fake time shared by the site and its identity provider.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// site is the web handler, as boot builds it, with the development
// provider mounted at /dev/idp/ on the same test server (as the local shim
// does), on a database of its own.
type site struct {
	t       testing.TB
	db      *pgtest.Database
	srv     *httptest.Server
	clock   *clock
	metrics *metrics.Prometheus
	cfg     config.Config
}

func newSite(t testing.TB, env map[string]string) *site {
	t.Helper()
	s := &site{t: t, db: pgtest.Open(t), clock: &clock{t: time.Now().Truncate(time.Second)}}
	var h http.Handler
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(s.srv.Close)
	vars := map[string]string{
		"ADVISORYHUB_ENV": "development", "ADVISORYHUB_BASE_URL": s.srv.URL,
		"OIDC_ISSUER_URL": s.srv.URL + "/dev/idp", "OIDC_RP_CLIENT_ID": "ah", "OIDC_RP_CLIENT_SECRET": "shh",
		"SESSION_SECRET": "a-test-session-secret-of-some-length",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	logger := slog.New(slog.DiscardHandler)
	sessions, err := app.NewSessions(app.SessionsConfig{DB: s.db.DB, AdminGroup: cfg.OIDC.AdminGroup, IdleTimeout: cfg.Web.SessionIdleTimeout})
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Config{DB: s.db.DB, Sessions: sessions, OIDC: cfg.OIDC, Web: cfg.Web,
		Logger: logger, Now: s.clock.Now, HTTPClient: s.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	adv, err := app.NewAdvisories(app.AdvisoriesConfig{DB: s.db.DB})
	if err != nil {
		t.Fatal(err)
	}
	maint, err := app.NewMaintenance(s.db.DB)
	if err != nil {
		t.Fatal(err)
	}
	projects, err := app.NewProjects(app.ProjectsConfig{DB: s.db.DB, AdminGroup: cfg.OIDC.AdminGroup})
	if err != nil {
		t.Fatal(err)
	}
	comments, err := app.NewComments(app.CommentsConfig{DB: s.db.DB, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	grants, err := app.NewGrants(app.GrantsConfig{DB: s.db.DB, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	in, err := app.NewIntake(app.IntakeConfig{DB: s.db.DB, Now: s.clock.Now, ALTCHAKey: []byte(cfg.Intake.ALTCHAKey.Value())})
	if err != nil {
		t.Fatal(err)
	}
	limiter, err := ratelimit.New(ratelimit.Config{DB: s.db.DB, Enabled: cfg.RateLimit.Enabled, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Publication, when the test names a repository (PUB_REPO_URL).
	var pubs *app.Publications
	if u := vars["PUB_REPO_URL"]; u != "" {
		repo, err := gitrepo.New(gitrepo.Config{URL: u, AuthorName: "Bot", AuthorEmail: "bot@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if pubs, err = app.NewPublications(app.PublicationsConfig{DB: s.db.DB, Repo: repo}); err != nil {
			t.Fatal(err)
		}
	}
	s.metrics = metrics.NewPrometheus()
	web, err := frontend.Build(frontend.Config{Publications: pubs,
		Logger: logger, Health: health.New(logger, health.Check{Name: "db", Run: s.db.Ping}),
		Auth: au, DB: s.db.DB, Advisories: adv, Projects: projects, Comments: comments, Grants: grants,
		Maintenance: maint, Intake: in, Limiter: limiter, RateLimit: cfg.RateLimit, IntakeDisabled: cfg.Intake.Disabled,
		Web: cfg.Web, Metrics: s.metrics, MetricsHandler: s.metrics.Handler(),
	})
	if err != nil {
		t.Fatal(err)
	}
	idp, err := devidp.New(devidp.Config{Issuer: cfg.OIDC.IssuerURL, ClientID: "ah", ClientSecret: "shh",
		Logger: logger, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dev/idp/", idp.Handler())
	mux.Handle("/", web)
	h = mux
	return s
}

// browser is a cookie-jar client that follows redirects; beforeRedirect,
// when set, runs before each redirect is followed.
type browser struct {
	s              *site
	c              *http.Client
	beforeRedirect func(*http.Request)
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	b := &browser{s: s}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if b.beforeRedirect != nil {
			b.beforeRedirect(req)
		}
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

type response struct {
	status int
	header http.Header
	body   string
	url    *url.URL
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("status %d, body %q: %v", r.status, r.body, err)
	}
	return m
}

func (b *browser) do(method, path string, body string, header map[string]string) response {
	b.s.t.Helper()
	target := path
	if strings.HasPrefix(path, "/") {
		target = b.s.srv.URL + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, rd)
	if err != nil {
		b.s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(raw), url: resp.Request.URL}
}

func (b *browser) get(path string) response { return b.do(http.MethodGet, path, "", nil) }

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.s.srv.URL + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) csrf() string {
	if c := b.cookie("csrftoken"); c != nil {
		return c.Value
	}
	b.s.t.Fatal("no csrftoken cookie")
	return ""
}

func (b *browser) postJSON(path, token, body string) response {
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["X-CSRFToken"] = token
	}
	return b.do(http.MethodPost, path, body, h)
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// submit fills the provider's sign-in form shown by page.
func (b *browser) submit(page response, email, groups string) response {
	b.s.t.Helper()
	m := formAction.FindStringSubmatch(page.body)
	if m == nil {
		b.s.t.Fatalf("no sign-in form (%d at %s):\n%s", page.status, page.url, page.body)
	}
	form := url.Values{"email": {email}, "name": {strings.Split(email, "@")[0]}, "groups": {groups}}
	return b.do(http.MethodPost, html.UnescapeString(m[1]), form.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// signIn signs in through the provider by real redirects and returns the
// page it lands on.
func (b *browser) signIn(email, groups string) response {
	b.s.t.Helper()
	r := b.get("/oidc/authenticate/?next=/api/me/")
	if r.url.Path != "/api/me/" { // else: single sign-on at the provider
		r = b.submit(r, email, groups)
	}
	if r.status != http.StatusOK || r.url.Path != "/api/me/" {
		b.s.t.Fatalf("sign-in of %s landed at %s with %d:\n%s", email, r.url, r.status, r.body)
	}
	return r
}

// stepUp completes a step-up round trip, landing on /api/me/.
func (b *browser) stepUp(email, groups string) response {
	b.s.t.Helper()
	return b.submit(b.get("/oidc/step-up/?next=/api/me/"), email, groups)
}
