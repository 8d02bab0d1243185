package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// auditFixture is a user and two advisories to hang audit entries on.
type auditFixture struct {
	userID int64
	advA   int64
	advB   int64
}

func newAuditFixture(t *testing.T, db *postgres.DB) auditFixture {
	t.Helper()
	ctx := postgres.AsSystem(context.Background())
	var f auditFixture
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		if err := tx.QueryRow(ctx, `INSERT INTO users (email, display_name) VALUES ('auditor@example.org', ' Ada ') RETURNING id`).Scan(&f.userID); err != nil {
			return err
		}
		stmts := []string{
			`INSERT INTO groups (name) VALUES ('audit-team')`,
			`INSERT INTO projects (slug, name, security_team_id) SELECT 'audited', 'Audited', id FROM groups WHERE name = 'audit-team'`,
			`INSERT INTO advisories (advisory_id, project_id) SELECT 'ECL-2222-3333-4444', id FROM projects WHERE slug = 'audited'`,
			`INSERT INTO advisories (advisory_id, project_id) SELECT 'ECL-5555-6666-7777', id FROM projects WHERE slug = 'audited'`,
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM advisories WHERE advisory_id = 'ECL-2222-3333-4444'`).Scan(&f.advA); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM advisories WHERE advisory_id = 'ECL-5555-6666-7777'`).Scan(&f.advB)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// record writes entries in one transaction as the system principal.
func record(t *testing.T, db *postgres.DB, entries ...audit.Entry) {
	t.Helper()
	ctx := postgres.AsSystem(context.Background())
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		for _, e := range entries {
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestInsertAuditRoutesByAction(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	f := newAuditFixture(t, db)
	ctx := context.Background()
	record(t, db,
		audit.Entry{
			ActorID: f.userID, Action: audit.CommentEdited, AdvisoryID: f.advA, CommentID: 42,
			Previous: map[string]any{"body": "old"}, New: map[string]any{"body": "see https://bot:ghp_abcdefghijklmnopqrstuvwxyz012345@github.com/x"},
			Metadata: map[string]any{"api_key": "k", "n": 1},
			IP:       "192.0.2.10", UserAgent: "Mozilla/5.0",
		},
		audit.Entry{
			ActorID: f.userID, Action: audit.AdvisoryViewed, AdvisoryID: f.advA, CommentID: 42,
			Previous: "before", IP: "2001:db8::1", UserAgent: "Mozilla/5.0",
		},
	)
	if n := count(t, db, `SELECT count(*) FROM audit_log`); n != 1 {
		t.Fatalf("ledger rows = %d, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM access_log`); n != 1 {
		t.Fatalf("access-log rows = %d, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM access_log_default`); n != 0 {
		t.Errorf("%d access-log rows landed in DEFAULT", n)
	}

	got, err := db.ListAudit(ctx, postgres.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("ListAudit returned %d entries, want 1", len(got))
	}
	r := got[0]
	if r.Action != audit.CommentEdited || r.ActorID != f.userID || r.ActorLabel != "Ada" || r.AdvisoryID != f.advA ||
		r.CommentID != 42 || r.IP != "192.0.2.10" || r.UserAgent != "Mozilla/5.0" || r.CreatedAt.IsZero() {
		t.Errorf("ledger record = %+v", r)
	}
	wantJSON := map[string]string{
		"previous": `{"body": "old"}`,
		"new":      `{"body": "see https://***@github.com/x"}`,
		"metadata": `{"n": 1, "api_key": "***"}`,
	}
	for k, v := range map[string]json.RawMessage{"previous": r.Previous, "new": r.New, "metadata": r.Metadata} {
		if string(v) != wantJSON[k] {
			t.Errorf("%s = %s, want %s", k, v, wantJSON[k])
		}
	}

	var (
		action, ip, ua string
		meta           map[string]any
	)
	if err := db.QueryRow(ctx, `SELECT action, host(ip_address), user_agent, metadata FROM access_log`).Scan(&action, &ip, &ua, &meta); err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]any{"_previous_value": "before", "comment_id": float64(42)}
	if action != "advisory.viewed" || ip != "2001:db8::1" || ua != "Mozilla/5.0" {
		t.Errorf("access-log row = %s %s %s", action, ip, ua)
	}
	if diff := cmp.Diff(wantMeta, meta); diff != "" {
		t.Errorf("access-log metadata (-want +got):\n%s", diff)
	}
}

func TestInsertAuditRefuses(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := postgres.AsSystem(context.Background())

	if err := db.InsertAudit(ctx, audit.Entry{Action: audit.AdvisoryCreated}); !errors.Is(err, postgres.ErrAuditOutsideTx) {
		t.Errorf("InsertAudit outside a transaction = %v, want ErrAuditOutsideTx", err)
	}
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		if err := tx.InsertAudit(ctx, audit.Entry{Action: audit.MaintenanceEnabled}); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, audit.Entry{Action: "advisory.deleted"})
	})
	if !errors.Is(err, audit.ErrUnknownAction) {
		t.Errorf("unknown action = %v, want ErrUnknownAction", err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log`); n != 0 {
		t.Errorf("the refused transaction left %d ledger rows", n)
	}
	if err := db.InsertAccessLog(ctx, audit.Entry{Action: audit.AdvisoryCreated}); err == nil || !strings.Contains(err.Error(), "not an ephemeral action") {
		t.Errorf("InsertAccessLog(ledger action) = %v, want a refusal", err)
	}
	if err := db.InsertAccessLog(ctx, audit.Entry{Action: audit.AuthLogin, IP: "not-an-ip"}); err == nil {
		t.Error("InsertAccessLog accepted an invalid IP")
	}
	// Access-log events are best-effort and may be written outside a
	// transaction.
	if err := db.InsertAccessLog(ctx, audit.Entry{Action: audit.AuthLoginFailed, IP: "192.0.2.1", Metadata: map[string]any{"reason": "state"}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM access_log WHERE action = 'auth.login_failed' AND actor_id IS NULL`); n != 1 {
		t.Errorf("access-log rows = %d, want 1", n)
	}
}

func actions(rs []audit.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Action)
		if len(r.Metadata) > 2 {
			out[i] += " " + string(r.Metadata)
		}
	}
	return out
}

