package app_test

import (
	"context"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// unassigned is a lantern draft whose reserved CVE an admin unassigned; it
// returns the advisory and its orphan's id.
func unassigned(t *testing.T, f *advFixture) (*advisory.Advisory, int64) {
	t.Helper()
	a := reserved(lanternDraft)(t, f)
	if _, err := f.svc.UnassignCVE(context.Background(), f.admin, a.AdvisoryID, "Assigned by mistake."); err != nil {
		t.Fatal(err)
	}
	var id int64
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT id FROM orphan_cves WHERE cve_id = $1`, string(a.AssignedCVEID)).Scan(&id)
	})
	return f.reload(t, a), id
}

func (f *advFixture) orphanStatus(t *testing.T, id int64) string {
	t.Helper()
	var s string
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT status FROM orphan_cves WHERE id = $1`, id).Scan(&s)
	})
	return s
}

func (f *advFixture) newActions(t *testing.T, a *advisory.Advisory, before int) []string {
	t.Helper()
	var out []string
	for _, r := range f.audits(t, a)[before:] {
		out = append(out, r.Action)
	}
	return out
}

func sameActions(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestMarkOrphanRejected covers O5.
func TestMarkOrphanRejected(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	a, id := unassigned(t, f)
	n := len(f.audits(t, a))
	if err := f.svc.MarkOrphanRejected(ctx, f.owner, id, "done"); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("owner: %v, want forbidden", err)
	}
	if err := f.svc.MarkOrphanRejected(ctx, f.admin, id, "Rejected at cve.org."); err != nil {
		t.Fatal(err)
	}
	if got := f.newActions(t, a, n); !sameActions(got, "cve.marked_rejected_at_cve_org") {
		t.Errorf("audits %v", got)
	}
	if s := f.orphanStatus(t, id); s != "marked_rejected" {
		t.Errorf("orphan %s", s)
	}
	if err := f.svc.MarkOrphanRejected(ctx, f.admin, id, "again"); apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("second mark: %v, want conflict", err)
	}
	if err := f.svc.MarkOrphanRejected(ctx, f.admin, id+1000, ""); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("unknown orphan: %v, want not found", err)
	}
}

// TestRestoreOnReopen covers §2.3 (O3, T1 and the CVE-request restore)
// through the hook the Reopen service calls inside its transaction.
func TestRestoreOnReopen(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	restore := func(t *testing.T, a *advisory.Advisory, unwithdraw bool) (app.Restoration, []string) {
		t.Helper()
		n := len(f.audits(t, a))
		var r app.Restoration
		f.exec(t, func(tx *postgres.DB) error {
			locked, err := tx.AdvisoryByIDForUpdate(f.sys, a.AdvisoryID)
			if err != nil {
				return err
			}
			r, err = app.RestoreOnReopen(f.sys, tx, f.owner, locked, unwithdraw)
			return err
		})
		return r, f.newActions(t, a, n)
	}
	t.Run("orphaned: reattached", func(t *testing.T) {
		a, id := unassigned(t, f)
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionReassignedDirect || !sameActions(got, "cve.reassigned_from_orphan") {
			t.Errorf("%+v %v", r, got)
		}
		if f.orphanStatus(t, id) != "reassigned" || f.reload(t, a).AssignedCVEID == "" {
			t.Error("CVE not reattached")
		}
		// Orphaned again later: the reassigned row is reused (lifecycle §12).
		if _, err := f.svc.UnassignCVE(context.Background(), f.admin, a.AdvisoryID, "Again."); err != nil {
			t.Fatal(err)
		}
		if f.orphanStatus(t, id) != "orphaned" {
			t.Error("orphan row not reopened")
		}
	})
	t.Run("marked rejected: admin task queued once", func(t *testing.T) {
		a, id := unassigned(t, f)
		if err := f.svc.MarkOrphanRejected(context.Background(), f.admin, id, ""); err != nil {
			t.Fatal(err)
		}
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || !sameActions(got, "cve.orphan_reassignment_requested") {
			t.Errorf("%+v %v", r, got)
		}
		r, got = restore(t, a, false)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || len(got) != 0 {
			t.Errorf("second restore: %+v %v; want the queued task reused silently", r, got)
		}
	})
	t.Run("orphaned but CVE held elsewhere: admin task", func(t *testing.T) {
		a, id := unassigned(t, f)
		var cve string
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT cve_id FROM orphan_cves WHERE id = $1`, id).Scan(&cve)
		})
		other := f.lanternDraft(t)
		f.sql(t, other, `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, cve)
		r, got := restore(t, a, true)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || !sameActions(got, "cve.orphan_reassignment_requested") {
			t.Errorf("%+v %v", r, got)
		}
	})
	t.Run("cancelled request restored", func(t *testing.T) {
		a := queued(lanternDraft)(t, f)
		f.sql(t, a, `UPDATE cve_requests SET status = 'cancelled' WHERE advisory_id = $1`)
		r, got := restore(t, a, false)
		if !r.CVERequestRestored || r.OrphanDisposition != app.DispositionNone || !sameActions(got, "cve.requested") {
			t.Errorf("%+v %v", r, got)
		}
		if r, _ := restore(t, f.lanternDraft(t), false); r.CVERequestRestored {
			t.Error("restored a request that never existed")
		}
	})
}

