package boot_test

import (
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/metrics"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
)

// The booted graph publishes end to end: publish → outbox → in-memory
// queue → the publication.run handler → a commit in a bare repository
// over file:// → the task succeeded; the reaper is scheduled.
func TestBootPublication(t *testing.T) {
	d := pgtest.Open(t)
	bare := filepath.Join(t.TempDir(), "pub.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	ctx := context.Background()
	a, err := boot.New(ctx, load(t, map[string]string{"DATABASE_URL": d.AppURL, "PUB_REPO_URL": "file://" + bare,
		"PUB_CSAF_PATH_TEMPLATE": "csaf/{year}/{advisory_id_lower}.json",
		"PUB_CSAF_PROVIDER_URL":  "https://advisories.example.org/.well-known/csaf/"}),
		boot.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			a.Close(ctx)
		}
	}()
	if !slices.Contains(a.Runner.Kinds(), app.KindRunPublication) {
		t.Errorf("kinds %v lack %s", a.Runner.Kinds(), app.KindRunPublication)
	}
	var reaper bool
	for _, s := range a.Registry.ScheduledJobs() {
		reaper = reaper || s.Name == "publication-task-reaper" && s.Every.Minutes() == 10
	}
	if !reaper {
		t.Error("publication-task-reaper is not scheduled every 10 minutes")
	}

	sys := postgres.AsSystem(ctx)
	var team, owner int64
	err = a.DB.InTx(sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		if err := tx.QueryRow(sys, `INSERT INTO groups (name) VALUES ('jetty-security') RETURNING id`).Scan(&team); err != nil {
			return err
		}
		if _, err := tx.Exec(sys, `INSERT INTO projects (slug, name, security_team_id, is_mature_publisher) VALUES ('jetty', 'Eclipse Jetty', $1, true)`, team); err != nil {
			return err
		}
		if err := tx.QueryRow(sys, `INSERT INTO users (email) VALUES ('o@example.org') RETURNING id`).Scan(&owner); err != nil {
			return err
		}
		_, err := tx.Exec(sys, `INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)`, owner, team)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := app.Caller{UserID: owner, GroupIDs: []int64{team}}
	advs, err := app.NewAdvisories(app.AdvisoriesConfig{DB: a.DB})
	if err != nil {
		t.Fatal(err)
	}
	adv, err := advs.CreateDraft(ctx, c, app.NewDraft{ProjectSlug: "jetty", Content: advisory.Content{
		Summary: "Header injection in jetty", Details: "A crafted header.",
		Affected: []advisory.Affected{{Package: advisory.Package{Ecosystem: "Maven", Name: "org.eclipse.jetty:jetty-server"}, Versions: []string{"12.0.0"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	task, err := a.Publications.Publish(ctx, c, adv.AdvisoryID)
	if err != nil {
		t.Fatal(err)
	}
	// Close drains the in-memory queue: the run has finished after it.
	closed = true
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, d.AppURL, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var done publication.Task
	err = db.InTx(sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		done, err = tx.PublicationTask(sys, task.ID)
		return err
	})
	if err != nil || done.Status != publication.StatusSucceeded || done.CommitSHA == "" {
		t.Fatalf("task after the queue drained: %+v %v", done, err)
	}
	out, err := exec.Command("git", "-C", bare, "log", "-1", "--format=%B", "main").CombinedOutput()
	if err != nil {
		t.Fatalf("no commit on main: %v %s", err, out)
	}
	if !strings.Contains(string(out), "Publish advisory "+string(adv.AdvisoryID)) || !strings.Contains(string(out), publication.TrailerID(task.ID)) {
		t.Errorf("commit message %q", out)
	}

	// The repository is a CSAF provider: the layout files are derived in
	// the same commit as the document (issue 7 item 6).
	tree, err := exec.Command("git", "-C", bare, "ls-tree", "-r", "--name-only", "main").CombinedOutput()
	if err != nil {
		t.Fatalf("ls-tree: %v %s", err, tree)
	}
	doc := "csaf/" + time.Now().UTC().Format("2006") + "/" + strings.ToLower(string(adv.AdvisoryID)) + ".json"
	for _, want := range []string{doc, doc + ".sha256", doc + ".sha512", "csaf/provider-metadata.json", "csaf/index.txt", "csaf/changes.csv"} {
		if !strings.Contains("\n"+string(tree), "\n"+want+"\n") {
			t.Errorf("%s missing from the published tree:\n%s", want, tree)
		}
	}
	index, _ := exec.Command("git", "-C", bare, "show", "main:csaf/index.txt").CombinedOutput()
	if !strings.Contains(string(index), strings.TrimPrefix(doc, "csaf/")) {
		t.Errorf("index.txt does not list %s:\n%s", doc, index)
	}

	// Outside Lambda the publication series land in the registry the web
	// serves at /metrics, beside the job series.
	prom, ok := a.Metrics.(*metrics.Prometheus)
	if !ok {
		t.Fatalf("recorder %T outside Lambda, want the Prometheus registry", a.Metrics)
	}
	families, err := prom.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, want := range []string{metrics.PublicationTotal, metrics.PublicationStageTotal, metrics.PublicationDuration, metrics.JobTotal} {
		if !got[want] {
			t.Errorf("%s not recorded (have %v)", want, got)
		}
	}
}
