package app_test

import (
	"context"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// unassigned is a lantern draft whose reserved CVE an admin unassigned (a
// manual orphan); it returns the advisory and its orphan's id.
func unassigned(t *testing.T, f *advFixture) (*advisory.Advisory, int64) {
	t.Helper()
	a := reserved(lanternDraft)(t, f)
	if _, err := f.svc.UnassignCVE(context.Background(), f.admin, a.AdvisoryID, "Assigned by mistake."); err != nil {
		t.Fatal(err)
	}
	return f.reload(t, a), f.liveOrphan(t, a.AssignedCVEID)
}

// cascadeOrphan is a lantern draft whose reserved CVE the dismissal
// cascade (L7, O1) orphaned: an admin dismissed it, and it is put back in
// draft as the reopen's state flip would, before the restoration runs. It
// returns the advisory and its orphan's id.
func cascadeOrphan(t *testing.T, f *advFixture) (*advisory.Advisory, int64) {
	t.Helper()
	a := reserved(lanternDraft)(t, f)
	if _, err := f.svc.Dismiss(context.Background(), f.admin, a.AdvisoryID, "Duplicate."); err != nil {
		t.Fatal(err)
	}
	f.sql(t, a, `UPDATE advisories SET state = 'draft' WHERE id = $1`)
	return f.reload(t, a), f.liveOrphan(t, a.AssignedCVEID)
}

// liveOrphan is the id of cve's orphan that is not reassigned.
func (f *advFixture) liveOrphan(t *testing.T, cve advisory.CVEID) int64 {
	t.Helper()
	var id int64
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT id FROM orphan_cves WHERE cve_id = $1 AND status <> 'reassigned'`, string(cve)).Scan(&id)
	})
	return id
}

// orphanRow is one orphan receipt as stored.
type orphanRow struct {
	ID     int64
	Status string
	Cause  string
}

// orphans lists cve's orphan receipts, oldest first.
func (f *advFixture) orphans(t *testing.T, cve advisory.CVEID) []orphanRow {
	t.Helper()
	var out []orphanRow
	f.exec(t, func(tx *postgres.DB) error {
		rows, err := tx.Query(f.sys, `SELECT id, status, cause FROM orphan_cves WHERE cve_id = $1 ORDER BY id`, string(cve))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o orphanRow
			if err := rows.Scan(&o.ID, &o.Status, &o.Cause); err != nil {
				return err
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	return out
}

func (f *advFixture) orphanStatus(t *testing.T, id int64) string {
	t.Helper()
	var s string
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT status FROM orphan_cves WHERE id = $1`, id).Scan(&s)
	})
	return s
}