// TestResolveOrphanReassignment covers T2 (O4) and T3 (C5).
func TestResolveOrphanReassignment(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	queuedTask := func(t *testing.T) (*advisory.Advisory, int64) {
		t.Helper()
		a, id := unassigned(t, f)
		var taskID int64
		f.exec(t, func(tx *postgres.DB) error {
			var err error
			taskID, _, err = tx.QueueOrphanReassignment(f.sys, id, a.ID, f.owner.UserID)
			return err
		})
		return a, taskID
	}
	t.Run("reassigned", func(t *testing.T) {
		a, task := queuedTask(t)
		n, v := len(f.audits(t, a)), f.versionCount(t, a)
		if _, err := f.svc.ResolveOrphanReassignment(ctx, f.owner, task, app.OutcomeReassigned, "", ""); apperr.KindOf(err) != apperr.Forbidden {
			t.Errorf("owner: %v, want forbidden", err)
		}
		got, err := f.svc.ResolveOrphanReassignment(ctx, f.admin, task, app.OutcomeReassigned, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != advisory.ReassignmentResolved || f.reload(t, a).AssignedCVEID == "" || f.versionCount(t, a) != v+1 {
			t.Errorf("task %+v", got)
		}
		if acts := f.newActions(t, a, n); !sameActions(acts, "cve.reassigned_from_orphan", "cve.orphan_reassignment_resolved") {
			t.Errorf("audits %v", acts)
		}
		if _, err := f.svc.ResolveOrphanReassignment(ctx, f.admin, task, app.OutcomeReassigned, "", ""); apperr.KindOf(err) != apperr.Conflict {
			t.Errorf("resolved twice: %v, want conflict", err)
		}
	})
	t.Run("replaced", func(t *testing.T) {
		a, task := queuedTask(t)
		n := len(f.audits(t, a))
		if _, err := f.svc.ResolveOrphanReassignment(ctx, f.admin, task, app.OutcomeReplaced, "CVE-1", ""); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("bad replacement: %v, want invalid", err)
		}
		cve := nextCVE()
		got, err := f.svc.ResolveOrphanReassignment(ctx, f.admin, task, app.OutcomeReplaced, cve, "Old one rejected.")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != advisory.ReassignmentReplaced || string(f.reload(t, a).AssignedCVEID) != cve {
			t.Errorf("task %+v", got)
		}
		if acts := f.newActions(t, a, n); !sameActions(acts, "cve.task_status_changed", "cve.orphan_reassignment_resolved") {
			t.Errorf("audits %v", acts)
		}
		if tasks := f.cveTasks(t, a); tasks[len(tasks)-1] != "reserved:"+cve {
			t.Errorf("CVE tasks %v; want a reserved request for the replacement (C5)", tasks)
		}
	})
	t.Run("advisory already holds a CVE", func(t *testing.T) {
		a, task := queuedTask(t)
		f.sql(t, a, `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, nextCVE())
		if _, err := f.svc.ResolveOrphanReassignment(ctx, f.admin, task, app.OutcomeReplaced, nextCVE(), ""); apperr.KindOf(err) != apperr.Conflict {
			t.Errorf("%v, want conflict", err)
		}
	})
}
