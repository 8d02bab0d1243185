package app_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/intake"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

var testALTCHAKey = []byte("altcha-test-key")

func newIntake(t *testing.T, f *advFixture, clk *fakeClock, key []byte) *app.Intake {
	t.Helper()
	s, err := app.NewIntake(app.IntakeConfig{DB: f.db, ALTCHAKey: key, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// counts is what the intake tables and queues hold.
type counts struct{ Advisories, Sidecars, Honeypots, Grants, Audit, Jobs int }

func (f *advFixture) counts(t *testing.T) counts {
	t.Helper()
	var c counts
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT (SELECT count(*) FROM advisories WHERE state = 'triage'),
			(SELECT count(*) FROM advisory_intake_metadata), (SELECT count(*) FROM honeypot_submissions),
			(SELECT count(*) FROM access_grants), (SELECT count(*) FROM audit_log), (SELECT count(*) FROM outbox)`).
			Scan(&c.Advisories, &c.Sidecars, &c.Honeypots, &c.Grants, &c.Audit, &c.Jobs)
	})
	return c
}

func report(slug string) intake.Report {
	return intake.Report{ProjectSlug: slug, Summary: "SQL injection in search", Details: "Send `' OR 1=1`.", DisplayName: "Rae"}
}

func TestSubmitReport(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	clk := &fakeClock{t: time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)}
	svc := newIntake(t, f, clk, nil)
	ctx := context.Background()
	anon := app.Caller{IP: "203.0.113.5", UserAgent: "curl/8"}
	reporter := f.stranger
	reporter.IP, reporter.UserAgent = "203.0.113.6", "Firefox"

	type sidecar struct {
		Reporter int64
		Name, IP string
		UA       string
		Routing  bool
	}
	readSidecar := func(t *testing.T, id advisory.ID) (*advisory.Advisory, sidecar) {
		t.Helper()
		var (
			a  *advisory.Advisory
			sc sidecar
		)
		f.exec(t, func(tx *postgres.DB) error {
			var err error
			if a, err = tx.AdvisoryByID(f.sys, id); err != nil {
				return err
			}
			return tx.QueryRow(f.sys, `SELECT COALESCE(reporter_user_id, 0), reporter_display_name, COALESCE(host(submitted_ip), ''),
				submitted_user_agent, needs_admin_routing FROM advisory_intake_metadata WHERE advisory_id = $1`, a.ID).
				Scan(&sc.Reporter, &sc.Name, &sc.IP, &sc.UA, &sc.Routing)
		})
		return a, sc
	}

	t.Run("L1: anonymous report on a known project", func(t *testing.T) {
		rc, err := svc.Submit(ctx, anon, app.Submission{Report: report("lantern")})
		if err != nil || rc.Honeypot || !validRef(string(rc.Ref)) {
			t.Fatalf("Submit: %+v %v", rc, err)
		}
		a, sc := readSidecar(t, rc.Ref)
		if a.State != advisory.StateTriage || a.Project.Slug != "lantern" || a.Content.Summary != "SQL injection in search" {
			t.Errorf("advisory %+v", a)
		}
		if (sc != sidecar{Name: "Rae", IP: "203.0.113.5", UA: "curl/8"}) {
			t.Errorf("sidecar %+v", sc)
		}
		if n := f.versionCount(t, a); n != 1 {
			t.Errorf("%d versions, want v1", n)
		}
		rows := f.audits(t, a)
		if len(rows) != 1 || rows[0].Action != "advisory.triage_submitted" || rows[0].ActorID != 0 || rows[0].IP != "203.0.113.5" {
			t.Errorf("audit %+v", rows)
		}
		if got := f.grantRows(t, a); len(got) != 0 {
			t.Errorf("anonymous reporter got grants %v", got)
		}
	})
	// INV-INTAKE-4.
	t.Run("L1: I don't know: unsorted, flagged (INV-INTAKE-4)", func(t *testing.T) {
		rc, err := svc.Submit(ctx, anon, app.Submission{Report: report(intake.UnsortedChoice)})
		if err != nil {
			t.Fatal(err)
		}
		a, sc := readSidecar(t, rc.Ref)
		if a.Project.Slug != "unsorted" || !sc.Routing || !a.Routing.NeedsAdminRouting {
			t.Errorf("project %s routing %v", a.Project.Slug, sc.Routing)
		}
		// Admins own it through the sentinel's team; the lantern team does not see it.
		if _, err := f.svc.Get(ctx, f.admin, a.AdvisoryID); err != nil {
			t.Errorf("admin: %v", err)
		}
		if _, err := f.svc.Get(ctx, f.owner, a.AdvisoryID); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("lantern owner: %v", err)
		}
	})
	// INV-INTAKE-3.
	t.Run("L1: signed-in reporter gets viewer (INV-INTAKE-3)", func(t *testing.T) {
		rc, err := svc.Submit(ctx, reporter, app.Submission{Report: report("jetty")})
		if err != nil {
			t.Fatal(err)
		}
		a, sc := readSidecar(t, rc.Ref)
		if sc.Reporter != reporter.UserID || sc.Routing {
			t.Errorf("sidecar %+v", sc)
		}
		if got := f.grantRows(t, a); len(got) != 1 || got[0] != "user:"+itoa(reporter.UserID)+":viewer" {
			t.Errorf("grants %v", got)
		}
		if got := f.actions(t, a, ""); strings.Join(got, ",") != "advisory.triage_submitted,access.granted" {
			t.Errorf("audit %v", got)
		}
		// The reporter may view and comment publicly, not edit (INV-AUTH-5).
		if _, err := f.svc.Get(ctx, reporter, a.AdvisoryID); err != nil {
			t.Errorf("reporter view: %v", err)
		}
		if _, err := f.svc.Edit(ctx, reporter, a.AdvisoryID, advisory.Content{Summary: "x", Details: "y"}); apperr.KindOf(err) != apperr.Forbidden {
			t.Errorf("reporter edit: %v", err)
		}
		// A signed-in user's form has no honeypot: the field is ignored.
		rc2, err := svc.Submit(ctx, reporter, app.Submission{Report: report("jetty"), Honeypot: "filled"})
		if err != nil || rc2.Honeypot {
			t.Errorf("signed-in with honeypot value: %+v %v", rc2, err)
		}
	})
	t.Run("L1: invalid input refused, writes nothing", func(t *testing.T) {
		before := f.counts(t)
		for _, r := range []intake.Report{{}, {ProjectSlug: "nope", Summary: "s", Details: "d"}, {ProjectSlug: "unsorted", Summary: "s", Details: "d"}} {
			if _, err := svc.Submit(ctx, anon, app.Submission{Report: r}); apperr.KindOf(err) != apperr.Invalid {
				t.Errorf("Submit(%+v): %v", r, err)
			}
		}
		if after := f.counts(t); after != before {
			t.Errorf("counts %+v → %+v", before, after)
		}
	})
}

// INV-INTAKE-1: a honeypot trip writes one honeypot row and nothing else,
// and answers like a real report.
func TestSubmitHoneypot(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	clk := &fakeClock{t: time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)}
	svc := newIntake(t, f, clk, nil)
	anon := app.Caller{IP: "203.0.113.7", UserAgent: "spambot"}
	before := f.counts(t)
	rc, err := svc.Submit(context.Background(), anon, app.Submission{Report: report("lantern"), Honeypot: "http://spam.example"})
	if err != nil || !rc.Honeypot || !validRef(string(rc.Ref)) {
		t.Fatalf("Submit: %+v %v", rc, err)
	}
	after := f.counts(t)
	want := before
	want.Honeypots++
	if after != want {
		t.Errorf("counts %+v, want %+v", after, want)
	}
	var ip, ua, val string
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT host(submitted_ip), submitted_user_agent, honeypot_field_value FROM honeypot_submissions`).Scan(&ip, &ua, &val)
	})
	if ip != "203.0.113.7" || ua != "spambot" || val != "http://spam.example" {
		t.Errorf("honeypot row %q %q %q", ip, ua, val)
	}
	// The decoy reference names no advisory.
	if _, err := f.svc.Get(context.Background(), f.admin, rc.Ref); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("decoy ref resolves: %v", err)
	}
	// Validation still runs first, as for a real report.
	if _, err := svc.Submit(context.Background(), anon, app.Submission{Report: intake.Report{}, Honeypot: "x"}); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("invalid honeypot submission: %v", err)
	}
}

// INV-INTAKE-2: the report has no email field at all.
func TestReportHasNoEmailField(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeOf(intake.Report{}), reflect.TypeOf(app.Submission{}), reflect.TypeOf(postgres.IntakeMetadata{})} {
		for i := range typ.NumField() {
			if strings.Contains(strings.ToLower(typ.Field(i).Name), "mail") {
				t.Errorf("%s has field %s", typ, typ.Field(i).Name)
			}
		}
	}
}

func TestSubmitALTCHA(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	clk := &fakeClock{t: time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)}
	svc := newIntake(t, f, clk, testALTCHAKey)
	ctx := context.Background()
	anon := app.Caller{IP: "203.0.113.8"}
	solve := func(t *testing.T) string {
		t.Helper()
		c, err := svc.Challenge()
		if err != nil {
			t.Fatal(err)
		}
		n, ok := intake.Solve(c)
		if !ok {
			t.Fatal("unsolvable challenge")
		}
		return intake.EncodeSolution(c, n)
	}
	good := solve(t)
	if _, err := svc.Submit(ctx, anon, app.Submission{Report: report("lantern"), ALTCHA: good}); err != nil {
		t.Fatalf("valid solution: %v", err)
	}
	before := f.counts(t)
	for name, tc := range map[string]struct {
		payload string
		want    error
	}{
		"missing": {"", intake.ErrALTCHA},
		"replay":  {good, intake.ErrReplayed},
	} {
		if _, err := svc.Submit(ctx, anon, app.Submission{Report: report("lantern"), ALTCHA: tc.payload}); !errors.Is(err, tc.want) || apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Replay through the honeypot path is refused the same way.
	if _, err := svc.Submit(ctx, anon, app.Submission{Report: report("lantern"), ALTCHA: good, Honeypot: "x"}); !errors.Is(err, intake.ErrReplayed) {
		t.Errorf("honeypot replay: %v", err)
	}
	expired := solve(t)
	clk.Add(time.Hour)
	if _, err := svc.Submit(ctx, anon, app.Submission{Report: report("lantern"), ALTCHA: expired}); !errors.Is(err, intake.ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	if after := f.counts(t); after != before {
		t.Errorf("refused submissions wrote: %+v → %+v", before, after)
	}
	// Signed-in reporters skip the proof of work.
	if _, err := svc.Submit(ctx, f.stranger, app.Submission{Report: report("lantern")}); err != nil {
		t.Errorf("signed-in without ALTCHA: %v", err)
	}
	if n, err := svc.PruneReplayMarkers(ctx); err != nil || n != 1 {
		t.Errorf("prune: %d %v", n, err)
	}
	_ = access.PermissionViewer
}

func TestReportProjects(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	svc := newIntake(t, f, &fakeClock{t: time.Now()}, nil)
	all, err := svc.Projects(context.Background(), "")
	if err != nil || len(all) != 2 || all[0].Slug != "jetty" || all[1].Slug != "lantern" {
		t.Errorf("all: %+v %v", all, err)
	}
	some, _ := svc.Projects(context.Background(), "LANT")
	if len(some) != 1 || some[0].Name != "Eclipse Lantern" {
		t.Errorf("q=LANT: %+v", some)
	}
	none, _ := svc.Projects(context.Background(), "unsorted")
	if none == nil || len(none) != 0 {
		t.Errorf("unsorted leaks: %+v", none)
	}
	wild, _ := svc.Projects(context.Background(), "%")
	if len(wild) != 0 {
		t.Errorf("LIKE wildcard not escaped: %+v", wild)
	}
}

func validRef(s string) bool { _, err := advisory.ParseID(s); return err == nil }
