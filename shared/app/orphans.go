package app

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// The orphan-CVE machine and its reassignment tasks (lifecycle.md §5, §2.3).
// An orphan is the receipt of a CVE detached from its advisory; the admins
// record its rejection at cve.org, and a reopen either reattaches it or
// queues an admin task.

// MarkOrphanRejected records that an admin rejected orphan orphanID's CVE
// at cve.org (O5, admin; only an orphaned CVE).
func (s *Advisories) MarkOrphanRejected(ctx context.Context, c Caller, orphanID int64, notes string) error {
	if err := access.Check(c.Subject(), access.CapManageOrphanCVEs, access.Target{}); err != nil {
		return err
	}
	return s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		o, err := tx.OrphanForUpdate(ctx, orphanID)
		if err != nil {
			return err
		}
		if o.Status != advisory.OrphanOrphaned {
			return advisory.ErrTaskDecided
		}
		notes = strings.TrimSpace(notes)
		if err := tx.MarkOrphanRejected(ctx, o.ID, c.UserID, notes); err != nil {
			return err
		}
		e := audit.Entry{ActorID: c.UserID, Action: audit.CVEMarkedRejectedAtCVEOrg, AdvisoryID: o.PreviousAdvisoryPK,
			Metadata: map[string]any{"orphan_id": o.ID, "cve_id": string(o.CVEID), "notes": notes}, IP: c.IP, UserAgent: c.UserAgent}
		e.Previous, e.New = map[string]any{"status": o.Status}, map[string]any{"status": advisory.OrphanMarkedRejected}
		return tx.InsertAudit(ctx, e)
	})
}

// Reassignment outcomes of ResolveOrphanReassignment.
const (
	OutcomeReassigned = "reassigned" // T2: reattach the orphan's CVE
	OutcomeReplaced   = "replaced"   // T3: attach a replacement CVE
)

// ResolveOrphanReassignment resolves queued reassignment task taskID
// (admin): reassigned reattaches the orphan's CVE (T2, O4); replaced
// reserves replacement instead (T3, C5), leaving the orphan as it is. The
// advisory must hold no CVE, and no other advisory the one attached.
func (s *Advisories) ResolveOrphanReassignment(ctx context.Context, c Caller, taskID int64, outcome, replacement, notes string) (advisory.OrphanReassignment, error) {
	var out advisory.OrphanReassignment
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		id, err := tx.OrphanReassignmentAdvisory(ctx, taskID)
		if err != nil {
			return err
		}
		a, t, err := lockVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		// Admin-only whatever the task's state (lifecycle §0 item 2).
		if err := access.Check(c.Subject(), access.CapManageOrphanCVEs, t); err != nil {
			return err
		}
		task, err := tx.OrphanReassignmentForUpdate(ctx, taskID)
		if err != nil {
			return err
		}
		if task.Status != advisory.ReassignmentQueued {
			return advisory.ErrTaskDecided
		}
		if err := a.Allows(advisory.ActionAttachCVE); err != nil {
			return err
		}
		before, notes := a.Payload(), strings.TrimSpace(notes)
		var entries []audit.Entry
		switch outcome {
		case OutcomeReassigned:
			o, err := tx.OrphanForUpdate(ctx, task.OrphanID)
			if err != nil {
				return err
			}
			if o.Status == advisory.OrphanReassigned {
				return advisory.ErrTaskDecided
			}
			if err := attachCVE(ctx, tx, a, o.CVEID); err != nil {
				return err
			}
			if err := tx.SetOrphanReassigned(ctx, o.ID); err != nil {
				return err
			}
			if err := tx.ResolveOrphanReassignment(ctx, &task, advisory.ReassignmentResolved, c.UserID, "", notes); err != nil {
				return err
			}
			entries = append(entries, reattached(c, a, o, task.ID))
		case OutcomeReplaced:
			cve, err := advisory.ParseCVEID(strings.TrimSpace(replacement))
			if err != nil {
				return invalidField("replacement_cve_id", "must look like CVE-YYYY-NNNN")
			}
			if err := attachCVE(ctx, tx, a, cve); err != nil {
				return err
			}
			req, err := tx.InsertCVERequest(ctx, postgres.NewCVERequest{AdvisoryPK: a.ID, Status: advisory.CVERequestReserved,
				RequestedBy: c.UserID, Assignee: c.UserID, CVEID: cve, Notes: notes})
			if err != nil {
				return err
			}
			if err := tx.ResolveOrphanReassignment(ctx, &task, advisory.ReassignmentReplaced, c.UserID, cve, notes); err != nil {
				return err
			}
			e := advisoryAudit(c, a, audit.CVETaskStatusChanged, map[string]any{"task_id": req.ID, "cve_id": string(cve)})
			e.Previous, e.New = map[string]any{"status": ""}, map[string]any{"status": advisory.CVERequestReserved}
			entries = append(entries, e)
		default:
			return invalidField("outcome", "reassigned or replaced")
		}
		if _, err := appendVersion(ctx, tx, c, a, before); err != nil {
			return err
		}
		entries = append(entries, advisoryAudit(c, a, audit.CVEOrphanReassignmentResolved,
			map[string]any{"task_id": task.ID, "orphan_id": task.OrphanID, "outcome": outcome}))
		if err := insertAudits(ctx, tx, entries); err != nil {
			return err
		}
		out = task
		return nil
	})
	return out, err
}

