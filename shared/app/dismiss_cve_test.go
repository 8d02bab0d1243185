package app_test

import (
	"context"
	"testing"
)

// Lifecycle L7 and §2.3 through the services themselves: dismissing a
// draft cancels its queued CVE request, and reopening restores it; an
// assigned CVE is orphaned on dismissal and reattached on reopen.
func TestDismissAndReopenCarryCVEState(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()

	t.Run("queued request", func(t *testing.T) {
		a := queued(lanternDraft)(t, f)
		if _, err := f.svc.Dismiss(ctx, f.owner, a.AdvisoryID, "Duplicate of another report."); err != nil {
			t.Fatal(err)
		}
		if got := f.cveTasks(t, a); len(got) != 1 || got[0] != "cancelled:" {
			t.Fatalf("after dismissal: tasks %v, want the request cancelled", got)
		}
		if _, err := f.svc.Reopen(ctx, f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		if got := f.cveTasks(t, a); len(got) != 2 || got[1] != "queued:" {
			t.Fatalf("after reopen: tasks %v, want the request restored", got)
		}
	})

	t.Run("assigned CVE", func(t *testing.T) {
		a := reserved(lanternDraft)(t, f)
		cve := a.AssignedCVEID
		if cve == "" {
			t.Fatal("fixture has no CVE")
		}
		// With a CVE assigned only an admin may dismiss.
		if _, err := f.svc.Dismiss(ctx, f.owner, a.AdvisoryID, "Not a vulnerability."); err == nil {
			t.Fatal("owner dismissed an advisory holding a CVE")
		}
		if _, err := f.svc.Dismiss(ctx, f.admin, a.AdvisoryID, "Not a vulnerability."); err != nil {
			t.Fatal(err)
		}
		if got := f.reload(t, a); got.AssignedCVEID != "" {
			t.Fatalf("CVE %q still assigned after dismissal", got.AssignedCVEID)
		}
		if _, err := f.svc.Reopen(ctx, f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		if got := f.reload(t, a); got.AssignedCVEID != cve {
			t.Fatalf("after reopen CVE is %q, want %s reattached", got.AssignedCVEID, cve)
		}
	})
}
