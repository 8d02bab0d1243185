package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/api"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/gitrepo"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// TestMain serves every test of package api_test (the only one using a
// database in this directory).
func TestMain(m *testing.M) { pgtest.Main(m) }

// pubAPI is the /api/ handler over a real database and a file:// bare
// repository, with the signed-in user injected per request (the session
// middleware's job, tested elsewhere).
type pubAPI struct {
	t       *testing.T
	db      *postgres.DB
	h       http.Handler
	pubs    *app.Publications
	bare    string
	owner   *auth.User
	outside *auth.User
	id      advisory.ID
}

func newPubAPI(t *testing.T, withPublications bool) *pubAPI {
	t.Helper()
	ctx := context.Background()
	sys := postgres.AsSystem(ctx)
	p := &pubAPI{t: t, db: pgtest.New(t)}
	const adminGroup = "advisoryhub-security"
	if _, err := p.db.EnsureUnsortedProject(sys, adminGroup); err != nil {
		t.Fatal(err)
	}
	var team, ownerID, outsideID int64
	err := p.db.InTx(sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		if err := tx.QueryRow(sys, `INSERT INTO groups (name) VALUES ('jetty-security') RETURNING id`).Scan(&team); err != nil {
			return err
		}
		if _, err := tx.Exec(sys, `INSERT INTO projects (slug, name, security_team_id, is_mature_publisher)
			VALUES ('jetty', 'Eclipse Jetty', $1, true)`, team); err != nil {
			return err
		}
		if err := tx.QueryRow(sys, `INSERT INTO users (email) VALUES ('owner@example.org') RETURNING id`).Scan(&ownerID); err != nil {
			return err
		}
		if _, err := tx.Exec(sys, `INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)`, ownerID, team); err != nil {
			return err
		}
		return tx.QueryRow(sys, `INSERT INTO users (email) VALUES ('outside@example.org') RETURNING id`).Scan(&outsideID)
	})
	if err != nil {
		t.Fatal(err)
	}
	p.owner = &auth.User{ID: ownerID, Email: "owner@example.org", GroupIDs: []int64{team}}
	p.outside = &auth.User{ID: outsideID, Email: "outside@example.org"}

	advs, err := app.NewAdvisories(app.AdvisoriesConfig{DB: p.db})
	if err != nil {
		t.Fatal(err)
	}
	a, err := advs.CreateDraft(ctx, app.Caller{UserID: ownerID, GroupIDs: []int64{team}}, app.NewDraft{ProjectSlug: "jetty", Content: advisory.Content{
		Summary: "Request smuggling in the jetty HTTP parser", Details: "A crafted header splits requests.",
		Affected: []advisory.Affected{{Package: advisory.Package{Ecosystem: "Maven", Name: "org.eclipse.jetty:jetty-http"}, Versions: []string{"12.0.1"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p.id = a.AdvisoryID

	p.bare = filepath.Join(t.TempDir(), "pub.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", p.bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	if withPublications {
		repo, err := gitrepo.New(gitrepo.Config{URL: "file://" + p.bare, AuthorName: "Bot", AuthorEmail: "bot@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if p.pubs, err = app.NewPublications(app.PublicationsConfig{DB: p.db, Repo: repo}); err != nil {
			t.Fatal(err)
		}
	}

	logger := slog.New(slog.DiscardHandler)
	web := config.Web{SessionSecret: config.NewSecret("a-test-session-secret"), SessionIdleTimeout: time.Hour, SessionMaxAge: time.Hour}
	oidc := config.OIDC{AdminGroup: adminGroup, StepUpRequired: true, StepUpMaxAge: 5 * time.Minute}
	sessions, err := app.NewSessions(app.SessionsConfig{DB: p.db, AdminGroup: adminGroup, IdleTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Config{DB: p.db, Sessions: sessions, OIDC: oidc, Web: web, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	projects, err := app.NewProjects(app.ProjectsConfig{DB: p.db, AdminGroup: adminGroup})
	if err != nil {
		t.Fatal(err)
	}
	comments, err := app.NewComments(app.CommentsConfig{DB: p.db})
	if err != nil {
		t.Fatal(err)
	}
	grants, err := app.NewGrants(app.GrantsConfig{DB: p.db})
	if err != nil {
		t.Fatal(err)
	}
	maint, err := app.NewMaintenance(p.db)
	if err != nil {
		t.Fatal(err)
	}
	limiter, err := ratelimit.New(ratelimit.Config{DB: p.db, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Config{Auth: au, Advisories: advs, Projects: projects, Comments: comments, Grants: grants,
		Maintenance: maint, Publications: p.pubs, Limiter: limiter, Logger: logger,
		NotFound: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "<h1>Not found</h1>")
		})})
	if err != nil {
		t.Fatal(err)
	}
	p.h = h
	return p
}

type reply struct {
	status int
	body   string
	ctype  string
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (p *pubAPI) do(u *auth.User, method, path string) reply {
	p.t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/json")
	}
	r = r.WithContext(auth.WithUser(r.Context(), u))
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	return reply{status: w.Code, body: w.Body.String(), ctype: w.Header().Get("Content-Type")}
}

func steppedUp(u *auth.User) *auth.User {
	c := *u
	now := time.Now()
	c.StepUpAt = &now
	return &c
}

func TestPublicationAPI(t *testing.T) {
	p := newPubAPI(t, true)
	base := "/api/advisories/" + string(p.id) + "/"

	if r := p.do(p.owner, "GET", base+"publication/"); r.status != 200 || r.body != `{"tasks":[]}` {
		t.Fatalf("no tasks: %d %s", r.status, r.body)
	}
	if r := p.do(p.outside, "GET", base+"publication/"); r.status != 404 || !strings.HasPrefix(r.ctype, "text/html") {
		t.Fatalf("invisible advisory: %d %s", r.status, r.body)
	}
	// Permission first, then the step-up (permissions §13).
	if r := p.do(steppedUp(p.outside), "POST", base+"publish/"); r.status != 404 {
		t.Fatalf("outsider publish: %d %s", r.status, r.body)
	}
	r := p.do(p.owner, "POST", base+"publish/")
	if r.status != 401 || r.json(t)["error"] != "step_up_required" || r.json(t)["step_up_url"] == nil {
		t.Fatalf("publish without step-up: %d %s", r.status, r.body)
	}
	r = p.do(steppedUp(p.owner), "POST", base+"publish/")
	if r.status != 202 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	task := r.json(t)
	var keys []string
	for k := range task {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"advisory_id", "artifacts", "attempts", "commit_sha", "created_at", "finished_at", "id", "last_error", "started_at", "status"}
	if !slices.Equal(keys, want) || task["status"] != "queued" || task["advisory_id"] != string(p.id) || task["started_at"] != nil {
		t.Fatalf("task %s", r.body)
	}
	if r := p.do(steppedUp(p.owner), "POST", base+"publish/"); r.status != 409 || r.json(t)["error"] != "in_progress" {
		t.Fatalf("second publish: %d %s", r.status, r.body)
	}

	// The worker runs the queued message.
	id := int64(task["id"].(float64))
	body, _ := json.Marshal(map[string]int64{"task_id": id})
	if err := p.pubs.Run(context.Background(), queue.Message{ID: "m-1", Queue: queue.Publish, Kind: app.KindRunPublication, Payload: body, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	r = p.do(p.owner, "GET", base+"publication/")
	tasks := r.json(t)["tasks"].([]any)
	done := tasks[0].(map[string]any)
	if len(tasks) != 1 || done["status"] != "succeeded" || done["commit_sha"] == "" || len(done["artifacts"].([]any)) != 2 {
		t.Fatalf("after run: %s", r.body)
	}
	taskPath := "/api/publication/tasks/" + jsonNumber(id) + "/"
	r = p.do(p.owner, "GET", taskPath+"artifact/osv/")
	art := r.json(t)
	if r.status != 200 || art["kind"] != "osv" || !strings.HasPrefix(art["path"].(string), "osv/") || art["content"].(map[string]any)["id"] != string(p.id) {
		t.Fatalf("osv artifact: %d %s", r.status, r.body)
	}
	for _, kind := range []string{"cve", "html"} {
		if r := p.do(p.owner, "GET", taskPath+"artifact/"+kind+"/"); r.status != 400 || r.json(t)["error"] != "invalid_kind" {
			t.Fatalf("artifact %s: %d %s", kind, r.status, r.body)
		}
	}
	if r := p.do(p.outside, "GET", taskPath+"artifact/osv/"); r.status != 404 {
		t.Fatalf("outsider artifact: %d %s", r.status, r.body)
	}
	if r := p.do(p.owner, "GET", "/api/publication/tasks/999999/artifact/osv/"); r.status != 404 {
		t.Fatalf("unknown task: %d %s", r.status, r.body)
	}
	if r := p.do(steppedUp(p.owner), "POST", taskPath+"retry/"); r.status != 400 || r.json(t)["error"] != "not_failed" {
		t.Fatalf("retry of a succeeded task: %d %s", r.status, r.body)
	}
	if r := p.do(p.owner, "DELETE", taskPath+"retry/"); r.status != 405 || r.body != "" {
		t.Fatalf("unlisted method: %d %s", r.status, r.body)
	}

	// 10 publish/retry hits per hour per user (this one made 4 so far
	// that reached the limiter).
	var last reply
	for range 7 {
		last = p.do(steppedUp(p.owner), "POST", base+"publish/")
	}
	if last.status != 429 || last.json(t)["error"] != "rate_limited" {
		t.Fatalf("11th hit: %d %s", last.status, last.body)
	}
}

func TestPublicationAPIUnavailable(t *testing.T) {
	p := newPubAPI(t, false)
	if r := p.do(p.owner, "GET", "/api/advisories/"+string(p.id)+"/publication/"); r.status != 503 || r.json(t)["error"] != "publication_unavailable" {
		t.Fatalf("without publications: %d %s", r.status, r.body)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }
