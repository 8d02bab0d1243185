package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

func requestCVE(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
	return f.svc.RequestCVE(ctx, c, a.AdvisoryID)
}

// queued adds a queued CVE request by the owner to the advisory setup made.
func queued(setup setupFn) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := setup(t, f)
		if _, err := f.svc.RequestCVE(context.Background(), f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}
}

func (f *advFixture) cveTasks(t *testing.T, a *advisory.Advisory) []string {
	t.Helper()
	var out []string
	f.exec(t, func(tx *postgres.DB) error {
		rows, err := tx.Query(f.sys, `SELECT status || ':' || cve_id FROM cve_requests WHERE advisory_id = $1 ORDER BY id`, a.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out
}

// newestCVETaskID is the id of a's newest CVE request, 0 when none.
func (f *advFixture) newestCVETaskID(a *advisory.Advisory) int64 {
	var id int64
	_ = f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT id FROM cve_requests WHERE advisory_id = $1 ORDER BY id DESC LIMIT 1`, a.ID).Scan(&id)
	})
	return id
}

// transition moves the advisory's newest CVE request.
func transition(in app.CVETransition) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		if _, err := f.svc.TransitionCVERequest(ctx, c, f.newestCVETaskID(a), in); err != nil {
			return nil, err
		}
		return f.svc.Get(ctx, c, a.AdvisoryID)
	}
}

func wantTasks(want ...string) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		got := f.cveTasks(t, after)
		if len(got) != len(want) {
			t.Fatalf("CVE tasks %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("CVE tasks %v, want %v", got, want)
			}
		}
	}
}

var cveSeq atomic.Int64

// nextCVE is a CVE id no other test advisory holds.
func nextCVE() string { return fmt.Sprintf("CVE-2026-%d", 70000+cveSeq.Add(1)) }

// reserved gives the advisory setup made a CVE through a request the admin
// reserved, as production would (with its version).
func reserved(setup setupFn) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := queued(setup)(t, f)
		if _, err := f.svc.TransitionCVERequest(context.Background(), f.admin, f.newestCVETaskID(a),
			app.CVETransition{Status: advisory.CVERequestReserved, CVEID: nextCVE()}); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}
}

// versionedCVE checks that the newest version records the advisory's
// live CVE: what a publish pinned now would export (lifecycle §12: every
// write of assigned_cve_id appends a version in the same transaction;
// INV-VERSION-1).
func versionedCVE(t *testing.T, f *advFixture, after *advisory.Advisory) {
	t.Helper()
	if got := f.latestVersion(t, after).Payload.AssignedCVEID; got != after.AssignedCVEID {
		t.Errorf("latest version assigned_cve_id %q, live %q; want them equal (lifecycle §12)", got, after.AssignedCVEID)
	}
}

// wantNoteKind checks the action note the call posted: its kind and
// visibility (lifecycle §0 item 5).
func wantNoteKind(kind string, internal bool) checkFn {
	return func(t *testing.T, f *advFixture, _, after *advisory.Advisory) {
		t.Helper()
		m := f.lastAudit(t, after, "comment.created").Metadata
		if m["action_note"] != kind || m["is_internal"] != internal {
			t.Errorf("action note %v; want kind %s, is_internal %v", m, kind, internal)
		}
	}
}

// TestRequestCVE covers C1 (can_request_cve; INV-CVE-1/2/3).
func TestRequestCVE(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	withCVE := with(lanternDraft, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-12345' WHERE id = $1`)
	rejected := with(queued(lanternDraft), `UPDATE cve_requests SET status = 'rejected', notes = 'no', finished_at = now() WHERE advisory_id = $1`)
	requested := func(t *testing.T, f *advFixture, _, after *advisory.Advisory) {
		t.Helper()
		m := f.lastAudit(t, after, "cve.requested").Metadata
		if m["task_id"] != float64(f.newestCVETaskID(after)) || m["status"] != "queued" {
			t.Errorf("cve.requested metadata %v; want task_id and status queued", m)
		}
	}
	runUseCases(t, f, []useCase{
		{name: "C1: owner, draft", setup: lanternDraft, caller: asOwner, do: requestCVE, actions: []string{"cve.requested"},
			check: checkAll(wantTasks("queued:"), requested)},
		{name: "C1: owner, published", setup: lanternPublished, caller: asOwner, do: requestCVE, actions: []string{"cve.requested"}, check: wantTasks("queued:")},
		{name: "C1: admin", setup: lanternDraft, caller: asAdmin, do: requestCVE, actions: []string{"cve.requested"}},
		{name: "C1: after a rejection, allowed again", setup: rejected, caller: asOwner, do: requestCVE, actions: []string{"cve.requested"},
			check: wantTasks("rejected:", "queued:")},
		{name: "C1: collaborator refused", setup: lanternDraft, caller: asCollab, do: requestCVE, kind: apperr.Forbidden},
		{name: "C1: viewer refused", setup: lanternDraft, caller: asViewer, do: requestCVE, kind: apperr.Forbidden},
		{name: "C1: stranger refused", setup: lanternDraft, caller: asStranger, do: requestCVE, kind: apperr.NotFound},
		{name: "C1: triage refused", setup: lanternTriage, caller: asOwner, do: requestCVE, kind: apperr.Conflict},
		{name: "C1: dismissed refused", setup: dismissedFrom(lanternDraft, "draft"), caller: asOwner, do: requestCVE, kind: apperr.Conflict},
		{name: "C1: CVE assigned refused (INV-CVE-2)", setup: withCVE, caller: asOwner, do: requestCVE, kind: apperr.Conflict},
		{name: "C1: already queued refused (INV-CVE-1)", setup: queued(lanternDraft), caller: asOwner, do: requestCVE, kind: apperr.Conflict},
		{name: "C1: banned refused (INV-CVE-3)", setup: with(lanternDraft, `UPDATE advisories SET cve_requests_banned = true WHERE id = $1`),
			caller: asOwner, do: requestCVE, kind: apperr.Forbidden},
	})
}

// TestTransitionCVERequest covers C2, C3, the ban flag change (C3 with ban)
// and the refusal of a user-driven cancellation (C4 is a side effect only).
func TestTransitionCVERequest(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	reserve := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return transition(app.CVETransition{Status: advisory.CVERequestReserved, CVEID: nextCVE()})(ctx, f, c, a)
	}
	reject := func(ban bool) doFn {
		return transition(app.CVETransition{Status: advisory.CVERequestRejected, Notes: "Not a vulnerability.", Ban: ban})
	}
	statusChanged := func(from, to string) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, _, after *advisory.Advisory) {
			t.Helper()
			r := f.lastAudit(t, after, "cve.task_status_changed")
			if r.Metadata["cve_id"] != string(after.AssignedCVEID) || r.Metadata["task_id"] != float64(f.newestCVETaskID(after)) {
				t.Errorf("cve.task_status_changed metadata %v; want task_id and cve_id %q", r.Metadata, after.AssignedCVEID)
			}
			var prev, next map[string]any
			f.exec(t, func(tx *postgres.DB) error {
				return tx.QueryRow(f.sys, `SELECT previous_value, new_value FROM audit_log WHERE advisory_id = $1 AND action = 'cve.task_status_changed'
					ORDER BY id DESC LIMIT 1`, after.ID).Scan(&prev, &next)
			})
			if prev["status"] != from || next["status"] != to {
				t.Errorf("status change %v → %v, want %s → %s", prev, next, from, to)
			}
		}
	}
	heldElsewhere := func(t *testing.T, f *advFixture) *advisory.Advisory {
		a := queued(lanternDraft)(t, f)
		f.sql(t, f.lanternDraft(t), `UPDATE advisories SET assigned_cve_id = 'CVE-2026-40123' WHERE id = $1`)
		return a
	}
	runUseCases(t, f, []useCase{
		{name: "C2: reserve", setup: queued(lanternDraft), caller: asAdmin, do: reserve, actions: []string{"cve.task_status_changed"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				wantTasks("reserved:"+string(after.AssignedCVEID))(t, f, before, after)
				if after.AssignedCVEID == "" || after.RepublishRequired {
					t.Errorf("cve %q republish %v", after.AssignedCVEID, after.RepublishRequired)
				}
				statusChanged("queued", "reserved")(t, f, before, after)
				// §12: a publish right after the reservation pins a version
				// that carries the CVE.
				versionedCVE(t, f, after)
			}},
		{name: "C2: reserve, published sets republish_required", setup: queued(lanternPublished), caller: asAdmin, do: reserve,
			actions: []string{"cve.task_status_changed"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.RepublishRequired {
					t.Error("republish_required not set on a published advisory")
				}
				versionedCVE(t, f, after)
			}},
		{name: "C2: reserve, owner refused", setup: queued(lanternDraft), caller: asOwner, do: reserve, kind: apperr.Forbidden},
		{name: "C2: reserve, collaborator refused", setup: queued(lanternDraft), caller: asCollab, do: reserve, kind: apperr.Forbidden},
		{name: "C2: reserve, owner on a decided task refused as forbidden", caller: asOwner, do: reserve, kind: apperr.Forbidden,
			setup: with(queued(lanternDraft), `UPDATE cve_requests SET status = 'rejected' WHERE advisory_id = $1`)},
		{name: "C2: reserve, bad id refused", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestReserved, CVEID: "CVE-26-1"}), kind: apperr.Invalid},
		{name: "C2: reserve, no id refused", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestReserved}), kind: apperr.Invalid},
		{name: "C2: reserve, CVE already assigned refused (INV-CVE-2)", setup: with(queued(lanternDraft), `UPDATE advisories SET assigned_cve_id = 'CVE-2026-40009' WHERE id = $1`),
			caller: asAdmin, do: reserve, kind: apperr.Conflict},
		{name: "C2: reserve, CVE held by another advisory refused (INV-ID-3)", setup: heldElsewhere, caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestReserved, CVEID: "CVE-2026-40123"}), kind: apperr.Conflict},
		{name: "C2: reserve, task decided refused", setup: with(queued(lanternDraft), `UPDATE cve_requests SET status = 'rejected' WHERE advisory_id = $1`),
			caller: asAdmin, do: reserve, kind: apperr.Conflict},
		{name: "C2: back to queued refused", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestQueued}), kind: apperr.Conflict},
		{name: "C4: cancel through a transition refused (dismissal side effect only)", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestCancelled}), kind: apperr.Conflict},
		{name: "C3: reject", setup: queued(lanternDraft), caller: asAdmin, do: reject(false),
			actions: []string{"cve.task_status_changed", "comment.created"},
			check: checkAll(wantTasks("rejected:"), statusChanged("queued", "rejected"),
				wantNoteKind("cve_request_rejected", false),
				func(t *testing.T, f *advFixture, _, after *advisory.Advisory) {
					if after.CVERequestsBanned {
						t.Error("banned without a ban")
					}
				})},
		{name: "C3: reject and ban", setup: queued(lanternDraft), caller: asAdmin, do: reject(true),
			actions: []string{"cve.task_status_changed", "cve.request_banned", "comment.created"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.CVERequestsBanned {
					t.Error("not banned")
				}
				wantNoteKind("cve_request_rejected", false)(t, f, before, after)
				if _, err := f.svc.RequestCVE(context.Background(), f.owner, after.AdvisoryID); apperr.KindOf(err) != apperr.Forbidden {
					t.Errorf("request after ban: %v, want forbidden (INV-CVE-3)", err)
				}
			}},
		{name: "C3: reject and ban, already banned: no second ban row", caller: asAdmin, do: reject(true),
			setup:   with(queued(lanternDraft), `UPDATE advisories SET cve_requests_banned = true WHERE id = $1`),
			actions: []string{"cve.task_status_changed", "comment.created"}},
		{name: "C3: reject, no notes refused", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestRejected, Notes: " "}), kind: apperr.Invalid},
		{name: "C3: ban with reservation refused", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestReserved, CVEID: "CVE-2026-40001", Ban: true}), kind: apperr.Invalid},
		{name: "C3: reject, owner refused", setup: queued(lanternDraft), caller: asOwner, do: reject(true), kind: apperr.Forbidden},
		{name: "C3: reject, collaborator refused", setup: queued(lanternDraft), caller: asCollab, do: reject(false), kind: apperr.Forbidden},
		{name: "C3: reject, task decided refused", setup: with(queued(lanternDraft), `UPDATE cve_requests SET status = 'reserved' WHERE advisory_id = $1`),
			caller: asAdmin, do: reject(false), kind: apperr.Conflict},
	})
	// A caller who cannot see the advisory cannot see its tasks either: the
	// task is not found (the API's HTML 404).
	t.Run("C2: reserve, stranger refused", func(t *testing.T) {
		a := queued(lanternDraft)(t, f)
		wantRefused(t, f, a, apperr.NotFound, func() error {
			_, err := reserve(context.Background(), f, f.stranger, a)
			return err
		})
		if got := f.reload(t, a); got.AssignedCVEID != "" {
			t.Errorf("CVE %q", got.AssignedCVEID)
		}
	})
}

