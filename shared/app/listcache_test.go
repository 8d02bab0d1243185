package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// TestListCacheFollowsEveryChange: a cached list page is reused only while
// nothing it depends on has changed (INV-PRIVACY-1). Each step changes one
// input of the list through raw SQL, as any code path (or an operator)
// might, and the next List must show the change at once: a revoked grant
// or membership hides the advisory, a new one shows it, a content or
// project edit shows the new values. Between changes the page is served
// from the cache.
func TestListCacheFollowsEveryChange(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	a := f.lanternDraft(t) // grants the viewer group viewer
	b := f.draft(t, "jetty", f.jettyOwner)

	list := func(c app.Caller, fl postgres.AdvisoryFilter) []string {
		t.Helper()
		p, err := f.svc.List(ctx, c, fl)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range p.Items {
			out = append(out, fmt.Sprintf("%s %s %s %s", it.AdvisoryID, it.ProjectName, it.Summary, it.State))
		}
		if p.Total != len(p.Items) {
			t.Fatalf("total %d for %d items", p.Total, len(p.Items))
		}
		return out
	}
	row := func(x *advisory.Advisory, project, summary string, state advisory.State) string {
		return fmt.Sprintf("%s %s %s %s", x.AdvisoryID, project, summary, state)
	}
	sum := goodContent().Summary
	expect := func(step string, c app.Caller, want ...string) {
		t.Helper()
		h0, m0, _ := app.ListCacheStats(f.svc)
		got := list(c, postgres.AdvisoryFilter{})
		if !slices.Equal(got, want) {
			t.Fatalf("%s: lists %q, want %q", step, got, want)
		}
		// The same call again is a hit and lists the same.
		if again := list(c, postgres.AdvisoryFilter{}); !slices.Equal(again, want) {
			t.Fatalf("%s: cached list %q, want %q", step, again, want)
		}
		h1, m1, _ := app.ListCacheStats(f.svc)
		if h1-h0 != 1 || m1-m0 != 1 {
			t.Fatalf("%s: %d hits and %d misses, want one of each", step, h1-h0, m1-m0)
		}
	}
	exec := func(stmt string, args ...any) {
		t.Helper()
		f.exec(t, func(tx *postgres.DB) error { _, err := tx.Exec(f.sys, stmt, args...); return err })
	}

	exec(`DELETE FROM access_grants WHERE advisory_id = $1`, b.ID)
	expect("start", f.viewer, row(a, "Eclipse Lantern", sum, advisory.StateDraft))

	exec(`DELETE FROM access_grants WHERE advisory_id = $1 AND principal_type = 'group'`, a.ID)
	expect("group grant revoked", f.viewer)

	exec(`INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission) VALUES ($1, 'group', $2, 'viewer')`, b.ID, f.viewerGroup)
	expect("group grant on the other", f.viewer, row(b, "Eclipse Jetty", sum, advisory.StateDraft))

	exec(`UPDATE advisories SET summary = 'Renamed', state = 'dismissed' WHERE id = $1`, b.ID)
	expect("content and state", f.viewer, row(b, "Eclipse Jetty", "Renamed", advisory.StateDismissed))

	exec(`UPDATE projects SET name = 'Eclipse Jetty 12' WHERE slug = 'jetty'`)
	expect("project renamed", f.viewer, row(b, "Eclipse Jetty 12", "Renamed", advisory.StateDismissed))

	// The row-level-security policy reads the membership mirror, not the
	// session's group list: dropping the membership hides the advisory
	// even from a caller whose session still names the group.
	exec(`DELETE FROM user_groups WHERE user_id = $1`, f.viewer.UserID)
	expect("membership dropped", f.viewer)
	exec(`INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)`, f.viewer.UserID, f.viewerGroup)
	expect("membership restored", f.viewer, row(b, "Eclipse Jetty 12", "Renamed", advisory.StateDismissed))

	// Different callers and filters never share a page.
	if got := list(f.jettyOwner, postgres.AdvisoryFilter{}); len(got) != 1 || got[0] != row(b, "Eclipse Jetty 12", "Renamed", advisory.StateDismissed) {
		t.Fatalf("jetty owner lists %q", got)
	}
	if got := list(f.owner, postgres.AdvisoryFilter{}); len(got) != 1 || got[0] != row(a, "Eclipse Lantern", sum, advisory.StateDraft) {
		t.Fatalf("lantern owner lists %q", got)
	}
	if got := list(f.viewer, postgres.AdvisoryFilter{State: advisory.StateDraft}); len(got) != 0 {
		t.Fatalf("viewer's drafts: %q", got)
	}
	if got := list(f.stranger, postgres.AdvisoryFilter{}); len(got) != 0 {
		t.Fatalf("stranger lists %q", got)
	}
}

// TestListGenerationAdvancesOncePerCommit: the generation moves once per
// committing transaction that touches a list input, however many rows it
// writes; a rolled-back or unrelated transaction leaves it alone.
func TestListGenerationAdvancesOncePerCommit(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	a := f.lanternDraft(t)
	gen := func() int64 {
		t.Helper()
		var n int64
		f.exec(t, func(tx *postgres.DB) error {
			var err error
			n, err = tx.ListGeneration(f.sys)
			return err
		})
		return n
	}
	g0 := gen()
	f.exec(t, func(tx *postgres.DB) error {
		for i := range 5 {
			if _, err := tx.Exec(f.sys, `UPDATE advisories SET summary = $2 WHERE id = $1`, a.ID, fmt.Sprint("s", i)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(f.sys, `UPDATE projects SET name = name || '!'`)
		return err
	})
	if g := gen(); g != g0+1 {
		t.Fatalf("generation %d after one transaction, want %d", g, g0+1)
	}
	err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		if _, err := tx.Exec(f.sys, `UPDATE advisories SET summary = 'rolled back' WHERE id = $1`, a.ID); err != nil {
			return err
		}
		return fmt.Errorf("roll back")
	})
	if err == nil {
		t.Fatal("the transaction committed")
	}
	f.exec(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(f.sys, `INSERT INTO groups (name) VALUES ('unrelated')`)
		return err
	})
	if g := gen(); g != g0+1 {
		t.Fatalf("generation %d after a rollback and an unrelated write, want %d", g, g0+1)
	}
}
