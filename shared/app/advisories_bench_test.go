package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// BenchmarkCreateAndTenEdits is one advisory's early life: CreateDraft
// (v1) and ten edits that each change the payload (v2..v11), every call its
// own transaction with its row lock, access check and audit rows.
func BenchmarkCreateAndTenEdits(b *testing.B) {
	f := newAdvFixture(b)
	ctx := context.Background()
	b.Run("team-member", func(b *testing.B) {
		var lat latencies
		for b.Loop() {
			start := time.Now()
			a, err := f.svc.CreateDraft(ctx, f.owner, app.NewDraft{ProjectSlug: "lantern", Content: goodContent()})
			if err != nil {
				b.Fatal(err)
			}
			c := goodContent()
			for i := range 10 {
				c.Summary = fmt.Sprintf("Path traversal, take %d", i)
				if _, err := f.svc.Edit(ctx, f.owner, a.AdvisoryID, c); err != nil {
					b.Fatal(err)
				}
			}
			lat = append(lat, time.Since(start))
		}
		lat.report(b)
	})
}

// BenchmarkListVisible lists page 1 (25 rows, with the total count) of the
// advisories visible to a caller in 50 groups, over 10,000 advisories in
// 200 projects: 10 of the groups are project security teams, 40 carry
// group grants; grants name 300 groups in all, plus a few direct user
// grants. The target is p50 < 5 ms. The first sub-benchmarks read through
// the list cache, as repeated reads with no change in between do; the
// uncached ones scan every time, as the first read after a change does.
func BenchmarkListVisible(b *testing.B) {
	f := newAdvFixture(b)
	caller, visible := populateList(b, f)
	ctx := context.Background()
	uncached, err := app.NewAdvisories(app.AdvisoriesConfig{DB: f.db, ListCacheEntries: -1})
	if err != nil {
		b.Fatal(err)
	}
	svc := f.svc
	run := func(c app.Caller, filter postgres.AdvisoryFilter, want int) func(b *testing.B) {
		return func(b *testing.B) {
			var lat latencies
			for b.Loop() {
				start := time.Now()
				p, err := svc.List(ctx, c, filter)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if want >= 0 && (p.Total != want || len(p.Items) != min(want, 25)) {
					b.Fatalf("listed %d of %d, want %d", len(p.Items), p.Total, want)
				}
			}
			lat.report(b)
		}
	}
	b.Logf("the member sees %d of 10000 advisories", visible)
	b.Run("member-50-groups", run(caller, postgres.AdvisoryFilter{}, visible))
	b.Run("member-50-groups-state-draft", run(caller, postgres.AdvisoryFilter{State: advisory.StateDraft}, -1))
	b.Run("member-50-groups-search", run(caller, postgres.AdvisoryFilter{Q: "overflow"}, -1))
	b.Run("admin", run(f.admin, postgres.AdvisoryFilter{}, 10000))
	// Through the cache while the data changes: before every tenth read
	// some advisory is edited (untimed), so that read scans and the other
	// nine are hits; p50 is a hit, p95 a scan.
	b.Run("member-50-groups-one-change-per-10-reads", func(b *testing.B) {
		var lat latencies
		i := 0
		for b.Loop() {
			if i%10 == 0 {
				b.StopTimer()
				f.exec(b, func(tx *postgres.DB) error {
					_, err := tx.Exec(f.sys, `UPDATE advisories SET modified_at = now() WHERE id = (SELECT min(id) FROM advisories)`)
					return err
				})
				b.StartTimer()
			}
			i++
			start := time.Now()
			p, err := svc.List(ctx, caller, postgres.AdvisoryFilter{})
			lat = append(lat, time.Since(start))
			if err != nil || p.Total != visible {
				b.Fatalf("listed %d of %d (%v), want %d", len(p.Items), p.Total, err, visible)
			}
		}
		lat.report(b)
	})
	// The same without the list cache: every call scans (what the first
	// read after any change costs).
	svc = uncached
	b.Run("uncached/member-50-groups", run(caller, postgres.AdvisoryFilter{}, visible))
	b.Run("uncached/member-50-groups-search", run(caller, postgres.AdvisoryFilter{Q: "overflow"}, -1))
	b.Run("uncached/admin", run(f.admin, postgres.AdvisoryFilter{}, 10000))
}

