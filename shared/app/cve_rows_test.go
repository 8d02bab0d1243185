package app_test

import (
	"context"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
)

// TestCVERowsThroughPublication follows one CVE through the publication
// worker: reserved (C2) and published at once (lifecycle §12: the
// reservation is versioned, so the export carries it), orphaned by the
// withdrawal finalisation (O2, cause withdrawal), reattached by an
// un-withdraw (O3, §2.3 step 2), re-published, and withdrawn again, which
// orphans the same CVE a second time without colliding with its reassigned
// receipt (lifecycle §12).
func TestCVERowsThroughPublication(t *testing.T) {
	t.Parallel()
	f := newPubFixture(t)
	ctx := context.Background()

	cveBearing := func(t *testing.T) *advisory.Advisory {
		t.Helper()
		a := f.draft(t, "jetty", f.jettyOwner) // mature publisher: no review needed
		content := goodContent()
		content.References = []advisory.Reference{{Type: "ADVISORY", URL: "https://jetty.example.org/security/1"}}
		if _, err := f.svc.Edit(ctx, f.jettyOwner, a.AdvisoryID, content); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}
	runLatest := func(t *testing.T, a *advisory.Advisory) publication.Task {
		t.Helper()
		task := f.latestTask(t, a)
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		done := f.task(t, task.ID)
		if done.Status != publication.StatusSucceeded {
			t.Fatalf("task %+v", done)
		}
		return done
	}
	hasCVEArtifact := func(task publication.Task) bool {
		for _, art := range task.Artifacts {
			if art.Kind == publication.KindCVE {
				return true
			}
		}
		return false
	}

	a := cveBearing(t)
	var cve advisory.CVEID
	t.Run("C2: a publish right after the reservation exports the CVE (lifecycle §12)", func(t *testing.T) {
		if _, err := f.svc.RequestCVE(ctx, f.jettyOwner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		cve = advisory.CVEID(nextCVE())
		if _, err := f.svc.TransitionCVERequest(ctx, f.admin, f.newestCVETaskID(a),
			app.CVETransition{Status: advisory.CVERequestReserved, CVEID: string(cve)}); err != nil {
			t.Fatal(err)
		}
		task := f.publish(t, f.jettyOwner, a)
		if task.VersionNumber != f.versionCount(t, a) {
			t.Errorf("task pins version %d of %d", task.VersionNumber, f.versionCount(t, a))
		}
		if done := runLatest(t, a); !hasCVEArtifact(done) {
			t.Errorf("artifacts %+v; want the CVE record", done.Artifacts)
		}
	})
	if cve == "" {
		t.FailNow()
	}

	t.Run("O2: withdrawal finalisation orphans the CVE as a withdrawal", func(t *testing.T) {
		if _, err := f.svc.Withdraw(ctx, f.jettyOwner, a.AdvisoryID, "Duplicate of another advisory."); err != nil {
			t.Fatal(err)
		}
		runLatest(t, a)
		after := f.reload(t, a)
		if after.State != advisory.StateDismissed || after.AssignedCVEID != "" || after.RepublishRequired {
			t.Errorf("state %s cve %q republish %v", after.State, after.AssignedCVEID, after.RepublishRequired)
		}
		if o := f.orphans(t, cve); len(o) != 1 || o[0].Status != "orphaned" || o[0].Cause != "withdrawal" {
			t.Errorf("orphans %+v; want one orphaned withdrawal receipt", o)
		}
		if m := f.lastAudit(t, a, "cve.unassigned").Metadata; m["orphan_id"] == nil || m["cve_id"] != string(cve) {
			t.Errorf("cve.unassigned metadata %v", m)
		}
	})

	t.Run("O2: withdrawal without a CVE, refused: no orphan", func(t *testing.T) {
		b := cveBearing(t)
		f.publish(t, f.jettyOwner, b)
		runLatest(t, b)
		if _, err := f.svc.Withdraw(ctx, f.jettyOwner, b.AdvisoryID, "Not a vulnerability."); err != nil {
			t.Fatal(err)
		}
		runLatest(t, b)
		if got := f.actions(t, b, "cve."); len(got) != 0 {
			t.Errorf("CVE audits %v, want none", got)
		}
	})

	t.Run("O3: un-withdraw reattaches the withdrawal receipt and re-exports it", func(t *testing.T) {
		n := len(f.audits(t, a))
		if _, err := f.svc.Reopen(ctx, f.jettyOwner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		if got := f.reload(t, a); got.AssignedCVEID != cve {
			t.Fatalf("CVE %q, want %s reattached", got.AssignedCVEID, cve)
		}
		if got := f.newActions(t, a, n); !sameActions(got, "cve.reassigned_from_orphan", "advisory.reopened", "publication.export_started") {
			t.Errorf("audits %v", got)
		}
		if m := f.lastAudit(t, a, "advisory.reopened").Metadata; m["orphan_disposition"] != app.DispositionReassignedDirect {
			t.Errorf("advisory.reopened metadata %v", m)
		}
		if f.latestVersion(t, a).Payload.AssignedCVEID != cve {
			t.Error("the un-withdraw version does not carry the reattached CVE (lifecycle §12)")
		}
		done := runLatest(t, a)
		if got := f.reload(t, a); got.State != advisory.StatePublished || !hasCVEArtifact(done) {
			t.Errorf("after un-withdraw: state %s, artifacts %+v", got.State, done.Artifacts)
		}
	})

	t.Run("O2: withdrawn again, the same CVE gets a second receipt (lifecycle §12)", func(t *testing.T) {
		if _, err := f.svc.Withdraw(ctx, f.jettyOwner, a.AdvisoryID, "Withdrawn again."); err != nil {
			t.Fatal(err)
		}
		runLatest(t, a)
		if got := f.reload(t, a); got.State != advisory.StateDismissed || got.AssignedCVEID != "" {
			t.Errorf("state %s cve %q", got.State, got.AssignedCVEID)
		}
		o := f.orphans(t, cve)
		if len(o) != 2 || o[0].Status != "reassigned" || o[1].Status != "orphaned" || o[1].Cause != "withdrawal" {
			t.Errorf("orphans %+v; want the reassigned receipt kept and a new orphaned one", o)
		}
	})

	t.Run("T1: un-withdraw of a rejected receipt queues the admin task with its audit row (lifecycle §12 parity with L13)", func(t *testing.T) {
		o := f.orphans(t, cve)
		live := o[len(o)-1]
		if err := f.svc.MarkOrphanRejected(ctx, f.admin, live.ID, "Rejected at cve.org."); err != nil {
			t.Fatal(err)
		}
		n := len(f.audits(t, a))
		if _, err := f.svc.Reopen(ctx, f.jettyOwner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		if got := f.newActions(t, a, n); !sameActions(got, "cve.orphan_reassignment_requested", "advisory.reopened", "publication.export_started") {
			t.Errorf("audits %v", got)
		}
		r := f.lastAudit(t, a, "cve.orphan_reassignment_requested")
		if r.Metadata["orphan_id"] != float64(live.ID) || r.Metadata["orphan_status"] != "marked_rejected" || r.ActorID != f.jettyOwner.UserID {
			t.Errorf("cve.orphan_reassignment_requested %+v", r)
		}
		if got := f.reload(t, a); got.AssignedCVEID != "" {
			t.Errorf("CVE %q reattached from a rejected receipt", got.AssignedCVEID)
		}
	})
}
