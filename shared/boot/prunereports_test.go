package boot_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// prune-reports is an operator command only (never scheduled, operations
// §8), reachable from the scheduled function's payload with the
// documented flags; its default horizon is INTAKE_REPORT_RETENTION_DAYS.
// The scrubbing itself is tested in shared/app.
func TestPruneReportsCommand(t *testing.T) {
	d := pgtest.Open(t)
	ctx := context.Background()
	a, err := boot.New(ctx, load(t, map[string]string{"DATABASE_URL": d.AppURL, "INTAKE_REPORT_RETENTION_DAYS": "30"}),
		boot.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	for _, s := range a.Registry.ScheduledJobs() {
		if strings.Contains(s.Name, "prune-reports") || strings.Contains(s.Name, "report") {
			t.Errorf("intake-PII pruning is manual only, but %q is scheduled", s.Name)
		}
	}
	if _, err := d.Exec(ctx, `INSERT INTO honeypot_submissions (submitted_ip, submitted_user_agent, honeypot_field_value, submitted_at)
		VALUES ('198.51.100.1', 'bot', 'x', now() - interval '40 days'), ('198.51.100.2', 'bot', 'y', now() - interval '20 days')`); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile("../../functions/scheduled/testdata/prune-reports.json")
	if err != nil {
		t.Fatal(err)
	}
	var inv jobs.Invocation
	if err := json.Unmarshal(raw, &inv); err != nil {
		t.Fatal(err)
	}
	res, err := a.Registry.Invoke(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Output, "intake sidecars would be scrubbed: 0\n") || !strings.Contains(res.Output, "honeypot rows would be scrubbed: 1\n") {
		t.Errorf("dry run output:\n%s", res.Output)
	}

	// The default horizon comes from the configuration (30 days here).
	var out strings.Builder
	if err := a.Registry.RunCommand(ctx, "prune-reports", nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "honeypot rows scrubbed: 1\n") {
		t.Errorf("run output:\n%s", out.String())
	}
	var cleared int
	if err := d.QueryRow(ctx, `SELECT count(*) FROM honeypot_submissions WHERE pii_cleared_at IS NOT NULL AND submitted_ip IS NULL`).Scan(&cleared); err != nil {
		t.Fatal(err)
	}
	if cleared != 1 {
		t.Errorf("%d honeypot rows cleared, want 1", cleared)
	}

	for _, args := range [][]string{{"--retention-days", "0"}, {"--bogus"}, {"extra"}, {"--advisory-id", "ECL-2222-2222-2222"}} {
		if err := a.Registry.RunCommand(ctx, "prune-reports", args, &strings.Builder{}); err == nil {
			t.Errorf("prune-reports %q: want an error", args)
		}
	}
}
