package app_test

import (
	"context"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// Lifecycle L7 and §2.3 through the services themselves: dismissing a
// draft cancels its queued CVE request (C4), and reopening restores it; an
// assigned CVE is orphaned on dismissal (O1) and reattached on reopen (O3),
// as often as the advisory goes round (lifecycle §12); a CVE an admin
// unassigned on purpose is never brought back (lifecycle §12).
func TestDismissAndReopenCarryCVEState(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()

	t.Run("C4: dismissal cancels the queued request, reopen restores it", func(t *testing.T) {
		a := queued(lanternDraft)(t, f)
		if _, err := f.svc.Dismiss(ctx, f.owner, a.AdvisoryID, "Duplicate of another report."); err != nil {
			t.Fatal(err)
		}
		if got := f.cveTasks(t, a); len(got) != 1 || got[0] != "cancelled:" {
			t.Fatalf("after dismissal: tasks %v, want the request cancelled", got)
		}
		if acts := f.actions(t, a, "cve."); !sameActions(acts, "cve.requested", "cve.request_cancelled") {
			t.Errorf("CVE audits %v", acts)
		}
		if _, err := f.svc.Reopen(ctx, f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		if got := f.cveTasks(t, a); len(got) != 2 || got[1] != "queued:" {
			t.Fatalf("after reopen: tasks %v, want the request restored", got)
		}
		if m := f.lastAudit(t, a, "advisory.reopened").Metadata; m["cve_request_restored"] != true || m["orphan_disposition"] != app.DispositionNone {
			t.Errorf("advisory.reopened metadata %v", m)
		}
	})

	t.Run("O3: dismissal orphans the CVE, reopen reattaches it, twice over (lifecycle §12)", func(t *testing.T) {
		a := reserved(lanternDraft)(t, f)
		cve := a.AssignedCVEID
		if cve == "" {
			t.Fatal("fixture has no CVE")
		}
		for round := 1; round <= 2; round++ {
			if _, err := f.svc.Dismiss(ctx, f.admin, a.AdvisoryID, "Not a vulnerability."); err != nil {
				t.Fatalf("round %d: dismiss: %v", round, err)
			}
			got := f.reload(t, a)
			if got.AssignedCVEID != "" {
				t.Fatalf("round %d: CVE %q still assigned after dismissal", round, got.AssignedCVEID)
			}
			versionedCVE(t, f, got)
			orphans := f.orphans(t, cve)
			if len(orphans) != round || orphans[round-1].Status != "orphaned" || orphans[round-1].Cause != "dismissal" {
				t.Fatalf("round %d: orphans %+v; want a new orphaned dismissal receipt", round, orphans)
			}
			if _, err := f.svc.Reopen(ctx, f.owner, a.AdvisoryID); err != nil {
				t.Fatalf("round %d: reopen: %v", round, err)
			}
			got = f.reload(t, a)
			if got.AssignedCVEID != cve {
				t.Fatalf("round %d: after reopen CVE is %q, want %s reattached", round, got.AssignedCVEID, cve)
			}
			versionedCVE(t, f, got)
			if m := f.lastAudit(t, a, "advisory.reopened").Metadata; m["orphan_disposition"] != app.DispositionReassignedDirect {
				t.Errorf("round %d: advisory.reopened metadata %v", round, m)
			}
		}
		for _, o := range f.orphans(t, cve) {
			if o.Status != "reassigned" {
				t.Errorf("orphan %+v, want every receipt reassigned", o)
			}
		}
	})

	t.Run("O1: dismissal of a CVE-bearing draft by its owner refused", func(t *testing.T) {
		a := reserved(lanternDraft)(t, f)
		n := len(f.audits(t, a))
		if _, err := f.svc.Dismiss(ctx, f.owner, a.AdvisoryID, "Not a vulnerability."); apperr.KindOf(err) != apperr.Forbidden {
			t.Fatalf("owner dismissed an advisory holding a CVE: %v", err)
		}
		if got := f.newActions(t, a, n); len(got) != 0 || len(f.orphans(t, a.AssignedCVEID)) != 0 {
			t.Errorf("refused dismissal wrote %v", got)
		}
	})

	t.Run("O3: a manually unassigned CVE is not reattached by reopen, refused (lifecycle §12)", func(t *testing.T) {
		// The admin pulls the CVE, the owner asks for a new one, then the
		// draft is dismissed and reopened: the request comes back, the
		// pulled CVE does not.
		a := reserved(lanternDraft)(t, f)
		cve := a.AssignedCVEID
		if _, err := f.svc.UnassignCVE(ctx, f.admin, a.AdvisoryID, "Wrong product."); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RequestCVE(ctx, f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Dismiss(ctx, f.owner, a.AdvisoryID, "Duplicate."); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reopen(ctx, f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		if got := f.reload(t, a); got.AssignedCVEID != "" {
			t.Errorf("reopen brought back the pulled CVE %q", got.AssignedCVEID)
		}
		if o := f.orphans(t, cve); len(o) != 1 || o[0].Status != "orphaned" || o[0].Cause != "manual" {
			t.Errorf("orphans %+v; want the manual receipt untouched", o)
		}
		if tasks := f.cveTasks(t, a); len(tasks) != 3 || tasks[2] != "queued:" {
			t.Errorf("tasks %v; want the cancelled request restored", tasks)
		}
		if m := f.lastAudit(t, a, "advisory.reopened").Metadata; m["orphan_disposition"] != app.DispositionNone || m["cve_request_restored"] != true {
			t.Errorf("advisory.reopened metadata %v", m)
		}
	})
}
