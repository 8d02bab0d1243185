package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

func ensurePartitions(t *testing.T, db *postgres.DB, months ...string) {
	t.Helper()
	for _, m := range months {
		if _, err := db.Exec(context.Background(), `SELECT access_log_ensure_partition($1::date)`, m); err != nil {
			t.Fatalf("ensure partition %s: %v", m, err)
		}
	}
}

func partitionNames(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	parts, err := db.AccessLogPartitions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range parts {
		out = append(out, p.Name)
	}
	return out
}

func hasTable(t *testing.T, db *postgres.DB, name string) bool {
	t.Helper()
	var ok bool
	if err := db.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d.Add(12 * time.Hour)
}

func TestMaintainAccessLogPartitions(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	ensurePartitions(t, db, "2020-01-01", "2020-02-01", "2020-03-01")
	if _, err := db.Exec(ctx, `INSERT INTO access_log (action, created_at) VALUES ('auth.login', '2020-01-15T10:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	// 2020-05-15 minus 90 days is 2020-02-15: only January ends by then.
	opts := postgres.PartitionMaintenance{Now: date("2020-05-15"), RetentionDays: 90}

	dry := opts
	dry.DryRun = true
	res, err := db.MaintainAccessLogPartitions(ctx, dry)
	if err != nil {
		t.Fatal(err)
	}
	want := postgres.PartitionMaintenanceResult{
		Created: []string{"access_log_p2020_05", "access_log_p2020_06"},
		Dropped: []string{"access_log_p2020_01"},
		Cutoff:  "2020-02-15", DryRun: true,
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if !hasTable(t, db, "access_log_p2020_01") || hasTable(t, db, "access_log_p2020_05") {
		t.Fatal("the dry run changed the partitions")
	}

	res, err = db.MaintainAccessLogPartitions(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want.DryRun = false
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("run (-want +got):\n%s", diff)
	}
	names := partitionNames(t, db)
	for _, gone := range []string{"access_log_p2020_01"} {
		if hasTable(t, db, gone) {
			t.Errorf("%s survived", gone)
		}
	}
	for _, kept := range []string{"access_log_p2020_02", "access_log_p2020_03", "access_log_p2020_05", "access_log_p2020_06", "access_log_default"} {
		if !hasTable(t, db, kept) {
			t.Errorf("%s is missing (partitions: %v)", kept, names)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM access_log WHERE created_at < '2020-02-01'`); n != 0 {
		t.Errorf("%d expired rows survived", n)
	}

	// Idempotent.
	res, err = db.MaintainAccessLogPartitions(ctx, opts)
	if err != nil || len(res.Created)+len(res.Dropped)+len(res.Skipped) != 0 {
		t.Errorf("second run = %+v, %v; want nothing to do", res, err)
	}

	// The exclusive upper bound equal to the cutoff drops: 2020-04-30
	// minus 60 days is 2020-03-01, the end of February.
	res, err = db.MaintainAccessLogPartitions(ctx, postgres.PartitionMaintenance{Now: date("2020-04-30"), RetentionDays: 60})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"access_log_p2020_02"}, res.Dropped); diff != "" || res.Cutoff != "2020-03-01" {
		t.Errorf("boundary run dropped (-want +got):\n%s (cutoff %s)", diff, res.Cutoff)
	}

	// A retention far back drops every monthly partition, never DEFAULT.
	res, err = db.MaintainAccessLogPartitions(ctx, postgres.PartitionMaintenance{Now: date("2100-01-01"), RetentionDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Dropped) == 0 || !hasTable(t, db, "access_log_default") {
		t.Errorf("far-future run = %+v; DEFAULT must survive", res)
	}
	if left := partitionNames(t, db); !cmp.Equal(left, []string{"access_log_p2100_01", "access_log_p2100_02"}) {
		t.Errorf("partitions left: %v", left)
	}
}