// TestCVEBanUnassign covers the unban flag change (AllowCVERequests) and O1
// (admin unassign).
func TestCVEBanUnassign(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	allow := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.AllowCVERequests(ctx, c, a.AdvisoryID)
	}
	unassign := func(reason string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.UnassignCVE(ctx, c, a.AdvisoryID, reason)
		}
	}
	banned := with(lanternDraft, `UPDATE advisories SET cve_requests_banned = true WHERE id = $1`)
	withCVE := reserved
	orphaned := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		var (
			id            int64
			status, cause string
			by            int64
		)
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT id, status, cause, COALESCE(unassigned_by_id, 0) FROM orphan_cves WHERE cve_id = $1 AND previous_advisory_id = $2`,
				string(before.AssignedCVEID), after.ID).Scan(&id, &status, &cause, &by)
		})
		if status != "orphaned" || after.AssignedCVEID != "" || by != f.admin.UserID {
			t.Errorf("orphan %q by %d, cve %q", status, by, after.AssignedCVEID)
		}
		// §12: an admin's unassign is manual, which a reopen never reattaches.
		if cause != "manual" {
			t.Errorf("orphan cause %q, want manual", cause)
		}
		m := f.lastAudit(t, after, "cve.unassigned").Metadata
		if m["orphan_id"] != float64(id) || m["reason_length"] == nil {
			t.Errorf("cve.unassigned metadata %v; want orphan_id %d and reason_length", m, id)
		}
		versionedCVE(t, f, after)
		wantNoteKind("unassign_cve", true)(t, f, before, after)
	}
	runUseCases(t, f, []useCase{
		{name: "UNBAN: admin lifts the ban", setup: banned, caller: asAdmin, do: allow, actions: []string{"cve.request_unbanned"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.CVERequestsBanned {
					t.Error("still banned")
				}
				if _, err := f.svc.RequestCVE(context.Background(), f.owner, after.AdvisoryID); err != nil {
					t.Errorf("request after unban: %v", err)
				}
			}},
		{name: "UNBAN: not banned, a no-op without audit", setup: lanternDraft, caller: asAdmin, do: allow},
		{name: "UNBAN: owner refused", setup: banned, caller: asOwner, do: allow, kind: apperr.Forbidden},
		{name: "UNBAN: collaborator refused", setup: banned, caller: asCollab, do: allow, kind: apperr.Forbidden},
		{name: "UNBAN: stranger refused", setup: banned, caller: asStranger, do: allow, kind: apperr.NotFound},
		{name: "O1: unassign", setup: withCVE(lanternDraft), caller: asAdmin, do: unassign("Duplicate CVE."),
			actions: []string{"cve.unassigned", "comment.created"}, versions: 1, check: orphaned},
		{name: "O1: unassign, published sets republish_required", setup: withCVE(lanternPublished), caller: asAdmin, do: unassign("Wrong CVE."),
			actions: []string{"cve.unassigned", "comment.created"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.RepublishRequired {
					t.Error("republish_required not set")
				}
				orphaned(t, f, before, after)
			}},
		{name: "O1: unassign, owner refused", setup: withCVE(lanternDraft), caller: asOwner, do: unassign("x"), kind: apperr.Forbidden},
		{name: "O1: unassign, collaborator refused", setup: withCVE(lanternDraft), caller: asCollab, do: unassign("x"), kind: apperr.Forbidden},
		{name: "O1: unassign, no CVE refused", setup: lanternDraft, caller: asAdmin, do: unassign("x"), kind: apperr.Conflict},
		{name: "O1: unassign, blank reason refused", setup: withCVE(lanternDraft), caller: asAdmin, do: unassign(" "), kind: apperr.Invalid},
		{name: "O1: unassign, owner with blank reason refused as forbidden", setup: withCVE(lanternDraft), caller: asOwner, do: unassign(""), kind: apperr.Forbidden},
	})
}

// TestDismissCVECascade covers C4 and the O1 cascade of a draft dismissal
// (L7) through the Dismiss service, as the dismissing admin.
func TestDismissCVECascade(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	run := func(t *testing.T, a *advisory.Advisory) []string {
		t.Helper()
		before := len(f.audits(t, a))
		if _, err := f.svc.Dismiss(context.Background(), f.admin, a.AdvisoryID, "Duplicate."); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range f.audits(t, a)[before:] {
			if strings.HasPrefix(r.Action, "cve.") {
				if r.ActorID != f.admin.UserID {
					t.Errorf("%s by %d, want the dismissing admin", r.Action, r.ActorID)
				}
				got = append(got, r.Action)
			}
		}
		return got
	}
	t.Run("C4: queued request cancelled", func(t *testing.T) {
		a := queued(lanternDraft)(t, f)
		if got := run(t, a); len(got) != 1 || got[0] != "cve.request_cancelled" {
			t.Errorf("audits %v", got)
		}
		if got := f.cveTasks(t, a); len(got) != 1 || got[0] != "cancelled:" {
			t.Errorf("tasks %v", got)
		}
		var notes string
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT notes FROM cve_requests WHERE advisory_id = $1 AND finished_at IS NOT NULL`, a.ID).Scan(&notes)
		})
		if notes != "Advisory dismissed: Duplicate." {
			t.Errorf("notes %q", notes)
		}
		if m := f.lastAudit(t, a, "cve.request_cancelled").Metadata; m["task_id"] != float64(f.newestCVETaskID(a)) {
			t.Errorf("cve.request_cancelled metadata %v", m)
		}
	})
	t.Run("C4: decided request left alone, refused", func(t *testing.T) {
		a := with(queued(lanternDraft), `UPDATE cve_requests SET status = 'rejected' WHERE advisory_id = $1`)(t, f)
		if got := run(t, a); len(got) != 0 {
			t.Errorf("audits %v", got)
		}
		if got := f.cveTasks(t, a); len(got) != 1 || got[0] != "rejected:" {
			t.Errorf("tasks %v", got)
		}
	})
	t.Run("O1: assigned CVE orphaned by the dismissal cascade", func(t *testing.T) {
		a := reserved(lanternDraft)(t, f)
		v := f.versionCount(t, a)
		if got := run(t, a); len(got) != 1 || got[0] != "cve.unassigned" {
			t.Errorf("audits %v", got)
		}
		got := f.reload(t, a)
		if got.AssignedCVEID != "" {
			t.Errorf("CVE still %q", got.AssignedCVEID)
		}
		// §12: the cleared CVE is versioned in the same transaction.
		if f.versionCount(t, a) != v+1 {
			t.Errorf("%d versions appended, want 1", f.versionCount(t, a)-v)
		}
		versionedCVE(t, f, got)
		if o := f.orphans(t, a.AssignedCVEID); len(o) != 1 || o[0].Cause != "dismissal" || o[0].Status != "orphaned" {
			t.Errorf("orphans %+v, want one orphaned dismissal receipt", o)
		}
	})
	t.Run("O1: nothing to do, refused (no CVE, no request)", func(t *testing.T) {
		if got := run(t, f.lanternDraft(t)); len(got) != 0 {
			t.Errorf("audits %v", got)
		}
	})
}