func (f *advFixture) orphanCVE(t *testing.T, id int64) advisory.CVEID {
	t.Helper()
	var s string
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT cve_id FROM orphan_cves WHERE id = $1`, id).Scan(&s)
	})
	return advisory.CVEID(s)
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

// wantRefused runs a call that must be refused with kind and checks it wrote
// no audit row and no version on a.
func wantRefused(t *testing.T, f *advFixture, a *advisory.Advisory, kind apperr.Kind, call func() error) {
	t.Helper()
	n, v := len(f.audits(t, a)), f.versionCount(t, a)
	if err := call(); apperr.KindOf(err) != kind {
		t.Fatalf("error %v (kind %v), want kind %v", err, apperr.KindOf(err), kind)
	}
	if got := f.newActions(t, a, n); len(got) != 0 || f.versionCount(t, a) != v {
		t.Errorf("refused call wrote audits %v and %d versions", got, f.versionCount(t, a)-v)
	}
}

// TestMarkOrphanRejected covers O5.
func TestMarkOrphanRejected(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	t.Run("O5: mark rejected", func(t *testing.T) {
		a, id := unassigned(t, f)
		n := len(f.audits(t, a))
		if err := f.svc.MarkOrphanRejected(ctx, f.admin, id, "Rejected at cve.org."); err != nil {
			t.Fatal(err)
		}
		if got := f.newActions(t, a, n); !sameActions(got, "cve.marked_rejected_at_cve_org") {
			t.Errorf("audits %v", got)
		}
		r := f.lastAudit(t, a, "cve.marked_rejected_at_cve_org")
		if r.ActorID != f.admin.UserID || r.Metadata["orphan_id"] != float64(id) || r.Metadata["cve_id"] != string(f.orphanCVE(t, id)) {
			t.Errorf("audit %+v", r)
		}
		if s := f.orphanStatus(t, id); s != "marked_rejected" {
			t.Errorf("orphan %s", s)
		}
	})
	t.Run("O5: owner refused", func(t *testing.T) {
		a, id := unassigned(t, f)
		wantRefused(t, f, a, apperr.Forbidden, func() error { return f.svc.MarkOrphanRejected(ctx, f.owner, id, "done") })
		if s := f.orphanStatus(t, id); s != "orphaned" {
			t.Errorf("orphan %s", s)
		}
	})
	t.Run("O5: already marked, refused", func(t *testing.T) {
		a, id := unassigned(t, f)
		if err := f.svc.MarkOrphanRejected(ctx, f.admin, id, ""); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, f, a, apperr.Conflict, func() error { return f.svc.MarkOrphanRejected(ctx, f.admin, id, "again") })
	})
	t.Run("O5: reassigned orphan refused", func(t *testing.T) {
		a, id := unassigned(t, f)
		f.sql(t, a, `UPDATE orphan_cves SET status = 'reassigned' WHERE previous_advisory_id = $1`)
		wantRefused(t, f, a, apperr.Conflict, func() error { return f.svc.MarkOrphanRejected(ctx, f.admin, id, "") })
	})
	t.Run("O5: unknown orphan refused", func(t *testing.T) {
		if err := f.svc.MarkOrphanRejected(ctx, f.admin, 1<<40, ""); apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("unknown orphan: %v, want not found", err)
		}
	})
}

// TestRestoreOnReopen covers the reopen restoration algorithm (lifecycle
// §2.3: the CVE-request restore, O3 and T1) through the hook the Reopen
// service (and the un-withdraw, L14) calls inside its transaction.
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
	wantRequested := func(t *testing.T, a *advisory.Advisory, id int64, status string) {
		t.Helper()
		r := f.lastAudit(t, a, "cve.orphan_reassignment_requested")
		if r.ActorID != f.owner.UserID || r.Metadata["orphan_id"] != float64(id) || r.Metadata["orphan_status"] != status {
			t.Errorf("cve.orphan_reassignment_requested %+v; want orphan_id %d, orphan_status %s by the reopener", r, id, status)
		}
	}
	queuedTasks := func(t *testing.T, id int64) int {
		t.Helper()
		var n int
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT count(*) FROM orphan_cve_reassignments WHERE orphan_cve_id = $1 AND status = 'queued'`, id).Scan(&n)
		})
		return n
	}

	t.Run("O3: orphaned dismissal receipt reattached directly", func(t *testing.T) {
		a, id := cascadeOrphan(t, f)
		cve, v := f.orphanCVE(t, id), f.versionCount(t, a)
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionReassignedDirect || !sameActions(got, "cve.reassigned_from_orphan") {
			t.Errorf("%+v %v", r, got)
		}
		after := f.reload(t, a)
		if f.orphanStatus(t, id) != "reassigned" || after.AssignedCVEID != cve {
			t.Errorf("CVE %q, orphan %s; want %s reattached", after.AssignedCVEID, f.orphanStatus(t, id), cve)
		}
		if m := f.lastAudit(t, a, "cve.reassigned_from_orphan").Metadata; m["orphan_id"] != float64(id) || m["cve_id"] != string(cve) {
			t.Errorf("cve.reassigned_from_orphan metadata %v", m)
		}
		// §12: the reattachment is versioned in the same transaction.
		if f.versionCount(t, a) != v+1 {
			t.Errorf("%d versions appended, want 1", f.versionCount(t, a)-v)
		}
		versionedCVE(t, f, after)
	})
	t.Run("O3: orphaned withdrawal receipt reattached on un-withdraw", func(t *testing.T) {
		a, id := cascadeOrphan(t, f)
		f.sql(t, a, `UPDATE orphan_cves SET cause = 'withdrawal' WHERE previous_advisory_id = $1`)
		f.sql(t, a, `UPDATE advisories SET state = 'dismissed', dismissed_from_state = 'published', dismissed_reason = 'x' WHERE id = $1`)
		r, got := restore(t, a, true)
		if r.OrphanDisposition != app.DispositionReassignedDirect || r.CVERequestRestored || !sameActions(got, "cve.reassigned_from_orphan") {
			t.Errorf("%+v %v", r, got)
		}
		if f.reload(t, a).AssignedCVEID != f.orphanCVE(t, id) {
			t.Error("CVE not reattached")
		}
	})
	t.Run("O3: manual orphan not reattached, refused (lifecycle §12)", func(t *testing.T) {
		a, id := unassigned(t, f)
		v := f.versionCount(t, a)
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionNone || len(got) != 0 {
			t.Errorf("%+v %v; want the manual orphan left alone", r, got)
		}
		if f.orphanStatus(t, id) != "orphaned" || f.reload(t, a).AssignedCVEID != "" || f.versionCount(t, a) != v || queuedTasks(t, id) != 0 {
			t.Error("a manually unassigned CVE came back")
		}
	})
	t.Run("O3: CVE held elsewhere, refused: admin task instead (T1)", func(t *testing.T) {
		a, id := cascadeOrphan(t, f)
		other := f.lanternDraft(t)
		f.sql(t, other, `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, string(f.orphanCVE(t, id)))
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || !sameActions(got, "cve.orphan_reassignment_requested") {
			t.Errorf("%+v %v", r, got)
		}
		wantRequested(t, a, id, "orphaned")
		if f.orphanStatus(t, id) != "orphaned" || f.reload(t, a).AssignedCVEID != "" || queuedTasks(t, id) != 1 {
			t.Error("orphan or advisory changed, or no task queued")
		}
	})
	t.Run("O3: advisory already holds a CVE, refused: admin task instead (T1)", func(t *testing.T) {
		a, id := cascadeOrphan(t, f)
		f.sql(t, a, `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, nextCVE())
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || !sameActions(got, "cve.orphan_reassignment_requested") {
			t.Errorf("%+v %v", r, got)
		}
		if f.orphanStatus(t, id) != "orphaned" || queuedTasks(t, id) != 1 {
			t.Error("orphan changed, or no task queued")
		}
	})
	t.Run("T1: marked rejected: admin task queued once", func(t *testing.T) {
		a, id := cascadeOrphan(t, f)
		if err := f.svc.MarkOrphanRejected(context.Background(), f.admin, id, ""); err != nil {
			t.Fatal(err)
		}
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || !sameActions(got, "cve.orphan_reassignment_requested") {
			t.Errorf("%+v %v", r, got)
		}
		wantRequested(t, a, id, "marked_rejected")
		r, got = restore(t, a, false)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || len(got) != 0 || queuedTasks(t, id) != 1 {
			t.Errorf("second restore: %+v %v; want the queued task reused silently (one per orphan)", r, got)
		}
	})
	t.Run("T1: un-withdraw queues the admin task with its audit row (lifecycle §12 parity with L13)", func(t *testing.T) {
		a, id := cascadeOrphan(t, f)
		f.sql(t, a, `UPDATE orphan_cves SET cause = 'withdrawal' WHERE previous_advisory_id = $1`)
		if err := f.svc.MarkOrphanRejected(context.Background(), f.admin, id, ""); err != nil {
			t.Fatal(err)
		}
		r, got := restore(t, a, true)
		if r.OrphanDisposition != app.DispositionQueuedAdminTask || !sameActions(got, "cve.orphan_reassignment_requested") {
			t.Errorf("%+v %v", r, got)
		}
		wantRequested(t, a, id, "marked_rejected")
	})
	t.Run("T1: manual orphan marked rejected, refused: no task", func(t *testing.T) {
		a, id := unassigned(t, f)
		if err := f.svc.MarkOrphanRejected(context.Background(), f.admin, id, ""); err != nil {
			t.Fatal(err)
		}
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionNone || len(got) != 0 || queuedTasks(t, id) != 0 {
			t.Errorf("%+v %v", r, got)
		}
	})
	t.Run("T1: already reassigned, refused: nothing", func(t *testing.T) {
		a, id := cascadeOrphan(t, f)
		if r, _ := restore(t, a, false); r.OrphanDisposition != app.DispositionReassignedDirect {
			t.Fatalf("%+v", r)
		}
		r, got := restore(t, a, false)
		if r.OrphanDisposition != app.DispositionAlreadyReassigned || len(got) != 0 || queuedTasks(t, id) != 0 {
			t.Errorf("%+v %v", r, got)
		}
	})
	t.Run("T1: no orphan, refused: nothing", func(t *testing.T) {
		r, got := restore(t, f.lanternDraft(t), false)
		if r.OrphanDisposition != app.DispositionNone || r.CVERequestRestored || len(got) != 0 {
			t.Errorf("%+v %v", r, got)
		}
	})
	t.Run("L13: restoration re-queues a cancelled CVE request", func(t *testing.T) {
		a := queued(lanternDraft)(t, f)
		f.sql(t, a, `UPDATE cve_requests SET status = 'cancelled' WHERE advisory_id = $1`)
		r, got := restore(t, a, false)
		if !r.CVERequestRestored || r.OrphanDisposition != app.DispositionNone || !sameActions(got, "cve.requested") {
			t.Errorf("%+v %v", r, got)
		}
		if tasks := f.cveTasks(t, a); len(tasks) != 2 || tasks[1] != "queued:" {
			t.Errorf("tasks %v", tasks)
		}
		if r := f.lastAudit(t, a, "cve.requested"); r.ActorID != f.owner.UserID {
			t.Errorf("request restored as %d, want the reopener", r.ActorID)
		}
	})
	t.Run("L13: restoration of a CVE request refused for triage, un-withdraw, a rejected or no request", func(t *testing.T) {
		cancelled := `UPDATE cve_requests SET status = 'cancelled' WHERE advisory_id = $1`
		triage := queued(lanternDraft)(t, f)
		f.sql(t, triage, cancelled)
		f.sql(t, triage, `UPDATE advisories SET state = 'triage' WHERE id = $1`)
		unwithdrawn := queued(lanternDraft)(t, f)
		f.sql(t, unwithdrawn, cancelled)
		rejected := queued(lanternDraft)(t, f)
		f.sql(t, rejected, `UPDATE cve_requests SET status = 'rejected' WHERE advisory_id = $1`)
		for _, c := range []struct {
			name       string
			a          *advisory.Advisory
			unwithdraw bool
		}{{"triage", triage, false}, {"un-withdraw", unwithdrawn, true}, {"rejected", rejected, false}, {"none", f.lanternDraft(t), false}} {
			if r, got := restore(t, c.a, c.unwithdraw); r.CVERequestRestored || len(got) != 0 {
				t.Errorf("%s: %+v %v; want no request", c.name, r, got)
			}
		}
	})
}

