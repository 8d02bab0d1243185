package report_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/net/html"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/intake"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
	"github.com/eclipse-csi/advisoryhub/shared/report"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

type world struct {
	db  *postgres.DB
	h   http.Handler
	sys context.Context
}

func newWorld(t *testing.T, anon ratelimit.Rule, altchaKey []byte) *world {
	t.Helper()
	db := pgtest.New(t)
	w := &world{db: db, sys: postgres.AsSystem(context.Background())}
	if _, err := db.EnsureUnsortedProject(w.sys, "advisoryhub-security"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(w.sys, `WITH g AS (INSERT INTO groups (name) VALUES ('lantern-security') RETURNING id)
		INSERT INTO projects (slug, name, security_team_id) SELECT 'lantern', 'Eclipse Lantern', id FROM g`); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 5, 7, 12, 30, 0, 0, time.UTC)}
	in, err := app.NewIntake(app.IntakeConfig{DB: db, Now: clk.now, ALTCHAKey: altchaKey})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{DB: db, Enabled: true, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	w.h, err = report.New(report.Config{
		Intake: in, Limiter: lim, AnonRule: anon, UserRule: ratelimit.MustParse("20/h"),
		Caller: func(r *http.Request) app.Caller {
			c := app.Caller{IP: middleware.ClientIP(r, 0), UserAgent: r.UserAgent()}
			if u := auth.UserFrom(r.Context()); u != nil {
				c.UserID, c.GroupIDs = u.ID, u.GroupIDs
			}
			return c
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) post(ip string, form url.Values, ctx context.Context) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, report.FormPath, strings.NewReader(form.Encode()))
	if ctx != nil {
		r = r.WithContext(ctx)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "test-agent")
	r.RemoteAddr = ip + ":40000"
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

func (w *world) get(target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = "192.0.2.50:1234"
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

type tally struct{ Advisories, Honeypots, Audit, Grants, Jobs int }

func (w *world) tally(t *testing.T) tally {
	t.Helper()
	var c tally
	if err := w.db.InTx(w.sys, pgxOpts, func(tx *postgres.DB) error {
		return tx.QueryRow(w.sys, `SELECT (SELECT count(*) FROM advisories), (SELECT count(*) FROM honeypot_submissions),
			(SELECT count(*) FROM audit_log), (SELECT count(*) FROM access_grants), (SELECT count(*) FROM outbox)`).
			Scan(&c.Advisories, &c.Honeypots, &c.Audit, &c.Grants, &c.Jobs)
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func reportForm() url.Values {
	return url.Values{"project_slug": {"lantern"}, "summary": {"RCE in uploader"}, "details": {"Upload a *.jsp*."}}
}

var refRE = regexp.MustCompile(`ECL(-[23456789cfghjmpqrvwx]{4}){3}`)

// INV-INTAKE-1: a honeypot trip and a real report get the same status,
// headers and body, apart from the per-request reference; and the pages
// they lead to are the same apart from it too.
func TestHoneypotLooksLikeARealReport(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ratelimit.MustParse("5/h"), nil)
	before := w.tally(t)
	real := w.post("203.0.113.1", reportForm(), nil)
	afterReal := w.tally(t)
	bot := reportForm()
	bot.Set("website", "http://cheap-pills.example")
	trap := w.post("203.0.113.2", bot, nil)
	afterTrap := w.tally(t)

	if real.Code != http.StatusSeeOther {
		t.Fatalf("real report: %d %s", real.Code, real.Body)
	}
	norm := func(s string) string { return refRE.ReplaceAllString(s, "ECL-REF") }
	if real.Code != trap.Code || norm(real.Body.String()) != norm(trap.Body.String()) {
		t.Errorf("responses differ: %d %q vs %d %q", real.Code, real.Body, trap.Code, trap.Body)
	}
	if len(real.Header()) != len(trap.Header()) {
		t.Errorf("headers differ: %v vs %v", real.Header(), trap.Header())
	}
	for k := range real.Header() {
		if norm(real.Header().Get(k)) != norm(trap.Header().Get(k)) {
			t.Errorf("header %s: %q vs %q", k, real.Header().Get(k), trap.Header().Get(k))
		}
	}
	realLoc, trapLoc := real.Header().Get("Location"), trap.Header().Get("Location")
	if !refRE.MatchString(realLoc) || !refRE.MatchString(trapLoc) || realLoc == trapLoc {
		t.Errorf("locations %q %q: want two different advisory-shaped references", realLoc, trapLoc)
	}
	p1, p2 := w.get(realLoc), w.get(trapLoc)
	if p1.Code != 200 || p1.Code != p2.Code || norm(p1.Body.String()) != norm(p2.Body.String()) {
		t.Errorf("thank-you pages differ:\n%s\n---\n%s", p1.Body, p2.Body)
	}
	// What was written: the real one an advisory (+ audit, job), the trap
	// only its honeypot row.
	if afterReal.Advisories != before.Advisories+1 || afterReal.Honeypots != before.Honeypots {
		t.Errorf("real report wrote %+v → %+v", before, afterReal)
	}
	want := afterReal
	want.Honeypots++
	if afterTrap != want {
		t.Errorf("honeypot wrote %+v, want %+v", afterTrap, want)
	}
}

// INV-RATELIMIT-1: past the limit the answer is 429 with Retry-After and
// nothing at all is written — honeypot or not.
func TestRateLimitWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ratelimit.MustParse("2/h"), nil)
	for i := range 2 {
		if rec := w.post("198.51.100.9", reportForm(), nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("report %d: %d", i, rec.Code)
		}
	}
	before := w.tally(t)
	bot := reportForm()
	bot.Set("website", "x")
	for _, f := range []url.Values{reportForm(), bot, {}} {
		rec := w.post("198.51.100.9", f, nil)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1800" ||
			rec.Body.String() != ratelimit.PlainMessage || rec.Header().Get("Location") != "" {
			t.Errorf("over the limit: %d Retry-After %q body %q", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	if after := w.tally(t); after != before {
		t.Errorf("throttled requests wrote: %+v → %+v", before, after)
	}
	// Another address, and a signed-in user (per-user key), are not
	// throttled.
	if rec := w.post("198.51.100.10", reportForm(), nil); rec.Code != http.StatusSeeOther {
		t.Errorf("other IP: %d", rec.Code)
	}
}

// INV-INTAKE-2: the form has no email field, and an email sent anyway is
// ignored.
func TestFormHasNoEmailField(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ratelimit.MustParse("5/h"), []byte("k"))
	rec := w.get(report.FormPath)
	if rec.Code != 200 {
		t.Fatalf("GET form: %d", rec.Code)
	}
	doc, err := html.Parse(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "input" || n.Data == "textarea" || n.Data == "select") {
			var name, typ string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "type":
					typ = a.Val
				}
			}
			fields = append(fields, name)
			if strings.Contains(strings.ToLower(name), "mail") || typ == "email" {
				t.Errorf("form has an email field: %s type=%s", name, typ)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	want := "csrfmiddlewaretoken,project_slug,summary,details,reporter_display_name,website"
	if strings.Join(fields, ",") != want {
		t.Errorf("fields %v, want %s", fields, want)
	}
	if !strings.Contains(rec.Body.String(), `<altcha-widget challengeurl="/report/altcha/challenge.json"`) {
		t.Error("anonymous form without the ALTCHA widget")
	}
	// A signed-in reporter sees neither honeypot nor widget.
	r := httptest.NewRequest(http.MethodGet, report.FormPath, nil)
	r = r.WithContext(auth.WithUser(r.Context(), &auth.User{ID: 1, Email: "rae@example.org"}))
	rec = httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	if strings.Contains(rec.Body.String(), `name="website"`) || strings.Contains(rec.Body.String(), "altcha-widget") {
		t.Error("signed-in form has the honeypot or the widget")
	}
}

func TestSignedInReportAndEmailIgnored(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ratelimit.MustParse("5/h"), nil)
	var uid int64
	if err := w.db.QueryRow(w.sys, `INSERT INTO users (email) VALUES ('rae@example.org') RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	f := reportForm()
	f.Set("project_slug", intake.UnsortedChoice)
	f.Set("email", "someone-else@example.org")
	f.Set("reporter_email", "someone-else@example.org")
	ctx := auth.WithUser(context.Background(), &auth.User{ID: uid, Email: "rae@example.org"})
	rec := w.post("203.0.113.30", f, ctx)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("signed-in report: %d %s", rec.Code, rec.Body)
	}
	var (
		reporter int64
		routing  bool
		perm     string
	)
	if err := w.db.InTx(w.sys, pgxOpts, func(tx *postgres.DB) error {
		return tx.QueryRow(w.sys, `SELECT im.reporter_user_id, im.needs_admin_routing, g.permission
			FROM advisory_intake_metadata im JOIN access_grants g ON g.advisory_id = im.advisory_id`).Scan(&reporter, &routing, &perm)
	}); err != nil {
		t.Fatal(err)
	}
	if reporter != uid || !routing || perm != "viewer" {
		t.Errorf("reporter %d routing %v grant %q", reporter, routing, perm)
	}
	var n int
	_ = w.db.QueryRow(w.sys, `SELECT count(*) FROM audit_log WHERE metadata::text LIKE '%someone-else%'`).Scan(&n)
	if n != 0 {
		t.Error("a submitted email reached the audit log")
	}
}

func TestValidationReRenders(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ratelimit.MustParse("5/h"), nil)
	rec := w.post("203.0.113.40", url.Values{"project_slug": {"lantern"}, "summary": {"<b>x</b>"}}, nil)
	body := rec.Body.String()
	if rec.Code != http.StatusBadRequest || !strings.Contains(body, "this field is required") ||
		!strings.Contains(body, `value="&lt;b&gt;x&lt;/b&gt;"`) || !strings.Contains(body, `<option value="lantern" selected>`) {
		t.Errorf("re-render: %d\n%s", rec.Code, body)
	}
	f := reportForm()
	f.Set("project_slug", "nope")
	if rec := w.post("203.0.113.41", f, nil); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "unknown project") {
		t.Errorf("unknown project: %d", rec.Code)
	}
}

func TestProjectsJSONAndChallenge(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ratelimit.MustParse("5/h"), []byte("altcha-key"))
	rec := w.get(report.ProjectsPath + "?q=lan")
	var got []map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 ||
		rec.Header().Get("Cache-Control") != "public, max-age=300" || len(got) != 1 || got[0]["slug"] != "lantern" {
		t.Errorf("projects.json: %d %q %s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
	}
	if rec := w.get(report.ProjectsPath + "?q=unsorted"); rec.Body.String() != "[]" {
		t.Errorf("unsorted in picker: %s", rec.Body)
	}
	rec = w.get(report.ChallengePath)
	var c intake.Challenge
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || c.Algorithm != "SHA-256" || c.Signature == "" {
		t.Fatalf("challenge: %s", rec.Body)
	}
	n, ok := intake.Solve(c)
	if !ok {
		t.Fatal("unsolvable")
	}
	f := reportForm()
	f.Set("altcha", intake.EncodeSolution(c, n))
	if rec := w.post("203.0.113.60", f, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("solved report: %d", rec.Code)
	}
	if rec := w.post("203.0.113.61", f, nil); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "anti-robot") {
		t.Errorf("replayed solution: %d", rec.Code)
	}
	if rec := w.post("203.0.113.62", reportForm(), nil); rec.Code != http.StatusBadRequest {
		t.Errorf("no solution: %d", rec.Code)
	}
}

var pgxOpts = pgx.TxOptions{}