func reattached(c Caller, a *advisory.Advisory, o advisory.OrphanCVE, taskID int64) audit.Entry {
	meta := map[string]any{"orphan_id": o.ID, "cve_id": string(o.CVEID)}
	if taskID != 0 {
		meta["task_id"] = taskID
	}
	e := advisoryAudit(c, a, audit.CVEReassignedFromOrphan, meta)
	e.Previous, e.New = map[string]any{"assigned_cve_id": ""}, map[string]any{"assigned_cve_id": string(o.CVEID)}
	return e
}

// Orphan dispositions of a reopen (advisory.reopened metadata
// orphan_disposition, lifecycle §2.3).
const (
	DispositionNone              = "none"
	DispositionReassignedDirect  = "reassigned_direct"
	DispositionQueuedAdminTask   = "queued_admin_task"
	DispositionAlreadyReassigned = "already_reassigned"
)

// Restoration is what RestoreOnReopen did, for the advisory.reopened row
// (cve_request_restored, orphan_disposition).
type Restoration struct {
	CVERequestRestored bool
	OrphanDisposition  string
}

// RestoreOnReopen is the reopen restoration algorithm (lifecycle §2.3), for
// the Reopen service to call inside its transaction after the state flip
// (a is the locked, reopened advisory):
//
//  1. reopening to draft with no CVE, no queued request and a newest
//     request that was cancelled (by the dismissal) queues a new request as
//     the reopening user (cve.requested);
//  2. the newest orphan of this advisory, when a dismissal or a withdrawal
//     detached it (a CVE an admin unassigned on purpose is left alone,
//     lifecycle §12), is reattached when still orphaned and free (O3,
//     cve.reassigned_from_orphan); otherwise, or when already marked
//     rejected, an admin reassignment task is queued (T1,
//     cve.orphan_reassignment_requested, unless one was queued already).
//
// unwithdraw (L14) runs step 2 only, and audits a queued task as L13 does
// (lifecycle §12: parity with L13).
func RestoreOnReopen(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, unwithdraw bool) (Restoration, error) {
	r := Restoration{OrphanDisposition: DispositionNone}
	if !unwithdraw && a.State == advisory.StateDraft && a.AssignedCVEID == "" {
		last, err := tx.LatestCVERequest(ctx, a.ID)
		switch {
		case errors.Is(err, advisory.ErrTaskNotFound):
		case err != nil:
			return r, err
		case last.Status == advisory.CVERequestCancelled:
			if _, err := requestCVE(ctx, tx, c, a); err != nil {
				return r, err
			}
			r.CVERequestRestored = true
		}
	}
	o, err := tx.NewestOrphanOf(ctx, a.ID)
	if errors.Is(err, advisory.ErrTaskNotFound) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	// A CVE an admin unassigned on purpose (cause manual) is no receipt of
	// the dismissal being undone: leave it alone (lifecycle §12).
	if o.Cause != advisory.OrphanCauseDismissal && o.Cause != advisory.OrphanCauseWithdrawal {
		return r, nil
	}
	switch o.Status {
	case advisory.OrphanReassigned:
		r.OrphanDisposition = DispositionAlreadyReassigned
		return r, nil
	case advisory.OrphanOrphaned:
		held, err := tx.CVEHeldElsewhere(ctx, o.CVEID, a.ID)
		if err != nil {
			return r, err
		}
		if !held && a.AssignedCVEID == "" {
			before := a.Payload()
			if err := attachCVE(ctx, tx, a, o.CVEID); err != nil {
				return r, err
			}
			if err := tx.SetOrphanReassigned(ctx, o.ID); err != nil {
				return r, err
			}
			if _, err := appendVersion(ctx, tx, c, a, before); err != nil {
				return r, err
			}
			r.OrphanDisposition = DispositionReassignedDirect
			return r, tx.InsertAudit(ctx, reattached(c, a, o, 0))
		}
	}
	taskID, created, err := tx.QueueOrphanReassignment(ctx, o.ID, a.ID, c.UserID)
	if err != nil {
		return r, err
	}
	r.OrphanDisposition = DispositionQueuedAdminTask
	if !created {
		return r, nil
	}
	return r, tx.InsertAudit(ctx, advisoryAudit(c, a, audit.CVEOrphanReassignmentRequested,
		map[string]any{"orphan_id": o.ID, "orphan_status": o.Status, "task_id": taskID}))
}
