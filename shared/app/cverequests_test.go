package app_test

import (
	"context"
	"fmt"
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

func TestRequestCVE(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	withCVE := with(lanternDraft, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-12345' WHERE id = $1`)
	runUseCases(t, f, []useCase{
		// C1
		{name: "owner, draft", setup: lanternDraft, caller: asOwner, do: requestCVE, actions: []string{"cve.requested"}, check: wantTasks("queued:")},
		{name: "owner, published", setup: lanternPublished, caller: asOwner, do: requestCVE, actions: []string{"cve.requested"}},
		{name: "admin", setup: lanternDraft, caller: asAdmin, do: requestCVE, actions: []string{"cve.requested"}},
		{name: "collaborator", setup: lanternDraft, caller: asCollab, do: requestCVE, kind: apperr.Forbidden},
		{name: "stranger", setup: lanternDraft, caller: asStranger, do: requestCVE, kind: apperr.NotFound},
		{name: "triage", setup: lanternTriage, caller: asOwner, do: requestCVE, kind: apperr.Conflict},
		{name: "CVE assigned", setup: withCVE, caller: asOwner, do: requestCVE, kind: apperr.Conflict},
		{name: "already queued (INV-CVE-1)", setup: queued(lanternDraft), caller: asOwner, do: requestCVE, kind: apperr.Conflict},
		{name: "banned (INV-CVE-3)", setup: with(lanternDraft, `UPDATE advisories SET cve_requests_banned = true WHERE id = $1`),
			caller: asOwner, do: requestCVE, kind: apperr.Forbidden},
	})
}

func TestTransitionCVERequest(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	reserve := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return transition(app.CVETransition{Status: advisory.CVERequestReserved, CVEID: nextCVE()})(ctx, f, c, a)
	}
	reject := func(ban bool) doFn {
		return transition(app.CVETransition{Status: advisory.CVERequestRejected, Notes: "Not a vulnerability.", Ban: ban})
	}
	runUseCases(t, f, []useCase{
		// C2
		{name: "reserve", setup: queued(lanternDraft), caller: asAdmin, do: reserve, actions: []string{"cve.task_status_changed"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				wantTasks("reserved:"+string(after.AssignedCVEID))(t, f, before, after)
				if after.AssignedCVEID == "" || after.RepublishRequired {
					t.Errorf("cve %q republish %v", after.AssignedCVEID, after.RepublishRequired)
				}
				rows := f.audits(t, after)
				if m := rows[len(rows)-1].Metadata; m["cve_id"] != string(after.AssignedCVEID) || m["task_id"] == nil {
					t.Errorf("cve.task_status_changed metadata %v", m)
				}
			}},
		{name: "reserve, published", setup: queued(lanternPublished), caller: asAdmin, do: reserve, actions: []string{"cve.task_status_changed"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.RepublishRequired {
					t.Error("republish_required not set on a published advisory")
				}
			}},
		{name: "reserve, owner", setup: queued(lanternDraft), caller: asOwner, do: reserve, kind: apperr.Forbidden},
		{name: "reserve, bad id", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestReserved, CVEID: "CVE-26-1"}), kind: apperr.Invalid},
		{name: "reserve, CVE already assigned (INV-CVE-2)", setup: with(queued(lanternDraft), `UPDATE advisories SET assigned_cve_id = 'CVE-2026-40009' WHERE id = $1`),
			caller: asAdmin, do: reserve, kind: apperr.Conflict},
		{name: "reserve, task decided", setup: with(queued(lanternDraft), `UPDATE cve_requests SET status = 'rejected' WHERE advisory_id = $1`),
			caller: asAdmin, do: reserve, kind: apperr.Conflict},
		{name: "to cancelled (system only)", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestCancelled}), kind: apperr.Conflict},
		// C3
		{name: "reject", setup: queued(lanternDraft), caller: asAdmin, do: reject(false),
			actions: []string{"cve.task_status_changed", "comment.created"}, check: wantTasks("rejected:")},
		{name: "reject and ban", setup: queued(lanternDraft), caller: asAdmin, do: reject(true),
			actions: []string{"cve.task_status_changed", "cve.request_banned", "comment.created"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.CVERequestsBanned {
					t.Error("not banned")
				}
				if _, err := f.svc.RequestCVE(context.Background(), f.owner, after.AdvisoryID); apperr.KindOf(err) != apperr.Forbidden {
					t.Errorf("request after ban: %v, want forbidden (INV-CVE-3)", err)
				}
			}},
		{name: "reject, no notes", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestRejected, Notes: " "}), kind: apperr.Invalid},
		{name: "ban with reservation", setup: queued(lanternDraft), caller: asAdmin,
			do: transition(app.CVETransition{Status: advisory.CVERequestReserved, CVEID: "CVE-2026-40001", Ban: true}), kind: apperr.Invalid},
		{name: "reject, collaborator", setup: queued(lanternDraft), caller: asCollab, do: reject(false), kind: apperr.Forbidden},
	})
}

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
		var status string
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT status FROM orphan_cves WHERE cve_id = $1 AND previous_advisory_id = $2`,
				string(before.AssignedCVEID), after.ID).Scan(&status)
		})
		if status != "orphaned" || after.AssignedCVEID != "" {
			t.Errorf("orphan %q, cve %q", status, after.AssignedCVEID)
		}
	}
	runUseCases(t, f, []useCase{
		{name: "unban", setup: banned, caller: asAdmin, do: allow, actions: []string{"cve.request_unbanned"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.CVERequestsBanned {
					t.Error("still banned")
				}
			}},
		{name: "unban, not banned: no-op", setup: lanternDraft, caller: asAdmin, do: allow},
		{name: "unban, owner", setup: banned, caller: asOwner, do: allow, kind: apperr.Forbidden},
		// O1
		{name: "unassign", setup: withCVE(lanternDraft), caller: asAdmin, do: unassign("Duplicate CVE."),
			actions: []string{"cve.unassigned", "comment.created"}, versions: 1, check: orphaned},
		{name: "unassign, published", setup: withCVE(lanternPublished), caller: asAdmin, do: unassign("Wrong CVE."),
			actions: []string{"cve.unassigned", "comment.created"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.RepublishRequired {
					t.Error("republish_required not set")
				}
				orphaned(t, f, before, after)
			}},
		{name: "unassign, owner", setup: withCVE(lanternDraft), caller: asOwner, do: unassign("x"), kind: apperr.Forbidden},
		{name: "unassign, no CVE", setup: lanternDraft, caller: asAdmin, do: unassign("x"), kind: apperr.Conflict},
		{name: "unassign, blank reason", setup: withCVE(lanternDraft), caller: asAdmin, do: unassign(" "), kind: apperr.Invalid},
	})
}

// TestDismissCVECascade covers C4 and the O1 cascade of L7 through the hook
// the Dismiss service calls inside its transaction.
func TestDismissCVECascade(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	run := func(t *testing.T, a *advisory.Advisory) []string {
		before := len(f.audits(t, a))
		f.exec(t, func(tx *postgres.DB) error {
			locked, err := tx.AdvisoryByIDForUpdate(f.sys, a.AdvisoryID)
			if err != nil {
				return err
			}
			return app.DismissCVECascade(f.sys, tx, f.admin, locked, "Duplicate.")
		})
		var got []string
		for _, r := range f.audits(t, a)[before:] {
			got = append(got, r.Action)
		}
		return got
	}
	t.Run("queued request cancelled", func(t *testing.T) {
		a := queued(lanternDraft)(t, f)
		if got := run(t, a); len(got) != 1 || got[0] != "cve.request_cancelled" {
			t.Errorf("audits %v", got)
		}
		if got := f.cveTasks(t, a); len(got) != 1 || got[0] != "cancelled:" {
			t.Errorf("tasks %v", got)
		}
	})
	t.Run("assigned CVE orphaned", func(t *testing.T) {
		a := with(lanternDraft, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-60000' WHERE id = $1`)(t, f)
		if got := run(t, a); len(got) != 1 || got[0] != "cve.unassigned" {
			t.Errorf("audits %v", got)
		}
		if got := f.reload(t, a); got.AssignedCVEID != "" {
			t.Errorf("CVE still %q", got.AssignedCVEID)
		}
	})
	t.Run("nothing to do", func(t *testing.T) {
		if got := run(t, f.lanternDraft(t)); len(got) != 0 {
			t.Errorf("audits %v", got)
		}
	})
}
