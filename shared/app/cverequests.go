package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// The CVE-request machine and the advisory's CVE fields (lifecycle.md §4,
// §5 O1). Owners request; admins reserve or reject at the CNA out of band
// and record it here. assigned_cve_id is written once (INV-CVE-2) and every
// write of it appends a version if the payload moved (lifecycle §12), so a
// publish right after a reservation exports the CVE.

// RequestCVE opens a CVE request (C1, can_request_cve: owner; draft or
// published; no CVE; not banned, INV-CVE-3). A request already queued is a
// conflict (INV-CVE-1, backed by a partial unique index).
func (s *Advisories) RequestCVE(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := a.Allows(advisory.ActionRequestCVE); err != nil {
			return err
		}
		if t.CVERequestQueued {
			return advisory.ErrCVERequestQueued
		}
		if err := access.Check(c.Subject(), access.CapRequestCVE, t); err != nil {
			return err
		}
		_, err := requestCVE(ctx, tx, c, a)
		return err
	})
}

func requestCVE(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory) (advisory.CVERequest, error) {
	task, err := tx.InsertCVERequest(ctx, postgres.NewCVERequest{AdvisoryPK: a.ID, Status: advisory.CVERequestQueued, RequestedBy: c.UserID})
	if err != nil {
		return advisory.CVERequest{}, err
	}
	return task, tx.InsertAudit(ctx, advisoryAudit(c, a, audit.CVERequested,
		map[string]any{"task_id": task.ID, "status": task.Status}))
}

// CVETransition is an admin's move of a queued CVE request: reserved with
// CVEID (C2), or rejected with Notes and optionally Ban (C3).
type CVETransition struct {
	Status advisory.CVERequestStatus
	CVEID  string
	Notes  string
	Ban    bool
}

// TransitionCVERequest moves queued CVE request taskID (admin only). Only
// queued moves, and only to reserved or rejected: cancellation is the
// dismissal's side effect (C4). A reservation writes the CVE to the
// advisory (once, INV-CVE-2) and flags a published advisory for re-export;
// a rejection posts its notes as a public action note and may ban further
// requests (INV-CVE-3).
func (s *Advisories) TransitionCVERequest(ctx context.Context, c Caller, taskID int64, in CVETransition) (CVETaskView, error) {
	var out CVETaskView
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		id, err := tx.CVERequestAdvisory(ctx, taskID)
		if err != nil {
			return err
		}
		a, t, err := lockVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		// Admin-only whatever the task's state: a non-admin is refused
		// before learning anything about the task (lifecycle §0 item 2).
		if err := access.Check(c.Subject(), access.CapManageCVERequests, t); err != nil {
			return err
		}
		task, err := tx.CVERequestForUpdate(ctx, taskID)
		if err != nil {
			return err
		}
		if task.Status != advisory.CVERequestQueued {
			return advisory.ErrTaskDecided
		}
		switch in.Status {
		case advisory.CVERequestReserved, advisory.CVERequestRejected:
		default:
			return fmt.Errorf("%w: a queued CVE request is reserved or rejected", advisory.ErrIllegalTransition)
		}
		if in.Status == advisory.CVERequestReserved {
			if err := a.Allows(advisory.ActionReserveCVE); err != nil {
				return err
			}
		}
		prev := task.Status
		var entries []audit.Entry
		notes := strings.TrimSpace(in.Notes)
		if in.Status == advisory.CVERequestReserved {
			if in.Ban {
				return invalidField("ban", "a ban is only valid with a rejection")
			}
			cve, err := advisory.ParseCVEID(strings.TrimSpace(in.CVEID))
			if err != nil {
				return invalidField("cve_id", "must look like CVE-YYYY-NNNN")
			}
			before := a.Payload()
			if err := attachCVE(ctx, tx, a, cve); err != nil {
				return err
			}
			if err := tx.FinishCVERequest(ctx, &task, advisory.CVERequestReserved, c.UserID, cve, notes); err != nil {
				return err
			}
			if _, err := appendVersion(ctx, tx, c, a, before); err != nil {
				return err
			}
		} else {
			if notes == "" {
				return invalidField("notes", "required")
			}
			if err := tx.FinishCVERequest(ctx, &task, advisory.CVERequestRejected, c.UserID, "", notes); err != nil {
				return err
			}
		}
		e := advisoryAudit(c, a, audit.CVETaskStatusChanged, map[string]any{"task_id": task.ID, "cve_id": string(task.CVEID)})
		e.Previous, e.New = map[string]any{"status": prev}, map[string]any{"status": task.Status}
		entries = append(entries, e)
		if in.Status == advisory.CVERequestRejected && in.Ban && !a.CVERequestsBanned {
			a.CVERequestsBanned = true
			if err := tx.UpdateCVEFields(ctx, a); err != nil {
				return err
			}
			entries = append(entries, advisoryAudit(c, a, audit.CVERequestBanned, map[string]any{"task_id": task.ID}))
		}
		if err := insertAudits(ctx, tx, entries); err != nil {
			return err
		}
		if in.Status == advisory.CVERequestRejected {
			if _, err := RecordActionNote(ctx, tx, c, a.ID, comment.NoteCVERequestRejected, notes); err != nil {
				return err
			}
		}
		p, err := people(ctx, tx, c, t, task.RequestedByID, task.AssigneeID)
		out = CVETaskView{Task: task, People: p}
		return err
	})
	return out, err
}