// populateList bulk-loads the list benchmark's population as the system
// principal and returns the member caller and how many advisories it sees.
func populateList(b testing.TB, f *advFixture) (app.Caller, int) {
	b.Helper()
	const (
		nProjects   = 200
		nAdvisories = 10000
		nGroups     = 300 // groups that receive grants
	)
	r := rand.NewChaCha8([32]byte{1})
	ids := make([]string, nAdvisories)
	seen := map[advisory.ID]bool{}
	for i := range ids {
		id, err := advisory.NewID(r)
		if err != nil || seen[id] {
			b.Fatalf("id %d: %v (duplicate %v)", i, err, seen[id])
		}
		seen[id], ids[i] = true, string(id)
	}
	var member app.Caller
	var visible int
	f.exec(b, func(tx *postgres.DB) error {
		ctx := f.sys
		stmts := []string{
			`INSERT INTO groups (name) SELECT 'team-' || i FROM generate_series(1, 200) i`,
			`INSERT INTO groups (name) SELECT 'grantees-' || i FROM generate_series(1, 300) i`,
			`INSERT INTO projects (slug, name, security_team_id)
			 SELECT 'project-' || i, 'Project ' || i, g.id FROM generate_series(1, 200) i JOIN groups g ON g.name = 'team-' || i`,
			`INSERT INTO users (email) SELECT 'someone' || i || '@example.org' FROM generate_series(1, 500) i`,
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		// Advisories: round-robin over the projects, mixed states, one a
		// minute apart; each has two group grants and one in fifty a direct
		// grant to some user.
		if _, err := tx.Exec(ctx, `INSERT INTO advisories (advisory_id, project_id, state, summary, details, created_at, modified_at)
			SELECT x.id, p.id,
			       (ARRAY['triage','draft','draft','published','dismissed'])[1 + x.n % 5],
			       CASE WHEN x.n % 7 = 0 THEN 'Buffer overflow in module ' || x.n ELSE 'Issue ' || x.n END,
			       'Details of issue ' || x.n,
			       now() - x.n * interval '1 minute', now() - x.n * interval '1 minute'
			  FROM unnest($1::text[]) WITH ORDINALITY AS x(id, n)
			  JOIN projects p ON p.slug = 'project-' || (1 + x.n % $2)`, ids, nProjects); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission)
			SELECT a.id, 'group', g.id, CASE WHEN k = 1 THEN 'viewer' ELSE 'collaborator' END
			  FROM advisories a CROSS JOIN generate_series(1, 2) k
			  JOIN groups g ON g.name = 'grantees-' || (1 + (hashtext(a.advisory_id || k) & 2147483647) % $1)
			ON CONFLICT DO NOTHING`, nGroups); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission)
			SELECT a.id, 'user', u.id, 'viewer'
			  FROM advisories a JOIN users u ON u.email = 'someone' || (1 + a.id % 500) || '@example.org'
			 WHERE a.id % 50 = 0`); err != nil {
			return err
		}
		// The member: 10 team groups and 40 grantee groups, and the
		// direct grants of user "someone7".
		var userID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE email = 'someone7@example.org'`).Scan(&userID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id::bigint FROM groups
			WHERE name IN (SELECT 'team-' || i FROM generate_series(1, 10) i)
			   OR name IN (SELECT 'grantees-' || i FROM generate_series(1, 40) i)`)
		if err != nil {
			return err
		}
		groups, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, g := range groups {
			if _, err := tx.Exec(ctx, `INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)`, userID, g); err != nil {
				return err
			}
		}
		slices.Sort(groups)
		member = app.Caller{UserID: userID, GroupIDs: groups}
		ids, err := tx.VisibleAdvisoryIDs(ctx, member.Subject())
		visible = len(ids)
		return err
	})
	// Steady state, as autovacuum leaves it: statistics and the visibility
	// map (index-only scans) up to date.
	if _, err := f.db.Exec(f.sys, `VACUUM (ANALYZE) advisories, access_grants, projects, user_groups, groups`); err != nil {
		b.Fatal(err)
	}
	if len(member.GroupIDs) != 50 {
		b.Fatalf("member in %d groups, want 50", len(member.GroupIDs))
	}
	return member, visible
}

// latencies are per-operation durations; report adds their median and
// 95th percentile to the benchmark's output.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	at := func(q float64) float64 { return float64(s[int(q*float64(len(s)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}