// A month whose rows are already stranded in DEFAULT cannot be created; the
// job logs and skips it (operator runbook) instead of failing.
func TestMaintainAccessLogPartitionsSkipsStrandedMonth(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO access_log (action, created_at) VALUES ('auth.login', '2031-06-10T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM access_log_default`); n != 1 {
		t.Fatalf("setup: %d rows in DEFAULT, want 1", n)
	}
	res, err := db.MaintainAccessLogPartitions(ctx, postgres.PartitionMaintenance{Now: date("2031-05-15"), RetentionDays: 90})
	if err != nil {
		t.Fatalf("the job failed: %v", err)
	}
	if diff := cmp.Diff([]string{"access_log_p2031_05"}, res.Created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Partition != "access_log_p2031_06" || res.Skipped[0].Step != "create" ||
		!strings.Contains(res.Skipped[0].Error, "default partition") {
		t.Errorf("skipped = %+v, want the stranded June partition", res.Skipped)
	}
	if !hasTable(t, db, "access_log_p2031_05") || hasTable(t, db, "access_log_p2031_06") {
		t.Error("wrong partitions after the run")
	}
	if n := count(t, db, `SELECT count(*) FROM access_log_default`); n != 1 {
		t.Errorf("the stranded row moved: %d rows in DEFAULT", n)
	}
}

func TestMaintainAccessLogPartitionsRefuses(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, days := range []int{0, -1} {
		if _, err := db.MaintainAccessLogPartitions(ctx, postgres.PartitionMaintenance{Now: time.Now(), RetentionDays: days}); err == nil {
			t.Errorf("retention %d days accepted", days)
		}
	}
	err := db.InTx(postgres.AsSystem(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		_, err := tx.MaintainAccessLogPartitions(ctx, postgres.PartitionMaintenance{Now: time.Now(), RetentionDays: 90})
		return err
	})
	if err == nil {
		t.Error("maintenance inside a transaction accepted")
	}
}

func TestAccessLogMaintenanceJobAndCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("job skipped when retention is disabled", func(t *testing.T) {
		t.Parallel()
		d := pgtest.Open(t)
		ensurePartitions(t, d.DB, "2020-01-01")
		a := bootFor(t, d, map[string]string{"AUDIT_ACCESS_LOG_RETENTION_ENABLED": "false"})
		res, err := a.Registry.RunScheduled(ctx, "access-log-partition-maintenance")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]any{"skipped": true}, res); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if !hasTable(t, d.DB, "access_log_p2020_01") {
			t.Error("a disabled job dropped a partition")
		}
	})

	t.Run("job drops expired months", func(t *testing.T) {
		t.Parallel()
		d := pgtest.Open(t)
		ensurePartitions(t, d.DB, "2020-01-01")
		a := bootFor(t, d, nil)
		res, err := a.Registry.RunScheduled(ctx, "access-log-partition-maintenance")
		if err != nil {
			t.Fatal(err)
		}
		r, ok := res.(postgres.PartitionMaintenanceResult)
		if !ok || !cmp.Equal(r.Dropped, []string{"access_log_p2020_01"}) {
			t.Errorf("result = %#v", res)
		}
		var stored map[string]any
		if err := d.QueryRow(ctx, `SELECT last_result FROM schedule_runs WHERE name = 'access-log-partition-maintenance'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if _, ok := stored["created"].([]any); !ok {
			t.Errorf("recorded result %v has no created list", stored)
		}
		if b, _ := json.Marshal(stored["dropped"]); string(b) != `["access_log_p2020_01"]` {
			t.Errorf("recorded dropped = %s", b)
		}
	})

	t.Run("command", func(t *testing.T) {
		t.Parallel()
		d := pgtest.Open(t)
		ensurePartitions(t, d.DB, "2020-01-01", "2020-02-01")
		a := bootFor(t, d, nil)
		run := func(args ...string) (string, error) {
			var out bytes.Buffer
			err := a.Registry.RunCommand(ctx, "maintain-access-log-partitions", args, &out)
			return out.String(), err
		}
		out, err := run("--retention-days", "30", "--dry-run")
		if err != nil || !strings.Contains(out, "would be dropped: access_log_p2020_01, access_log_p2020_02\n") {
			t.Errorf("dry run: %q, %v", out, err)
		}
		if !hasTable(t, d.DB, "access_log_p2020_01") {
			t.Fatal("the dry run dropped a partition")
		}
		out, err = run("--retention-days=30")
		if err != nil || !strings.Contains(out, "\ndropped: access_log_p2020_01, access_log_p2020_02\n") {
			t.Errorf("run: %q, %v", out, err)
		}
		if hasTable(t, d.DB, "access_log_p2020_01") || !hasTable(t, d.DB, "access_log_default") {
			t.Error("wrong partitions after the command")
		}
		for _, bad := range [][]string{{"--retention-days", "0"}, {"--retention-days", "x"}, {"--bogus"}, {"extra"}} {
			if _, err := run(bad...); err == nil {
				t.Errorf("%q accepted", bad)
			}
		}
	})
}
