package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// sidecarPII is the PII state of one intake sidecar.
type sidecarPII struct {
	ReporterUserID *int64
	DisplayName    string
	IP             *string
	UserAgent      string
	ClearedAt      *time.Time
}

func (s sidecarPII) scrubbed() bool {
	return s.ReporterUserID == nil && s.DisplayName == "" && s.IP == nil && s.UserAgent == "" && s.ClearedAt != nil
}

type honeypotPII struct {
	IP        *string
	UserAgent string
	Value     string
	ClearedAt *time.Time
}

func (h honeypotPII) scrubbed() bool {
	return h.IP == nil && h.UserAgent == "" && h.Value == "" && h.ClearedAt != nil
}

type pruneFixture struct {
	db  *postgres.DB
	sys context.Context
}

func (f *pruneFixture) exec(t *testing.T, stmts ...string) {
	t.Helper()
	err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		for _, s := range stmts {
			if _, err := tx.Exec(f.sys, s); err != nil {
				t.Logf("%s", s)
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *pruneFixture) sidecar(t *testing.T, advisoryID string) sidecarPII {
	t.Helper()
	var s sidecarPII
	err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT m.reporter_user_id, m.reporter_display_name, host(m.submitted_ip),
				m.submitted_user_agent, m.pii_cleared_at
			FROM advisory_intake_metadata m JOIN advisories a ON a.id = m.advisory_id
			WHERE a.advisory_id = $1`, advisoryID).
			Scan(&s.ReporterUserID, &s.DisplayName, &s.IP, &s.UserAgent, &s.ClearedAt)
	})
	if err != nil {
		t.Fatalf("sidecar of %s: %v", advisoryID, err)
	}
	return s
}

func (f *pruneFixture) honeypot(t *testing.T, ua string) honeypotPII {
	t.Helper()
	var h honeypotPII
	// Rows are found by their original User-Agent or, once scrubbed, by
	// the id recorded at setup.
	err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT host(submitted_ip), submitted_user_agent, honeypot_field_value, pii_cleared_at
			FROM honeypot_submissions WHERE id = (SELECT id FROM honeypot_ids WHERE ua = $1)`, ua).
			Scan(&h.IP, &h.UserAgent, &h.Value, &h.ClearedAt)
	})
	if err != nil {
		t.Fatalf("honeypot %s: %v", ua, err)
	}
	return h
}

// newPruneFixture seeds advisories with intake sidecars and honeypot rows
// on both sides of a 365-day horizon:
//
//	ECL-2222-2222-2222 dismissed, modified 400 days ago   → due
//	ECL-2222-2222-2223 triage,    modified 400 days ago   → kept (still in triage)
//	ECL-2222-2222-2224 draft,     modified 10 days ago    → kept (too new)
//	ECL-2222-2222-2225 published, 400 days, cleared before → kept as cleared
//	ECL-2222-2222-2226 triage,    modified 5 days ago     → only by --advisory-id
//	ECL-2222-2222-2227 published, modified 500 days ago   → due
//	ECL-2222-2222-2228 draft,     modified 366 days ago   → due
//	ECL-2222-2222-2229 draft,     no sidecar (not a public report)
//
// and honeypot rows old-1..3 (400 days: due), new (10 days) and
// old-cleared (400 days, cleared before).
func newPruneFixture(t *testing.T) *pruneFixture {
	t.Helper()
	f := &pruneFixture{db: pgtest.New(t), sys: postgres.AsSystem(context.Background())}
	f.exec(t,
		`INSERT INTO users (email) VALUES ('alice@example.org')`,
		`INSERT INTO groups (name) VALUES ('lantern-security')`,
		`INSERT INTO projects (slug, name, security_team_id) SELECT 'lantern', 'Lantern', id FROM groups WHERE name = 'lantern-security'`,
		`INSERT INTO advisories (advisory_id, project_id, summary, state, modified_at, created_at)
			SELECT v.aid, p.id, 'report ' || v.aid, v.state, now() - v.age, now() - interval '600 days'
			FROM projects p, (VALUES
				('ECL-2222-2222-2222', 'dismissed', interval '400 days'),
				('ECL-2222-2222-2223', 'triage', interval '400 days'),
				('ECL-2222-2222-2224', 'draft', interval '10 days'),
				('ECL-2222-2222-2225', 'published', interval '400 days'),
				('ECL-2222-2222-2226', 'triage', interval '5 days'),
				('ECL-2222-2222-2227', 'published', interval '500 days'),
				('ECL-2222-2222-2228', 'draft', interval '366 days'),
				('ECL-2222-2222-2229', 'draft', interval '400 days')) AS v(aid, state, age)
			WHERE p.slug = 'lantern'`,
		`INSERT INTO advisory_intake_metadata (advisory_id, reporter_user_id, reporter_display_name,
				submitted_ip, submitted_user_agent, needs_admin_routing, admin_routing_note, submitted_at)
			SELECT a.id, u.id, 'Reporter ' || a.advisory_id, '192.0.2.7', 'Mozilla/5.0 ' || a.advisory_id,
				true, 'route me', now() - interval '600 days'
			FROM advisories a, users u WHERE a.advisory_id <> 'ECL-2222-2222-2229'`,
		`UPDATE advisory_intake_metadata SET pii_cleared_at = now() - interval '30 days'
			WHERE advisory_id = (SELECT id FROM advisories WHERE advisory_id = 'ECL-2222-2222-2225')`,
		`INSERT INTO advisory_versions (advisory_id, version, payload) SELECT id, 1, '{"summary":"x"}' FROM advisories`,
		`INSERT INTO comments (advisory_id, body) SELECT id, 'triaged' FROM advisories`,
		`INSERT INTO comment_versions (comment_id, version, body) SELECT id, 1, 'triaged' FROM comments`,
		`INSERT INTO audit_log (action, advisory_id, metadata) SELECT 'report.submitted', id, '{}' FROM advisories`,
		`CREATE TABLE honeypot_ids (ua text PRIMARY KEY, id uuid NOT NULL)`,
		`WITH ins AS (INSERT INTO honeypot_submissions (submitted_ip, submitted_user_agent, honeypot_field_value, submitted_at, pii_cleared_at)
			SELECT '198.51.100.9', v.ua, 'buy now', now() - v.age, v.cleared
			FROM (VALUES
				('old-1', interval '400 days', NULL::timestamptz),
				('old-2', interval '400 days', NULL),
				('old-3', interval '366 days', NULL),
				('new', interval '10 days', NULL),
				('old-cleared', interval '400 days', now() - interval '30 days')) AS v(ua, age, cleared)
			RETURNING id, submitted_user_agent)
		INSERT INTO honeypot_ids SELECT submitted_user_agent, id FROM ins`,
	)
	return f
}