// CVETaskView is a CVE request with the people it names.
type CVETaskView struct {
	Task   advisory.CVERequest
	People People
}

// attachCVE writes cve to a (once, INV-CVE-2), refusing a CVE another
// advisory holds. The caller appends the version.
func attachCVE(ctx context.Context, tx *postgres.DB, a *advisory.Advisory, cve advisory.CVEID) error {
	if err := a.Allows(advisory.ActionAttachCVE); err != nil {
		return err
	}
	held, err := tx.CVEHeldElsewhere(ctx, cve, a.ID)
	if err != nil {
		return err
	}
	if held {
		return advisory.ErrCVEHeld
	}
	if err := a.AttachCVE(cve); err != nil {
		return err
	}
	return tx.UpdateCVEFields(ctx, a)
}

// AllowCVERequests lifts a ban on CVE requests (admin); a no-op without an
// audit row when none is in force.
func (s *Advisories) AllowCVERequests(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := access.Check(c.Subject(), access.CapManageCVERequests, t); err != nil {
			return err
		}
		if !a.CVERequestsBanned {
			return nil
		}
		a.CVERequestsBanned = false
		if err := tx.UpdateCVEFields(ctx, a); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, advisoryAudit(c, a, audit.CVERequestUnbanned, nil))
	})
}

// UnassignCVE detaches the advisory's CVE (O1, admin): an orphan receipt
// (cause manual, so a later reopen leaves it alone, lifecycle §12) is
// recorded for the admins to reject at cve.org, a published advisory is
// flagged for re-export, a version is appended, and the required reason is
// posted as an internal action note.
func (s *Advisories) UnassignCVE(ctx context.Context, c Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionUnassignCVE, access.CapUnassignCVE); err != nil {
			return err
		}
		if err := orphanCVEAs(ctx, tx, c, a, reason, advisory.OrphanCauseManual); err != nil {
			return err
		}
		_, err := RecordActionNote(ctx, tx, c, a.ID, comment.NoteUnassignCVE, reason)
		return err
	})
}

// orphanCVEAs detaches a's CVE into an orphan for cause, appends the
// version the cleared assigned_cve_id calls for (lifecycle §12) and audits
// cve.unassigned.
func orphanCVEAs(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, reason string, cause advisory.OrphanCause) error {
	before := a.Payload()
	cve, reason, err := a.UnassignCVE(reason)
	if err != nil {
		return err
	}
	orphanID, err := tx.InsertOrphanCVE(ctx, cve, a, c.UserID, reason, cause)
	if err != nil {
		return err
	}
	if err := tx.UpdateCVEFields(ctx, a); err != nil {
		return err
	}
	if _, err := appendVersion(ctx, tx, c, a, before); err != nil {
		return err
	}
	e := advisoryAudit(c, a, audit.CVEUnassigned, map[string]any{"orphan_id": orphanID, "cve_id": string(cve),
		"reason_length": len([]rune(reason)), "cause": string(cause)})
	e.Previous, e.New = map[string]any{"assigned_cve_id": string(cve)}, map[string]any{"assigned_cve_id": ""}
	return tx.InsertAudit(ctx, e)
}

func invalidField(path, msg string) error {
	return &advisory.ValidationError{Problems: []advisory.Problem{{Path: path, Message: msg}}}
}
