package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// seed writes one row in every append-only table through raw SQL, as the
// system principal, and returns the advisory's internal id.
func seed(t *testing.T, db *postgres.DB) int64 {
	t.Helper()
	ctx := postgres.AsSystem(context.Background())
	var advID int64
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		stmts := []string{
			`INSERT INTO users (email) VALUES ('alice@example.org')`,
			`INSERT INTO groups (name) VALUES ('lantern-security')`,
			`INSERT INTO projects (slug, name, security_team_id) SELECT 'lantern', 'Lantern', id FROM groups WHERE name = 'lantern-security'`,
			`INSERT INTO advisories (advisory_id, project_id, summary) SELECT 'ECL-2345-6789-cfgh', id, 'x' FROM projects WHERE slug = 'lantern'`,
			`INSERT INTO advisory_versions (advisory_id, version, payload) SELECT id, 1, '{"summary":"x"}' FROM advisories`,
			`INSERT INTO comments (advisory_id, body) SELECT id, 'first' FROM advisories`,
			`INSERT INTO comment_versions (comment_id, version, body) SELECT id, 1, 'first' FROM comments`,
			`INSERT INTO audit_log (action, advisory_id, metadata) SELECT 'advisory.created', id, '{"k":"v"}' FROM advisories`,
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `SELECT id FROM advisories`).Scan(&advID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return advID
}

// INV-AUDIT-1, INV-IMPL-1, INV-IMPL-2, INV-IMPL-3, INV-IMPL-5: the database
// itself refuses to rewrite history, whatever SQL the application sends.
func TestAppendOnlyTablesRefuseRawSQL(t *testing.T) {
	db := pgtest.New(t)
	seed(t, db)
	ctx := postgres.AsSystem(context.Background())
	cases := []struct {
		name, sql, want string
	}{
		{"audit update", `UPDATE audit_log SET metadata = '{}'`, "append-only (UPDATE forbidden)"},
		{"audit delete", `DELETE FROM audit_log`, "append-only (DELETE forbidden)"},
		{"audit truncate", `TRUNCATE audit_log`, "TRUNCATE forbidden"},
		{"version update", `UPDATE advisory_versions SET payload = '{}'`, "UPDATE forbidden"},
		{"version delete", `DELETE FROM advisory_versions`, "DELETE forbidden"},
		{"comment version update", `UPDATE comment_versions SET body = 'rewritten'`, "UPDATE forbidden"},
		{"comment version delete", `DELETE FROM comment_versions`, "DELETE forbidden"},
		{"advisory delete", `DELETE FROM advisories`, "non-deletable (DELETE forbidden)"},
		{"advisory truncate", `TRUNCATE advisories CASCADE`, "TRUNCATE forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each statement in its own transaction, as the app role.
			err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
				_, err := tx.Exec(ctx, tc.sql)
				return err
			})
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || !strings.Contains(pgErr.Message, tc.want) {
				t.Fatalf("%s: got %v, want an error containing %q", tc.sql, err, tc.want)
			}
		})
	}
	// Nothing changed.
	var audit, versions, cversions, advisories int
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM advisory_versions),
			(SELECT count(*) FROM comment_versions), (SELECT count(*) FROM advisories)`).Scan(&audit, &versions, &cversions, &advisories)
	})
	if err != nil || audit != 1 || versions != 1 || cversions != 1 || advisories != 1 {
		t.Fatalf("rows after refused writes: audit %d versions %d comment versions %d advisories %d (%v); want 1 each", audit, versions, cversions, advisories, err)
	}
}

// The ledger is hash-chained: an entry altered behind the triggers' back (a
// superuser with triggers disabled) is found by audit_verify_chain.
func TestAuditChainDetectsTampering(t *testing.T) {
	d := pgtest.Open(t)
	seed(t, d.DB)
	ctx := postgres.AsSystem(context.Background())
	for i := 0; i < 3; i++ {
		if _, err := d.Exec(ctx, `INSERT INTO audit_log (action, metadata) VALUES ('project.updated', jsonb_build_object('i', $1::int))`, i); err != nil {
			t.Fatal(err)
		}
	}
	if broken := verify(t, d.DB); len(broken) != 0 {
		t.Fatalf("fresh chain reported broken: %v", broken)
	}
	su, err := pgx.Connect(ctx, d.SuperuserURL)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(ctx)
	for _, s := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER USER`,
		`UPDATE audit_log SET metadata = '{"i": 99}' WHERE id = (SELECT min(id) + 2 FROM audit_log)`,
		`ALTER TABLE audit_log ENABLE TRIGGER USER`,
	} {
		if _, err := su.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	broken := verify(t, d.DB)
	var want int64
	if err := d.QueryRow(ctx, `SELECT min(id) + 2 FROM audit_log`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if len(broken) == 0 || broken[0] != want {
		t.Fatalf("tampered entry %d not reported first; got %v", want, broken)
	}
}

func verify(t *testing.T, db *postgres.DB) []int64 {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id FROM audit_verify_chain() WHERE id IS NOT NULL ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// INV-CONF-2: row-level security fails closed. Without a principal nobody
// sees an advisory; the system principal sees all; the acting user is set
// per transaction and never leaks to the next user of a pooled connection.
func TestRowLevelSecurityPrincipalPerTransaction(t *testing.T) {
	db := pgtest.New(t)
	seed(t, db)
	count := func(ctx context.Context) int {
		var n int
		err := db.InTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM advisories`).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	bg := context.Background()
	if n := count(bg); n != 0 {
		t.Fatalf("no principal sees %d advisories, want 0", n)
	}
	if n := count(postgres.WithPrincipal(bg, postgres.Principal{UserID: 424242})); n != 0 {
		t.Fatalf("an outsider sees %d advisories, want 0", n)
	}
	if n := count(postgres.AsSystem(bg)); n != 1 {
		t.Fatalf("system sees %d advisories, want 1", n)
	}
	// Hammer the pool: an admin transaction followed by anonymous ones on
	// whatever connection comes back must never see the admin's rows.
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = count(postgres.AsSystem(bg))
			if n := count(bg); n != 0 {
				errs <- "anonymous transaction saw rows after an admin one"
			}
			var setting string
			if err := db.QueryRow(bg, `SELECT COALESCE(current_setting('advisoryhub.is_admin', true), '')`).Scan(&setting); err != nil || setting == "on" {
				errs <- "is_admin leaked outside its transaction: " + setting
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// InTx reruns the function on a serialization failure and gives up on
// other errors at once.
func TestInTxRetriesSerializationFailures(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	calls := 0
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		calls++
		if calls < 3 {
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("InTx: err %v after %d calls; want success on the 3rd", err, calls)
	}
	calls = 0
	boom := errors.New("boom")
	if err := db.InTx(ctx, pgx.TxOptions{}, func(*postgres.DB) error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("InTx with a plain error: %v after %d calls", err, calls)
	}
	err = db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.InTx(ctx, pgx.TxOptions{}, func(*postgres.DB) error { return nil })
	})
	if !errors.Is(err, postgres.ErrNestedTx) {
		t.Fatalf("nested InTx: %v, want ErrNestedTx", err)
	}
}

// A panic inside InTx rolls the transaction back and propagates.
func TestInTxRollsBackOnPanic(t *testing.T) {
	db := pgtest.New(t)
	ctx := postgres.AsSystem(context.Background())
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic swallowed")
			}
		}()
		_ = db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
			if _, err := tx.Exec(ctx, `INSERT INTO groups (name) VALUES ('half-done')`); err != nil {
				return err
			}
			panic("mid-change")
		})
	}()
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM groups WHERE name = 'half-done'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("row from a panicked transaction: %d (%v)", n, err)
	}
}

// Migrating an up-to-date database is a no-op.
func TestMigrateIsIdempotent(t *testing.T) {
	db := pgtest.New(t)
	res, err := db.Migrate(context.Background())
	if err != nil || len(res) != 0 {
		t.Fatalf("second migrate: %v, %v; want nothing to apply", res, err)
	}
	cur, target, err := db.SchemaVersion(context.Background())
	if err != nil || cur != target || cur == 0 {
		t.Fatalf("schema version %d of %d (%v)", cur, target, err)
	}
}

// The access log is partitioned by month and this month has its own
// partition from day one.
func TestAccessLogLandsInMonthlyPartition(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var part string
	err := db.QueryRow(ctx, `WITH ins AS (INSERT INTO access_log (action) VALUES ('advisory.viewed') RETURNING tableoid)
		SELECT tableoid::regclass::text FROM ins`).Scan(&part)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(part, "access_log_p") {
		t.Fatalf("row landed in %s, want a monthly partition", part)
	}
}