func (f *pruneFixture) retention(t *testing.T, batch int) *app.ReportRetention {
	t.Helper()
	rr, err := app.NewReportRetention(app.ReportRetentionConfig{DB: f.db, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// history counts what must survive any scrub: the advisories, their
// versions, comments and ledger entries.
func (f *pruneFixture) history(t *testing.T) [4]int {
	t.Helper()
	var c [4]int
	err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT (SELECT count(*) FROM advisories), (SELECT count(*) FROM advisory_versions),
			(SELECT count(*) FROM comments), (SELECT count(*) FROM audit_log)`).Scan(&c[0], &c[1], &c[2], &c[3])
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	dueSidecars  = []string{"ECL-2222-2222-2222", "ECL-2222-2222-2227", "ECL-2222-2222-2228"}
	keptSidecars = []string{"ECL-2222-2222-2223", "ECL-2222-2222-2224", "ECL-2222-2222-2226"}
	dueHoneypots = []string{"old-1", "old-2", "old-3"}
)

// operations §11 prune_reports: sidecars of advisories out of triage and
// unmodified past the horizon, and honeypot rows past it, are scrubbed in
// bounded batches; triage, newer and already-cleared rows, and everything
// else about the advisory, are left alone. A dry run only counts.
func TestPruneReports(t *testing.T) {
	f := newPruneFixture(t)
	ctx := context.Background()
	before := f.history(t)
	clearedBefore := f.sidecar(t, "ECL-2222-2222-2225")
	honeyClearedBefore := f.honeypot(t, "old-cleared")

	// Dry run: counts, writes nothing.
	res, err := f.retention(t, 2).Prune(ctx, app.ReportPrune{RetentionDays: 365, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Sidecars != 3 || res.Honeypots != 3 || res.Cutoff == "" {
		t.Fatalf("dry run = %+v, want 3 sidecars and 3 honeypots", res)
	}
	for _, id := range append(append([]string{}, dueSidecars...), keptSidecars...) {
		if s := f.sidecar(t, id); s.ClearedAt != nil || s.IP == nil || s.ReporterUserID == nil {
			t.Errorf("dry run changed the sidecar of %s: %+v", id, s)
		}
	}
	for _, ua := range dueHoneypots {
		if h := f.honeypot(t, ua); h.ClearedAt != nil || h.Value == "" {
			t.Errorf("dry run changed honeypot %s: %+v", ua, h)
		}
	}

	// The real run, in batches of 2 (so more than one transaction each).
	res, err = f.retention(t, 2).Prune(ctx, app.ReportPrune{RetentionDays: 365})
	if err != nil {
		t.Fatal(err)
	}
	if res.DryRun || res.Sidecars != 3 || res.Honeypots != 3 {
		t.Fatalf("run = %+v, want 3 sidecars and 3 honeypots scrubbed", res)
	}
	for _, id := range dueSidecars {
		if s := f.sidecar(t, id); !s.scrubbed() {
			t.Errorf("sidecar of %s not scrubbed: %+v", id, s)
		}
	}
	for _, id := range keptSidecars {
		if s := f.sidecar(t, id); s.ClearedAt != nil || s.IP == nil || s.ReporterUserID == nil ||
			s.DisplayName != "Reporter "+id || s.UserAgent != "Mozilla/5.0 "+id {
			t.Errorf("sidecar of %s changed: %+v", id, s)
		}
	}
	if s := f.sidecar(t, "ECL-2222-2222-2225"); !s.ClearedAt.Equal(*clearedBefore.ClearedAt) || s.UserAgent != clearedBefore.UserAgent {
		t.Errorf("already-cleared sidecar rewritten: %+v, was %+v", s, clearedBefore)
	}
	for _, ua := range dueHoneypots {
		if h := f.honeypot(t, ua); !h.scrubbed() {
			t.Errorf("honeypot %s not scrubbed: %+v", ua, h)
		}
	}
	if h := f.honeypot(t, "new"); h.ClearedAt != nil || h.IP == nil || h.Value != "buy now" {
		t.Errorf("new honeypot changed: %+v", h)
	}
	if h := f.honeypot(t, "old-cleared"); !h.ClearedAt.Equal(*honeyClearedBefore.ClearedAt) {
		t.Errorf("already-cleared honeypot rewritten: %+v", h)
	}
	// Non-PII sidecar fields stay.
	var routing bool
	var note string
	if err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT needs_admin_routing, admin_routing_note FROM advisory_intake_metadata m
			JOIN advisories a ON a.id = m.advisory_id WHERE a.advisory_id = 'ECL-2222-2222-2222'`).Scan(&routing, &note)
	}); err != nil {
		t.Fatal(err)
	}
	if !routing || note != "route me" {
		t.Errorf("routing fields changed: %v %q", routing, note)
	}
	if after := f.history(t); after != before {
		t.Errorf("advisories/versions/comments/ledger = %v after the run, want %v", after, before)
	}

	// A second run finds nothing.
	res, err = f.retention(t, 2).Prune(ctx, app.ReportPrune{RetentionDays: 365})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sidecars != 0 || res.Honeypots != 0 {
		t.Errorf("second run = %+v, want nothing", res)
	}
}