// TestResolveOrphanReassignment covers T2 (O4) and T3 (C5).
func TestResolveOrphanReassignment(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	queuedTask := func(t *testing.T) (*advisory.Advisory, int64, int64) {
		t.Helper()
		a, id := cascadeOrphan(t, f)
		var taskID int64
		f.exec(t, func(tx *postgres.DB) error {
			var err error
			taskID, _, err = tx.QueueOrphanReassignment(f.sys, id, a.ID, f.owner.UserID)
			return err
		})
		return a, taskID, id
	}
	resolve := func(c app.Caller, task int64, outcome, replacement string) func() error {
		return func() error {
			_, err := f.svc.ResolveOrphanReassignment(ctx, c, task, outcome, replacement, "")
			return err
		}
	}
	t.Run("T2: resolve as reassigned", func(t *testing.T) {
		a, task, id := queuedTask(t)
		n, v := len(f.audits(t, a)), f.versionCount(t, a)
		got, err := f.svc.ResolveOrphanReassignment(ctx, f.admin, task, app.OutcomeReassigned, "", "Reattached.")
		if err != nil {
			t.Fatal(err)
		}
		after := f.reload(t, a)
		if got.Status != advisory.ReassignmentResolved || after.AssignedCVEID != f.orphanCVE(t, id) || f.orphanStatus(t, id) != "reassigned" {
			t.Errorf("task %+v, CVE %q, orphan %s", got, after.AssignedCVEID, f.orphanStatus(t, id))
		}
		if f.versionCount(t, a) != v+1 {
			t.Errorf("%d versions appended, want 1 (lifecycle §12)", f.versionCount(t, a)-v)
		}
		versionedCVE(t, f, after)
		if acts := f.newActions(t, a, n); !sameActions(acts, "cve.reassigned_from_orphan", "cve.orphan_reassignment_resolved") {
			t.Errorf("audits %v", acts)
		}
		if m := f.lastAudit(t, a, "cve.orphan_reassignment_resolved").Metadata; m["task_id"] != float64(task) || m["orphan_id"] != float64(id) || m["outcome"] != "reassigned" {
			t.Errorf("cve.orphan_reassignment_resolved metadata %v", m)
		}
	})
	t.Run("T2: owner refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		wantRefused(t, f, a, apperr.Forbidden, resolve(f.owner, task, app.OutcomeReassigned, ""))
	})
	t.Run("T2: resolved twice, refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		if err := resolve(f.admin, task, app.OutcomeReassigned, "")(); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, f, a, apperr.Conflict, resolve(f.admin, task, app.OutcomeReassigned, ""))
	})
	t.Run("T2: unknown outcome refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		wantRefused(t, f, a, apperr.Invalid, resolve(f.admin, task, "dropped", ""))
	})
	t.Run("O4: marked-rejected orphan reattached", func(t *testing.T) {
		a, task, id := queuedTask(t)
		if err := f.svc.MarkOrphanRejected(ctx, f.admin, id, ""); err != nil {
			t.Fatal(err)
		}
		if err := resolve(f.admin, task, app.OutcomeReassigned, "")(); err != nil {
			t.Fatal(err)
		}
		if f.orphanStatus(t, id) != "reassigned" || f.reload(t, a).AssignedCVEID != f.orphanCVE(t, id) {
			t.Error("not reattached")
		}
	})
	t.Run("O4: CVE held by another advisory refused", func(t *testing.T) {
		a, task, id := queuedTask(t)
		f.sql(t, f.lanternDraft(t), `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, string(f.orphanCVE(t, id)))
		wantRefused(t, f, a, apperr.Conflict, resolve(f.admin, task, app.OutcomeReassigned, ""))
		if f.orphanStatus(t, id) != "orphaned" {
			t.Error("orphan changed")
		}
	})
	t.Run("O4: advisory already holds a CVE refused (INV-CVE-2)", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		f.sql(t, a, `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, nextCVE())
		wantRefused(t, f, a, apperr.Conflict, resolve(f.admin, task, app.OutcomeReassigned, ""))
	})
	t.Run("T3: resolve as replaced", func(t *testing.T) {
		a, task, id := queuedTask(t)
		if err := f.svc.MarkOrphanRejected(ctx, f.admin, id, ""); err != nil {
			t.Fatal(err)
		}
		n := len(f.audits(t, a))
		cve := nextCVE()
		got, err := f.svc.ResolveOrphanReassignment(ctx, f.admin, task, app.OutcomeReplaced, cve, "Old one rejected.")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != advisory.ReassignmentReplaced || string(got.ReplacementCVEID) != cve || string(f.reload(t, a).AssignedCVEID) != cve {
			t.Errorf("task %+v", got)
		}
		if f.orphanStatus(t, id) != "marked_rejected" {
			t.Errorf("orphan %s, want it left marked_rejected", f.orphanStatus(t, id))
		}
		if acts := f.newActions(t, a, n); !sameActions(acts, "cve.task_status_changed", "cve.orphan_reassignment_resolved") {
			t.Errorf("audits %v", acts)
		}
	})
	t.Run("T3: bad replacement refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		wantRefused(t, f, a, apperr.Invalid, resolve(f.admin, task, app.OutcomeReplaced, "CVE-1"))
	})
	t.Run("T3: advisory already holds a CVE refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		f.sql(t, a, `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, nextCVE())
		wantRefused(t, f, a, apperr.Conflict, resolve(f.admin, task, app.OutcomeReplaced, nextCVE()))
	})
	t.Run("T3: replacement held by another advisory refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		cve := nextCVE()
		f.sql(t, f.lanternDraft(t), `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, cve)
		wantRefused(t, f, a, apperr.Conflict, resolve(f.admin, task, app.OutcomeReplaced, cve))
	})
	t.Run("T3: owner refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		wantRefused(t, f, a, apperr.Forbidden, resolve(f.owner, task, app.OutcomeReplaced, nextCVE()))
	})
	t.Run("C5: replacement creates a reserved CVE request", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		n, v := len(f.audits(t, a)), f.versionCount(t, a)
		cve := nextCVE()
		if err := resolve(f.admin, task, app.OutcomeReplaced, cve)(); err != nil {
			t.Fatal(err)
		}
		if tasks := f.cveTasks(t, a); tasks[len(tasks)-1] != "reserved:"+cve {
			t.Errorf("CVE tasks %v; want a reserved request for the replacement", tasks)
		}
		r := f.lastAudit(t, a, "cve.task_status_changed")
		if r.Metadata["cve_id"] != cve || r.Metadata["task_id"] != float64(f.newestCVETaskID(a)) {
			t.Errorf("cve.task_status_changed metadata %v", r.Metadata)
		}
		var prev, next map[string]any
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT previous_value, new_value FROM audit_log WHERE advisory_id = $1 AND action = 'cve.task_status_changed'
				ORDER BY id DESC LIMIT 1`, a.ID).Scan(&prev, &next)
		})
		if prev["status"] != "" || next["status"] != "reserved" {
			t.Errorf("status change %v → %v, want \"\" → reserved", prev, next)
		}
		var assignee int64
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT COALESCE(assignee_id, 0) FROM cve_requests WHERE id = $1`, f.newestCVETaskID(a)).Scan(&assignee)
		})
		if assignee != f.admin.UserID {
			t.Errorf("assignee %d, want the admin", assignee)
		}
		if f.versionCount(t, a) != v+1 {
			t.Errorf("%d versions appended, want 1 (lifecycle §12)", f.versionCount(t, a)-v)
		}
		versionedCVE(t, f, f.reload(t, a))
		if acts := f.newActions(t, a, n); !sameActions(acts, "cve.task_status_changed", "cve.orphan_reassignment_resolved") {
			t.Errorf("audits %v", acts)
		}
	})
	t.Run("C5: replacement by a collaborator refused", func(t *testing.T) {
		a, task, _ := queuedTask(t)
		wantRefused(t, f, a, apperr.Forbidden, resolve(f.collab, task, app.OutcomeReplaced, nextCVE()))
		if tasks := f.cveTasks(t, a); len(tasks) != 1 {
			t.Errorf("CVE tasks %v; want only the original reservation", tasks)
		}
	})
}