func TestListAuditFilters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	f := newAuditFixture(t, db)
	ctx := context.Background()
	onA := func(a audit.Action, md map[string]any) audit.Entry {
		return audit.Entry{ActorID: f.userID, Action: a, AdvisoryID: f.advA, Metadata: md}
	}
	record(t, db,
		onA(audit.AdvisoryCreated, nil),                                                     // A
		onA(audit.AdvisoryEdited, nil),                                                      // B
		onA(audit.AdvisoryAccessReviewDismissed, nil),                                       // C
		onA(audit.ReviewTaskStatusChanged, nil),                                             // never
		onA(audit.AdvisoryStateChanged, map[string]any{"narrated": true}),                   // suppressed
		onA(audit.AdvisoryStateChanged, map[string]any{"reason": "reopen"}),                 // A
		onA(audit.AdvisoryReassignmentRequestCleared, map[string]any{"cause": "accepted"}),  // suppressed
		onA(audit.AdvisoryReassignmentRequestCleared, map[string]any{"cause": "withdrawn"}), // A
		audit.Entry{Action: audit.AdvisoryCreated, AdvisoryID: f.advB},                      // other advisory, no actor
		audit.Entry{ActorID: f.userID, Action: audit.MaintenanceEnabled},                    // no advisory
		audit.Entry{ActorID: f.userID, Action: audit.AdvisoryViewed, AdvisoryID: f.advA},    // access log
	)

	cases := []struct {
		name string
		f    postgres.AuditFilter
		want []string
	}{
		{"everything, newest first", postgres.AuditFilter{}, []string{
			"maintenance.enabled", "advisory.created",
			`advisory.reassignment_request_cleared {"cause": "withdrawn"}`,
			`advisory.reassignment_request_cleared {"cause": "accepted"}`,
			`advisory.state_changed {"reason": "reopen"}`,
			`advisory.state_changed {"narrated": true}`,
			"review.task_status_changed", "advisory.access_review_dismissed", "advisory.edited", "advisory.created",
		}},
		{"viewer timeline", postgres.AuditFilter{AdvisoryID: f.advA, Timeline: audit.TierViewer}, []string{
			`advisory.reassignment_request_cleared {"cause": "withdrawn"}`,
			`advisory.state_changed {"reason": "reopen"}`,
			"advisory.created",
		}},
		{"collaborator timeline", postgres.AuditFilter{AdvisoryID: f.advA, Timeline: audit.TierCollaborator}, []string{
			`advisory.reassignment_request_cleared {"cause": "withdrawn"}`,
			`advisory.state_changed {"reason": "reopen"}`,
			"advisory.edited", "advisory.created",
		}},
		{"owner timeline", postgres.AuditFilter{AdvisoryID: f.advA, Timeline: audit.TierOwner}, []string{
			`advisory.reassignment_request_cleared {"cause": "withdrawn"}`,
			`advisory.state_changed {"reason": "reopen"}`,
			"advisory.access_review_dismissed", "advisory.edited", "advisory.created",
		}},
		{"by advisory and actions", postgres.AuditFilter{AdvisoryID: f.advB, Actions: []audit.Action{audit.AdvisoryCreated}}, []string{"advisory.created"}},
		{"by actions", postgres.AuditFilter{Actions: []audit.Action{audit.AdvisoryCreated, audit.MaintenanceEnabled}}, []string{
			"maintenance.enabled", "advisory.created", "advisory.created",
		}},
		{"limit", postgres.AuditFilter{AdvisoryID: f.advA, Limit: 2}, []string{
			`advisory.reassignment_request_cleared {"cause": "withdrawn"}`,
			`advisory.reassignment_request_cleared {"cause": "accepted"}`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.ListAudit(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, actions(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("by actor, paged", func(t *testing.T) {
		var all []audit.Record
		before := int64(0)
		for page := 0; page < 10; page++ {
			got, err := db.ListAudit(ctx, postgres.AuditFilter{ActorID: f.userID, Limit: 3, BeforeID: before})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			all = append(all, got...)
			before = got[len(got)-1].ID
		}
		if len(all) != 9 {
			t.Fatalf("paged through %d entries by the actor, want 9", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID >= all[i-1].ID {
				t.Fatalf("entries not newest first: %d after %d", all[i].ID, all[i-1].ID)
			}
		}
	})
	if _, err := db.ListAudit(ctx, postgres.AuditFilter{Timeline: audit.Tier(9)}); err == nil {
		t.Error("an invalid timeline tier was accepted")
	}
}

// tamper rewrites one ledger row behind the triggers' back, as a superuser
// could.
func tamper(t *testing.T, d *pgtest.Database, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	su, err := pgx.Connect(ctx, d.SuperuserURL)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(ctx)
	for _, s := range []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, sql, `ALTER TABLE audit_log ENABLE TRIGGER USER`} {
		var a []any
		if s == sql {
			a = args
		}
		if _, err := su.Exec(ctx, s, a...); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyAuditChain(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	f := newAuditFixture(t, d.DB)
	ctx := context.Background()
	for i := range 5 {
		record(t, d.DB, audit.Entry{ActorID: f.userID, Action: audit.AdvisoryEdited, AdvisoryID: f.advA, New: map[string]any{"i": i}})
	}
	problems, err := d.VerifyAuditChain(ctx)
	if err != nil || len(problems) != 0 {
		t.Fatalf("VerifyAuditChain() = %v, %v; want intact", problems, err)
	}
	if n, err := d.CountAudit(ctx); err != nil || n != 5 {
		t.Fatalf("CountAudit() = %d, %v; want 5", n, err)
	}
	var victim int64
	if err := d.QueryRow(ctx, `SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1`).Scan(&victim); err != nil {
		t.Fatal(err)
	}
	tamper(t, d, `UPDATE audit_log SET new_value = '{"i": 99}' WHERE id = $1`, victim)
	problems, err = d.VerifyAuditChain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 || problems[0].ID != victim || !strings.Contains(problems[0].Problem, "entry_hash mismatch") {
		t.Errorf("VerifyAuditChain() = %+v, want an entry_hash mismatch at %d first", problems, victim)
	}
}

// bootFor builds the whole App against the test database, as the scheduled
// function would, to run operator commands and scheduled jobs end to end.
func bootFor(t *testing.T, d *pgtest.Database, env map[string]string) *boot.App {
	t.Helper()
	vars := map[string]string{"DATABASE_URL": d.AppURL, "ADVISORYHUB_ENV": "development"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := boot.New(ctx, cfg, boot.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

func TestVerifyAuditCommand(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	f := newAuditFixture(t, d.DB)
	a := bootFor(t, d, nil)
	ctx := context.Background()
	run := func() (string, error) {
		var out bytes.Buffer
		err := a.Registry.RunCommand(ctx, "verify-audit", nil, &out)
		return out.String(), err
	}

	if out, err := run(); err != nil || out != "audit ledger intact: 0 entries\n" {
		t.Fatalf("empty ledger: %q, %v", out, err)
	}
	for i := range 3 {
		record(t, d.DB, audit.Entry{ActorID: f.userID, Action: audit.AdvisoryEdited, AdvisoryID: f.advA, New: map[string]any{"i": i}})
	}
	if out, err := run(); err != nil || out != "audit ledger intact: 3 entries\n" {
		t.Fatalf("intact ledger: %q, %v", out, err)
	}

	var victim int64
	if err := d.QueryRow(ctx, `SELECT min(id) + 1 FROM audit_log`).Scan(&victim); err != nil {
		t.Fatal(err)
	}
	tamper(t, d, `UPDATE audit_log SET actor_id = NULL WHERE id = $1`, victim)
	out, err := run()
	want := fmt.Sprintf("audit ledger BROKEN at entry %d: entry_hash mismatch", victim)
	if err == nil || !strings.HasPrefix(out, want) || !strings.Contains(err.Error(), fmt.Sprintf("entry %d", victim)) {
		t.Errorf("tampered ledger: %q, %v; want output starting %q and an error", out, err, want)
	}

	// The scheduled function reports the failure too (non-zero exit).
	res, err := a.Registry.Invoke(ctx, jobs.Invocation{Command: "verify-audit"})
	if err == nil || !strings.Contains(res.Output, want) {
		t.Errorf("Invoke(verify-audit) = %+v, %v; want a failure", res, err)
	}
}