// With --advisory-id only that sidecar is scrubbed, whatever its age and
// state; honeypot rows are left alone.
func TestPruneReportsOneAdvisory(t *testing.T) {
	f := newPruneFixture(t)
	ctx := context.Background()
	rr := f.retention(t, 0)
	const id = "ECL-2222-2222-2226" // triage, modified 5 days ago

	res, err := rr.Prune(ctx, app.ReportPrune{AdvisoryID: id, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sidecars != 1 || res.Honeypots != 0 || res.AlreadyCleared {
		t.Fatalf("dry run = %+v, want 1 sidecar", res)
	}
	if s := f.sidecar(t, id); s.ClearedAt != nil || s.IP == nil {
		t.Fatalf("dry run scrubbed %s: %+v", id, s)
	}

	res, err = rr.Prune(ctx, app.ReportPrune{AdvisoryID: id})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sidecars != 1 || res.Honeypots != 0 {
		t.Fatalf("run = %+v, want 1 sidecar", res)
	}
	if s := f.sidecar(t, id); !s.scrubbed() {
		t.Errorf("sidecar of %s not scrubbed: %+v", id, s)
	}
	for _, other := range append(append([]string{}, dueSidecars...), "ECL-2222-2222-2223", "ECL-2222-2222-2224") {
		if s := f.sidecar(t, other); s.ClearedAt != nil {
			t.Errorf("sidecar of %s scrubbed too", other)
		}
	}
	for _, ua := range dueHoneypots {
		if h := f.honeypot(t, ua); h.ClearedAt != nil {
			t.Errorf("honeypot %s scrubbed by a one-advisory run", ua)
		}
	}
	var state string
	if err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT state FROM advisories WHERE advisory_id = $1`, id).Scan(&state)
	}); err != nil || state != "triage" {
		t.Errorf("advisory state = %q, %v; want it untouched in triage", state, err)
	}

	// Again: already cleared, nothing rewritten.
	first := f.sidecar(t, id).ClearedAt
	res, err = rr.Prune(ctx, app.ReportPrune{AdvisoryID: id})
	if err != nil {
		t.Fatal(err)
	}
	if !res.AlreadyCleared || res.Sidecars != 0 {
		t.Errorf("second run = %+v, want already cleared", res)
	}
	if again := f.sidecar(t, id).ClearedAt; !again.Equal(*first) {
		t.Errorf("pii_cleared_at moved from %v to %v", first, again)
	}

	// No sidecar, unknown, malformed.
	for _, tc := range []struct {
		id   string
		kind apperr.Kind
	}{
		{"ECL-2222-2222-2229", apperr.NotFound},
		{"ECL-9999-9999-9999", apperr.NotFound},
		{"not-an-id", apperr.Invalid},
	} {
		if _, err := rr.Prune(ctx, app.ReportPrune{AdvisoryID: tc.id}); apperr.KindOf(err) != tc.kind {
			t.Errorf("%s: got %v, want %v", tc.id, err, tc.kind)
		}
	}
}

func TestPruneReportsRejectsNonPositiveRetention(t *testing.T) {
	f := newPruneFixture(t)
	for _, days := range []int{0, -1} {
		_, err := f.retention(t, 0).Prune(context.Background(), app.ReportPrune{RetentionDays: days})
		if apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%d days: got %v, want invalid", days, err)
		}
	}
}
