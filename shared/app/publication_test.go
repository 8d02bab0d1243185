package app_test

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/gitrepo"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// --- real remotes (the system git) ---

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(out.String())
}

// newBareRepo is an empty bare repository whose HEAD is main.
func newBareRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pub.git")
	gitCmd(t, "", "init", "--quiet", "--bare", "--initial-branch=main", dir)
	return dir
}

func commitCount(t *testing.T, bare string) int {
	t.Helper()
	if gitCmd(t, bare, "for-each-ref", "refs/heads/main") == "" {
		return 0
	}
	n, err := strconv.Atoi(gitCmd(t, bare, "rev-list", "--count", "main"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// httpRemote serves bare over smart HTTP (git http-backend behind
// net/http/cgi, TLS), accepting only basic auth x-access-token:<token>.
func httpRemote(t *testing.T, bare, token string) *httptest.Server {
	return httpRemoteHook(t, bare, token, nil)
}

// httpRemoteHook is httpRemote calling before on each request first.
func httpRemoteHook(t *testing.T, bare, token string, before func(r *http.Request)) *httptest.Server {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: gitPath, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(bare), "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=publisher",
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "HOME=" + filepath.Dir(bare)},
		InheritEnv: []string{"PATH"}, Stderr: io.Discard,
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != gitrepo.TokenUser || subtle.ConstantTimeCompare([]byte(pass), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		if before != nil {
			before(r)
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// --- fixture ---

type pubFixture struct {
	*advFixture
	bare string
	pubs *app.Publications
}

func fileRepo(t *testing.T, url string) *gitrepo.Publisher {
	t.Helper()
	repo, err := gitrepo.New(gitrepo.Config{URL: url, AuthorName: "AdvisoryHub Bot", AuthorEmail: "bot@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func newPubFixture(t *testing.T) *pubFixture {
	t.Helper()
	f := &pubFixture{advFixture: newAdvFixture(t), bare: newBareRepo(t)}
	f.pubs = f.publications(t, app.PublicationsConfig{Repo: fileRepo(t, "file://"+f.bare)})
	return f
}

func (f *pubFixture) publications(t *testing.T, cfg app.PublicationsConfig) *app.Publications {
	t.Helper()
	cfg.DB = f.db
	cfg.CVEAssignerOrgID = "b7a8d2a6-3f8c-4d3e-9a51-2d4c6b8e9f01"
	p, err := app.NewPublications(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// message is the queued run of task, as the outbox would deliver it.
func message(task publication.Task) queue.Message {
	body, _ := json.Marshal(map[string]int64{"task_id": task.ID})
	return queue.Message{ID: task.QueueMessageID, Queue: queue.Publish, Kind: app.KindRunPublication, Payload: body, Attempt: 1}
}

func (f *advFixture) task(t *testing.T, id int64) publication.Task {
	t.Helper()
	var task publication.Task
	f.exec(t, func(tx *postgres.DB) error {
		var err error
		task, err = tx.PublicationTask(f.sys, id)
		return err
	})
	return task
}

func (f *pubFixture) run(t *testing.T, p *app.Publications, task publication.Task) error {
	t.Helper()
	return p.Run(context.Background(), message(task))
}

// newestPublicationTaskID is the id of a's newest publication task, 0 if
// none; it needs no t, for the do functions.
func newestPublicationTaskID(f *advFixture, a *advisory.Advisory) (int64, error) {
	var id *int64
	err := f.db.InTx(f.sys, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT max(id) FROM publication_tasks WHERE advisory_id = $1`, a.ID).Scan(&id)
	})
	if err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

// latestTask is the newest publication task of a.
func (f *advFixture) latestTask(t *testing.T, a *advisory.Advisory) publication.Task {
	t.Helper()
	id, err := newestPublicationTaskID(f, a)
	if err != nil || id == 0 {
		t.Fatalf("no publication task (%v)", err)
	}
	return f.task(t, id)
}

// taskCount is how many publication tasks a has.
func (f *advFixture) taskCount(t *testing.T, a *advisory.Advisory) int {
	t.Helper()
	var n int
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT count(*) FROM publication_tasks WHERE advisory_id = $1`, a.ID).Scan(&n)
	})
	return n
}

func (f *pubFixture) publish(t *testing.T, c app.Caller, a *advisory.Advisory) publication.Task {
	t.Helper()
	task, err := f.pubs.Publish(context.Background(), c, a.AdvisoryID)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return task
}

func wantFailed(t *testing.T, task publication.Task, contains string) {
	t.Helper()
	t.Logf("task %d last_error: %s", task.ID, task.LastError)
	if task.Status != publication.StatusFailed || !strings.Contains(task.LastError, contains) {
		t.Errorf("task %d: status %s, last_error %q; want failed containing %q", task.ID, task.Status, task.LastError, contains)
	}
}

// --- tests ---

func TestPublishEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("L9: first publication end to end (P1, P4, P5), duplicate delivery a no-op, then L10 re-publish", func(t *testing.T) {
		f := newPubFixture(t)
		ctx := context.Background()
		a := f.draft(t, "jetty", f.jettyOwner) // mature publisher: no review needed

		task := f.publish(t, f.jettyOwner, a)
		if task.Status != publication.StatusQueued || task.VersionNumber != 1 || task.QueueMessageID == "" {
			t.Fatalf("queued task %+v", task)
		}
		var outbox int
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT count(*) FROM outbox WHERE kind = $1 AND payload->>'task_id' = $2`,
				string(app.KindRunPublication), strconv.FormatInt(task.ID, 10)).Scan(&outbox)
		})
		if outbox != 1 {
			t.Errorf("%d outbox rows for the run, want 1 (INV-PUB-5)", outbox)
		}
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		done := f.task(t, task.ID)
		head := gitCmd(t, f.bare, "rev-parse", "main")
		if done.Status != publication.StatusSucceeded || done.CommitSHA != head || done.Attempts != 1 {
			t.Fatalf("task after run %+v, head %s", done, head)
		}
		after := f.reload(t, a)
		if after.State != advisory.StatePublished || after.PublishedAt == nil || after.RepublishRequired {
			t.Errorf("advisory after run: state %s published_at %v republish %v", after.State, after.PublishedAt, after.RepublishRequired)
		}
		year := strconv.Itoa(time.Now().UTC().Year())
		wantPaths := map[publication.Kind]string{
			publication.KindOSV:  "osv/" + year + "/" + string(a.AdvisoryID) + ".json",
			publication.KindCSAF: "csaf/" + year + "/" + string(a.AdvisoryID) + ".json",
		}
		if len(done.Artifacts) != 2 {
			t.Fatalf("artifacts %+v", done.Artifacts)
		}
		for kind, path := range wantPaths {
			art, err := f.pubs.Artifact(ctx, f.jettyOwner, task.ID, kind)
			if err != nil {
				t.Fatal(err)
			}
			if art.Path != path {
				t.Errorf("%s path %q, want %q", kind, art.Path, path)
			}
			var inGit, stored any
			if err := json.Unmarshal([]byte(gitCmd(t, f.bare, "show", "main:"+path)), &inGit); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(art.Content, &stored); err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(inGit, stored) {
				t.Errorf("%s in git differs from the stored artifact", kind)
			}
		}
		if msg := gitCmd(t, f.bare, "log", "-1", "--format=%B", "main"); !strings.Contains(msg, "Publish advisory "+string(a.AdvisoryID)) ||
			!strings.Contains(msg, gitrepo.TaskTrailer+": "+publication.TrailerID(task.ID)) {
			t.Errorf("commit message %q", msg)
		}
		want := []string{"publication.export_started", "publication.osv_generated", "publication.csaf_generated",
			"publication.git_commit", "publication.git_push", "advisory.published", "publication.export_completed"}
		if got := f.actions(t, a, "publication.", "advisory.published"); !slices.Equal(got, want) {
			t.Errorf("audit %v\nwant %v", got, want)
		}

		// The same job delivered again: a no-op, no second commit.
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		if n := commitCount(t, f.bare); n != 1 {
			t.Errorf("%d commits after a duplicate delivery, want 1", n)
		}
		if got := f.task(t, task.ID); got.Attempts != 1 {
			t.Errorf("attempts %d after a duplicate delivery", got.Attempts)
		}

		// Re-publish after an edit: same paths, a new commit, the first task's
		// artifacts untouched.
		first, err := f.pubs.Artifact(ctx, f.jettyOwner, task.ID, publication.KindOSV)
		if err != nil {
			t.Fatal(err)
		}
		content := goodContent()
		content.Summary = "Path traversal in the jetty file server (updated)"
		if _, err := f.svc.Edit(ctx, f.jettyOwner, a.AdvisoryID, content); err != nil {
			t.Fatal(err)
		}
		if !f.reload(t, a).RepublishRequired {
			t.Fatal("edit of a published advisory did not set republish_required")
		}
		again := f.publish(t, f.jettyOwner, a)
		if again.VersionNumber != 2 {
			t.Errorf("re-publish pinned v%d, want v2", again.VersionNumber)
		}
		if err := f.run(t, f.pubs, again); err != nil {
			t.Fatal(err)
		}
		if n := commitCount(t, f.bare); n != 2 {
			t.Errorf("%d commits after re-publish, want 2", n)
		}
		if got := f.task(t, again.ID); got.Status != publication.StatusSucceeded || got.Artifacts[0].Path != first.Path && got.Artifacts[1].Path != first.Path {
			t.Errorf("re-publish task %+v", got)
		}
		if !strings.Contains(gitCmd(t, f.bare, "show", "main:"+wantPaths[publication.KindOSV]), "(updated)") {
			t.Error("re-published OSV not updated in place")
		}
		still, err := f.pubs.Artifact(ctx, f.jettyOwner, task.ID, publication.KindOSV)
		if err != nil || !bytes.Equal(still.Content, first.Content) {
			t.Errorf("first task's artifact changed (err %v)", err)
		}
		after2 := f.reload(t, a)
		if !after2.PublishedAt.Equal(*after.PublishedAt) || after2.RepublishRequired {
			t.Errorf("published_at moved (%v → %v) or republish kept", after.PublishedAt, after2.PublishedAt)
		}
		tasks, err := f.pubs.Tasks(ctx, f.viewer, a.AdvisoryID)
		if err != nil || len(tasks) != 0 && tasks[0].ID != again.ID {
			t.Errorf("tasks newest first: %v %v", tasks, err)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestPublishConcurrentRequests(t *testing.T) {
	t.Parallel()
	t.Run("P1: concurrent publishes, the second refused in progress (INV-CONCURRENCY-1)", func(t *testing.T) {
		f := newPubFixture(t)
		a := f.draft(t, "jetty", f.jettyOwner)
		var (
			wg   sync.WaitGroup
			errs = make([]error, 2)
		)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.pubs.Publish(context.Background(), f.jettyOwner, a.AdvisoryID)
			}()
		}
		wg.Wait()
		ok, conflict := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, advisory.ErrPublicationInProgress):
				conflict++
			default:
				t.Errorf("unexpected error %v", err)
			}
		}
		if tasks := f.taskCount(t, a); ok != 1 || conflict != 1 || tasks != 1 {
			t.Errorf("%d ok, %d in_progress, %d tasks; want 1, 1, 1 (INV-CONCURRENCY-1)", ok, conflict, tasks)
		}
		// The index backs the check even without the lock.
		err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
			v, err := tx.LatestVersion(f.sys, a.ID)
			if err != nil {
				return err
			}
			_, err = tx.InsertPublicationTask(f.sys, a.ID, v.ID, 0)
			return err
		})
		if !errors.Is(err, advisory.ErrPublicationInProgress) {
			t.Errorf("second active task: %v, want in progress", err)
		}
	})
}

// TestPublishFaults: each failure leaves the task failed with a readable
// reason and the advisory unchanged; a retry (a new task) then succeeds.
func TestPublishFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("P6: push rejected, then P3 retry succeeds", func(t *testing.T) {
		t.Parallel()
		f := newPubFixture(t)
		hook := filepath.Join(f.bare, "hooks", "pre-receive")
		if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		a := f.draft(t, "jetty", f.jettyOwner)
		task := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatalf("a rejected push is not redelivered: %v", err)
		}
		wantFailed(t, f.task(t, task.ID), "git: push: push rejected")
		f.wantUnpublished(t, a, "publication.git_push_failed")
		if err := os.Remove(hook); err != nil {
			t.Fatal(err)
		}
		f.retrySucceeds(t, f.pubs, task, a)
	})

	t.Run("P6: non-fast-forward push, then P3 retry succeeds", func(t *testing.T) {
		t.Parallel()
		f := newPubFixture(t)
		a := f.draft(t, "jetty", f.jettyOwner)
		const token = "ghs_NffT0kenValue1234567890abcdefXYZ0"
		// Another publisher moves the branch between the worker's fetch
		// and its push: the push is refused, nothing is rebased.
		var once sync.Once
		srv := httpRemoteHook(t, f.bare, token, func(r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/git-receive-pack") && r.Method == http.MethodPost {
				once.Do(func() { otherPublisher(t, f.bare) })
			}
		})
		p := f.publications(t, app.PublicationsConfig{
			Repo: tokenRepo(t, srv.URL+"/"+filepath.Base(f.bare), token, srv.Client()), Token: token})
		task := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, p, task); err == nil {
			t.Error("a lost race is not handed back for redelivery")
		}
		wantFailed(t, f.task(t, task.ID), "non-fast-forward")
		f.wantUnpublished(t, a, "publication.git_push_failed")
		if n := commitCount(t, f.bare); n != 1 {
			t.Errorf("%d commits, want only the other publisher's", n)
		}
		f.retrySucceeds(t, p, task, a)
	})

	t.Run("P6: remote down, then P3 retry succeeds", func(t *testing.T) {
		t.Parallel()
		f := newPubFixture(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		down := f.publications(t, app.PublicationsConfig{Repo: tokenRepo(t, "https://"+addr+"/pub.git", "ghs_DownT0kenValue1234567890abcdefXYZ", nil),
			Token: "ghs_DownT0kenValue1234567890abcdefXYZ"})
		a := f.draft(t, "jetty", f.jettyOwner)
		task := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, down, task); err == nil {
			t.Error("an unreachable remote is not handed back for redelivery")
		}
		wantFailed(t, f.task(t, task.ID), "unreachable")
		f.wantUnpublished(t, a, "publication.git_push_failed")
		f.retrySucceeds(t, f.pubs, task, a)
	})

	t.Run("P6: schema failure, nothing pushed (INV-PUB-6), then P3 retry succeeds", func(t *testing.T) {
		t.Parallel()
		f := newPubFixture(t)
		a := f.draft(t, "jetty", f.jettyOwner)
		// A version whose payload the OSV schema refuses (a severity type
		// OSV does not know); the domain validator would refuse it at
		// edit time, so it is planted directly.
		f.sql(t, a, `UPDATE advisories SET severity = '[{"type": "BOGUS", "score": "x"}]'::jsonb WHERE id = $1`)
		f.exec(t, func(tx *postgres.DB) error {
			_, _, err := tx.AppendVersion(f.sys, a.ID, 0, postgres.AppendIfChanged)
			return err
		})
		task := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		got := f.task(t, task.ID)
		wantFailed(t, got, "validation: osv")
		if len(got.Artifacts) != 0 {
			t.Errorf("artifacts stored for an invalid document: %+v", got.Artifacts)
		}
		if n := commitCount(t, f.bare); n != 0 {
			t.Errorf("%d commits: an invalid document reached git (INV-PUB-6)", n)
		}
		f.wantUnpublished(t, a, "publication.export_failed")
		if _, err := f.svc.Edit(ctx, f.jettyOwner, a.AdvisoryID, goodContent()); err != nil {
			t.Fatal(err)
		}
		f.retrySucceeds(t, f.pubs, task, a)
	})

	t.Run("P3: retry of a queued task refused (not failed), P1 publish refused in progress", func(t *testing.T) {
		t.Parallel()
		f := newPubFixture(t)
		a := f.draft(t, "jetty", f.jettyOwner)
		task := f.publish(t, f.jettyOwner, a)
		if _, err := f.pubs.Retry(ctx, f.jettyOwner, task.ID); !errors.Is(err, publication.ErrNotFailed) {
			t.Errorf("retry of a queued task: %v, want not failed", err)
		}
		if _, err := f.pubs.Publish(ctx, f.jettyOwner, a.AdvisoryID); !errors.Is(err, advisory.ErrPublicationInProgress) {
			t.Errorf("publish while queued: %v, want in progress", err)
		}
	})
}

// otherPublisher commits a file onto main with the git CLI.
func otherPublisher(t *testing.T, bare string) {
	work := t.TempDir()
	gitCmd(t, work, "init", "--quiet", "--initial-branch=main")
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("publication repo\n"), 0o644); err != nil {
		t.Error(err)
		return
	}
	gitCmd(t, work, "add", "README.md")
	gitCmd(t, work, "-c", "user.name=Other", "-c", "user.email=other@example.org", "-c", "commit.gpgsign=false",
		"commit", "--quiet", "-m", "other publisher")
	gitCmd(t, work, "push", "--quiet", bare, "HEAD:refs/heads/main")
}

func tokenRepo(t *testing.T, url, token string, client *http.Client) *gitrepo.Publisher {
	t.Helper()
	repo, err := gitrepo.New(gitrepo.Config{URL: url, Token: token, HTTPClient: client,
		AuthorName: "AdvisoryHub Bot", AuthorEmail: "bot@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func (f *pubFixture) wantUnpublished(t *testing.T, a *advisory.Advisory, action string) {
	t.Helper()
	after := f.reload(t, a)
	if after.State != a.State || after.PublishedAt != nil {
		t.Errorf("state %s (published_at %v) after a failure, want %s unchanged", after.State, after.PublishedAt, a.State)
	}
	acts := f.actions(t, a, "publication.export_failed", "publication.git_push_failed", "advisory.published")
	if !slices.Equal(acts, []string{action}) {
		t.Errorf("failure audit %v, want [%s]", acts, action)
	}
}

func (f *pubFixture) retrySucceeds(t *testing.T, p *app.Publications, failed publication.Task, a *advisory.Advisory) publication.Task {
	t.Helper()
	task, err := p.Retry(context.Background(), f.jettyOwner, failed.ID)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if task.ID == failed.ID {
		t.Fatal("retry reused the failed row")
	}
	if err := f.run(t, p, task); err != nil {
		t.Fatal(err)
	}
	got := f.task(t, task.ID)
	if got.Status != publication.StatusSucceeded || got.CommitSHA == "" {
		t.Fatalf("retried task %+v", got)
	}
	if f.reload(t, a).State != advisory.StatePublished {
		t.Error("advisory not published after the retry")
	}
	if old := f.task(t, failed.ID); old.Status != publication.StatusFailed {
		t.Errorf("old task %s, want failed", old.Status)
	}
	return got
}

// TestPublishCrashAfterPush: the push lands and the final transaction
// does not; a redelivery or a retry finalizes without a second commit.
func TestPublishCrashAfterPush(t *testing.T) {
	t.Parallel()
	for how, name := range map[string]string{
		"redelivery": "P4: crash after push, the redelivery re-runs the failed task in place and finalizes",
		"retry":      "P3: crash after push, a retry finalizes without a second push",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newPubFixture(t)
			crashes := 1
			app.SetBeforeFinalize(f.pubs, func(int64) error {
				if crashes > 0 {
					crashes--
					return errors.New("worker lost before the final transaction")
				}
				return nil
			})
			a := f.draft(t, "jetty", f.jettyOwner)
			task := f.publish(t, f.jettyOwner, a)
			if err := f.run(t, f.pubs, task); err == nil {
				t.Fatal("a failed final transaction is not handed back for redelivery")
			}
			wantFailed(t, f.task(t, task.ID), "finalize")
			if n := commitCount(t, f.bare); n != 1 {
				t.Fatalf("%d commits after the crashed run, want 1", n)
			}
			head := gitCmd(t, f.bare, "rev-parse", "main")
			if f.reload(t, a).State != advisory.StateDraft {
				t.Fatal("state moved without the final transaction")
			}
			var done publication.Task
			if how == "redelivery" {
				m := message(task)
				m.Attempt = 2
				if err := f.pubs.Run(context.Background(), m); err != nil {
					t.Fatal(err)
				}
				done = f.task(t, task.ID)
				if done.Attempts != 2 {
					t.Errorf("attempts %d, want 2", done.Attempts)
				}
			} else {
				done = f.retrySucceeds(t, f.pubs, task, a)
			}
			if done.Status != publication.StatusSucceeded || done.CommitSHA != head {
				t.Errorf("task %+v, want succeeded at %s", done, head)
			}
			if n := commitCount(t, f.bare); n != 1 {
				t.Errorf("%d commits after recovery, want 1 (no second push)", n)
			}
			if f.reload(t, a).State != advisory.StatePublished {
				t.Error("not published after recovery")
			}
		})
	}
}

// TestPublishTokenNeverStored publishes in token mode through a smart-HTTP
// remote, once with a wrong token and once with the right one, then looks
// for either token in every row of every table (INV-SECRET-1..3).
func TestPublishTokenNeverStored(t *testing.T) {
	t.Parallel()
	f := newPubFixture(t)
	const (
		token = "ghs_R1ghtT0kenValue1234567890abcdefXYZ"
		wrong = "plain-wrong-token-without-a-known-prefix-42"
	)
	srv := httpRemote(t, f.bare, token)
	url := srv.URL + "/" + filepath.Base(f.bare)
	bad := f.publications(t, app.PublicationsConfig{Repo: tokenRepo(t, url, wrong, srv.Client()), Token: wrong})
	good := f.publications(t, app.PublicationsConfig{Repo: tokenRepo(t, url, token, srv.Client()), Token: token})

	a := f.draft(t, "jetty", f.jettyOwner)
	task := f.publish(t, f.jettyOwner, a)
	if err := f.run(t, bad, task); err != nil {
		t.Fatalf("bad credentials are not redelivered: %v", err)
	}
	wantFailed(t, f.task(t, task.ID), "authentication")
	f.wantUnpublished(t, a, "publication.git_push_failed")
	f.retrySucceeds(t, good, task, a)
	if n := commitCount(t, f.bare); n != 1 {
		t.Errorf("%d commits", n)
	}

	for _, secret := range []string{token, wrong} {
		var hits []string
		f.exec(t, func(tx *postgres.DB) error {
			rows, err := tx.Query(f.sys, `SELECT table_name FROM information_schema.tables
				WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
			if err != nil {
				return err
			}
			tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if len(tables) < 10 {
				t.Fatalf("only %d tables found", len(tables))
			}
			for _, tbl := range tables {
				var n int
				q := `SELECT count(*) FROM ` + pgx.Identifier{tbl}.Sanitize() + ` t WHERE strpos(t::text, $1) > 0`
				if err := tx.QueryRow(f.sys, q, secret).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					hits = append(hits, tbl)
				}
			}
			return nil
		})
		if len(hits) > 0 {
			t.Errorf("a token is stored in %v", hits)
		}
	}
}

func TestReapStaleTasks(t *testing.T) {
	t.Parallel()
	f := newPubFixture(t)
	ctx := context.Background()
	now := time.Now()
	p := f.publications(t, app.PublicationsConfig{Now: func() time.Time { return now }})

	mk := func(status string, createdAgo, startedAgo time.Duration) (*advisory.Advisory, int64) {
		a := f.draft(t, "jetty", f.jettyOwner)
		task := f.publish(t, f.jettyOwner, a)
		var started any
		if startedAgo > 0 {
			started = now.Add(-startedAgo)
		}
		f.sql(t, a, `UPDATE publication_tasks SET status = $2, created_at = $3, started_at = $4 WHERE advisory_id = $1`,
			status, now.Add(-createdAgo), started)
		return a, task.ID
	}
	staleRunning, runID := mk("running", 3*time.Hour, 1801*time.Second)
	freshRunning, freshRunID := mk("running", 3*time.Hour, 10*time.Minute)
	staleQueued, queuedID := mk("queued", 7201*time.Second, 0)
	freshQueued, freshQueuedID := mk("queued", 30*time.Minute, 0)
	_, noStartID := mk("running", 31*time.Minute, 0) // started_at unset: created_at counts
	before := map[*advisory.Advisory]int{}
	for _, a := range []*advisory.Advisory{staleRunning, freshRunning, staleQueued, freshQueued} {
		before[a] = len(f.audits(t, a))
	}

	res, err := p.Reap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("P7: stale running and queued tasks reaped, the advisory untouched", func(t *testing.T) {
		if res != (app.ReapResult{ReapedRunning: 2, ReapedQueued: 1}) {
			t.Errorf("reap %+v, want 2 running, 1 queued", res)
		}
		wantFailed(t, f.task(t, runID), "reaped: task stuck in 'running' for 1801s (worker likely lost mid-run); safe to retry")
		wantFailed(t, f.task(t, queuedID), "reaped: task stuck in 'queued' for 7201s (enqueue likely lost to a broker outage); safe to retry")
		wantFailed(t, f.task(t, noStartID), "reaped: task stuck in 'running' for 1860s")
		for a, want := range map[*advisory.Advisory]map[string]any{
			staleRunning: {"previous_status": "running", "age_seconds": float64(1801), "stale_after_seconds": float64(1800)},
			staleQueued:  {"previous_status": "queued", "age_seconds": float64(7201), "stale_after_seconds": float64(7200)},
		} {
			if f.reload(t, a).State != advisory.StateDraft {
				t.Error("reaper touched the advisory")
			}
			rows := f.audits(t, a)[before[a]:]
			if len(rows) != 1 || rows[0].Action != "publication.task_reaped" || rows[0].ActorID != f.jettyOwner.UserID {
				t.Fatalf("reap audit %+v, want one publication.task_reaped for the enqueuer", rows)
			}
			for k, v := range want {
				if rows[0].Metadata[k] != v {
					t.Errorf("reap audit %s = %v, want %v", k, rows[0].Metadata[k], v)
				}
			}
			if !strings.HasPrefix(fmt.Sprint(rows[0].Metadata["error"]), "reaped: ") {
				t.Errorf("reap audit error %v", rows[0].Metadata["error"])
			}
		}
	})
	t.Run("P7: fresh running and queued tasks refused (not reaped, nothing written)", func(t *testing.T) {
		for a, id := range map[*advisory.Advisory]int64{freshRunning: freshRunID, freshQueued: freshQueuedID} {
			if got := f.task(t, id); got.Status == publication.StatusFailed {
				t.Errorf("fresh task %d reaped", id)
			}
			if got := f.newActions(t, a, before[a]); len(got) != 0 {
				t.Errorf("fresh task %d: audit %v", id, got)
			}
		}
	})
	t.Run("P7: a reaped task can be retried (P3); a second reap finds nothing", func(t *testing.T) {
		if _, err := p.Retry(ctx, f.jettyOwner, runID); err != nil {
			t.Errorf("retry after reap: %v", err)
		}
		again, err := p.Reap(ctx)
		if err != nil || again != (app.ReapResult{}) {
			t.Errorf("second reap %+v %v, want nothing", again, err)
		}
	})
}

// TestPublishWithdrawal: a publication of a withdrawal version re-exports
// the documents as withdrawn and then dismisses the advisory (L12).
func TestPublishWithdrawal(t *testing.T) {
	t.Parallel()
	t.Run("L12: withdrawal run re-exports the documents as withdrawn and dismisses", func(t *testing.T) {
		f := newPubFixture(t)
		ctx := context.Background()
		a := f.draft(t, "jetty", f.jettyOwner)
		first := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, f.pubs, first); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Withdraw(ctx, f.jettyOwner, a.AdvisoryID, "Not a vulnerability after all."); err != nil {
			t.Fatal(err)
		}
		task := f.latestTask(t, a) // queued by the withdrawal itself (L12)
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		done := f.task(t, task.ID)
		after := f.reload(t, a)
		if done.Status != publication.StatusSucceeded || after.State != advisory.StateDismissed ||
			after.DismissedFromState != advisory.StatePublished || after.DismissedReason != "Not a vulnerability after all." || after.RepublishRequired {
			t.Fatalf("after withdrawal: task %s, advisory %s from %s reason %q republish %v",
				done.Status, after.State, after.DismissedFromState, after.DismissedReason, after.RepublishRequired)
		}
		art, err := f.pubs.Artifact(ctx, f.jettyOwner, task.ID, publication.KindOSV)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(gitCmd(t, f.bare, "show", "main:"+art.Path), `"withdrawn"`) {
			t.Error("the OSV in git is not marked withdrawn")
		}
		rows := f.audits(t, a)
		var tail []string
		for _, r := range rows[len(rows)-3:] {
			tail = append(tail, r.Action)
		}
		if !slices.Equal(tail, []string{"advisory.dismissed", "advisory.state_changed", "publication.export_completed"}) {
			t.Errorf("withdrawal audit tail %v", tail)
		}
		if last := rows[len(rows)-1]; last.Action != "publication.export_completed" {
			t.Errorf("last %v", last)
		}
		if _, err := f.pubs.Publish(ctx, f.admin, a.AdvisoryID); err == nil {
			t.Error("a dismissed advisory was queued for publication")
		}
	})
}

// TestPublishWithdrawalOrphansCVE: the withdrawal of a CVE-bearing advisory
// exports the REJECTED CVE record, then orphans the CVE (O2).
func TestPublishWithdrawalOrphansCVE(t *testing.T) {
	t.Parallel()
	t.Run("L12: withdrawal of a CVE-bearing advisory exports REJECTED and orphans the CVE (O2)", func(t *testing.T) {
		f := newPubFixture(t)
		ctx := context.Background()
		a := f.draft(t, "jetty", f.jettyOwner)
		content := goodContent()
		content.References = []advisory.Reference{{Type: "ADVISORY", URL: "https://jetty.example.org/security/1"}}
		if _, err := f.svc.Edit(ctx, f.jettyOwner, a.AdvisoryID, content); err != nil {
			t.Fatal(err)
		}
		f.sql(t, a, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-12345' WHERE id = $1`)
		f.exec(t, func(tx *postgres.DB) error {
			_, _, err := tx.AppendVersion(f.sys, a.ID, 0, postgres.AppendIfChanged)
			return err
		})
		first := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, f.pubs, first); err != nil {
			t.Fatal(err)
		}
		if got := f.task(t, first.ID); got.Status != publication.StatusSucceeded || len(got.Artifacts) != 3 {
			t.Fatalf("CVE-bearing publish: %+v", got)
		}
		if gitCmd(t, f.bare, "ls-tree", "--name-only", "main", "cves/2026/12xxx/") != "cves/2026/12xxx/CVE-2026-12345.json" {
			t.Error("CVE record not at the cvelistV5 path")
		}
		if _, err := f.svc.Withdraw(ctx, f.jettyOwner, a.AdvisoryID, "Duplicate of another advisory."); err != nil {
			t.Fatal(err)
		}
		task := f.latestTask(t, a) // queued by the withdrawal itself (L12)
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		if got := f.task(t, task.ID); got.Status != publication.StatusSucceeded {
			t.Fatalf("withdrawal task %+v", got)
		}
		if !strings.Contains(gitCmd(t, f.bare, "show", "main:cves/2026/12xxx/CVE-2026-12345.json"), `"REJECTED"`) {
			t.Error("the CVE record in git is not REJECTED")
		}
		after := f.reload(t, a)
		if after.State != advisory.StateDismissed || after.AssignedCVEID != "" || after.RepublishRequired {
			t.Errorf("after withdrawal: state %s cve %q republish %v", after.State, after.AssignedCVEID, after.RepublishRequired)
		}
		var orphans int
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT count(*) FROM orphan_cves WHERE cve_id = 'CVE-2026-12345'`).Scan(&orphans)
		})
		if orphans != 1 || !slices.Contains(f.actions(t, a, "cve."), "cve.unassigned") {
			t.Errorf("%d orphans, audit %v", orphans, f.actions(t, a, "cve."))
		}
	})
}

func TestRunEntryGuard(t *testing.T) {
	t.Parallel()
	f := newPubFixture(t)
	ctx := context.Background()
	bad := queue.Message{ID: "m", Queue: queue.Publish, Kind: app.KindRunPublication, Payload: []byte(`{"task":1}`)}
	t.Run("P4: pickup of a bad payload refused (permanent)", func(t *testing.T) {
		if err := f.pubs.Run(ctx, bad); !queue.IsPermanent(err) {
			t.Errorf("bad payload: %v, want permanent", err)
		}
	})
	t.Run("P4: pickup of a missing task refused (no-op)", func(t *testing.T) {
		missing := bad
		missing.Payload = []byte(`{"task_id": 424242}`)
		if err := f.pubs.Run(ctx, missing); err != nil {
			t.Errorf("missing task: %v, want a no-op", err)
		}
	})
	t.Run("P4: pickup of a running task refused (another delivery at work)", func(t *testing.T) {
		a := f.draft(t, "jetty", f.jettyOwner)
		task := f.publish(t, f.jettyOwner, a)
		f.sql(t, a, `UPDATE publication_tasks SET status = 'running', attempts = 1 WHERE advisory_id = $1`)
		before := len(f.audits(t, a))
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		if got := f.task(t, task.ID); got.Attempts != 1 || got.Status != publication.StatusRunning || commitCount(t, f.bare) != 0 {
			t.Errorf("a running task was run again: %+v", got)
		}
		if got := f.newActions(t, a, before); len(got) != 0 {
			t.Errorf("a no-op pickup wrote %v", got)
		}
	})
}
