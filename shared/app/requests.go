package app

import (
	"context"
	"errors"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// The request machines (lifecycle.md §7): a non-mature team's request that
// an admin withdraw a published advisory, and a team's request that an
// admin move a draft to another project. Neither changes the lifecycle
// state; each reason is posted as an internal action note.

// DefaultWithdrawalReason is the withdrawal reason of an approved request
// whose note is blank (Q3).
const DefaultWithdrawalReason = "Withdrawal requested by the project security team."

// RequestWithdrawal asks the admins to withdraw a published advisory (Q1,
// request_withdrawal: a team member of a non-mature project; admins and
// mature publishers withdraw directly). The note is required.
func (s *Advisories) RequestWithdrawal(ctx context.Context, c Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionRequestWithdrawal, access.CapRequestWithdrawal); err != nil {
			return err
		}
		if err := a.RequestWithdrawal(note, c.UserID, s.now()); err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		return auditWithNote(ctx, tx, c, a, []audit.Entry{advisoryAudit(c, a, audit.AdvisoryWithdrawalRequested,
			map[string]any{"note": a.WithdrawalRequestNote})}, comment.NoteRequestWithdrawal, a.WithdrawalRequestNote)
	})
}

// CancelWithdrawalRequest clears a pending withdrawal request (Q2: any team
// member or an admin); note is optional.
func (s *Advisories) CancelWithdrawalRequest(ctx context.Context, c Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionCancelWithdrawal, access.CapCancelWithdrawalRequest); err != nil {
			return err
		}
		r, err := a.CancelWithdrawalRequest()
		if err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		note = strings.TrimSpace(note)
		return auditWithNote(ctx, tx, c, a, []audit.Entry{advisoryAudit(c, a, audit.AdvisoryWithdrawalRequestCleared,
			map[string]any{"cause": "cancelled", "previous_note": r.Note, "note": note})}, comment.NoteCancelWithdrawal, note)
	})
}

// ApproveWithdrawal approves a pending withdrawal request (Q3, admin; the
// API asks for a fresh step-up): in one transaction, on the locked row,
// the request is checked to be pending and the advisory withdrawn as
// Withdraw does (L12 request transaction) with the request's note as the
// reason (DefaultWithdrawalReason when blank): withdrawn_reason set and
// versioned, the request cleared as approved, the reason posted as a public
// action note, the withdrawal publication queued.
func (s *Advisories) ApproveWithdrawal(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionCancelWithdrawal, access.CapApproveWithdrawal); err != nil {
			return err
		}
		reason := strings.TrimSpace(a.WithdrawalRequestNote)
		if reason == "" {
			reason = DefaultWithdrawalReason
		}
		return withdrawLocked(ctx, tx, c, a, t, reason)
	})
}

// RequestReassignment asks the admins to move a native draft to another
// project (D1, can_request_reassignment: team only). The note is required;
// suggestedSlug is optional (an unknown slug counts as none) and must not
// be the current project. The team keeps its rights meanwhile (INV-AUTH-9).
func (s *Advisories) RequestReassignment(ctx context.Context, c Caller, id advisory.ID, note, suggestedSlug string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionRequestReassignment, access.CapRequestReassignment); err != nil {
			return err
		}
		var suggested *advisory.ProjectRef
		if slug := strings.TrimSpace(suggestedSlug); slug != "" {
			p, err := tx.ProjectBySlug(ctx, slug)
			switch {
			case errors.Is(err, project.ErrNotFound):
			case err != nil:
				return err
			default:
				ref := advisory.RefOf(p)
				suggested = &ref
			}
		}
		if err := a.RequestReassignment(note, suggested, c.UserID, s.now()); err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		slug := ""
		if suggested != nil {
			slug = suggested.Slug
		}
		return auditWithNote(ctx, tx, c, a, []audit.Entry{advisoryAudit(c, a, audit.AdvisoryReassignmentRequested,
			map[string]any{"note": a.ReassignmentRequestNote, "suggested_project_slug": slug})}, comment.NoteRequestReassignment, a.ReassignmentRequestNote)
	})
}

// WithdrawReassignment withdraws a pending reassignment request (D2,
// owner); note is optional.
func (s *Advisories) WithdrawReassignment(ctx context.Context, c Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionWithdrawReassignment, access.CapWithdrawReassignmentRequest); err != nil {
			return err
		}
		r, err := a.WithdrawReassignment()
		if err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		note = strings.TrimSpace(note)
		return auditWithNote(ctx, tx, c, a, []audit.Entry{advisoryAudit(c, a, audit.AdvisoryReassignmentRequestCleared,
			map[string]any{"cause": "withdrawn", "previous_note": r.Note, "note": note})}, comment.NoteWithdrawReassignment, note)
	})
}

// AcceptReassignment resolves a pending reassignment request by moving the
// draft (D3): projectSlug "" (or the suggested slug) accepts the
// suggestion in one click (an admin or a member of the suggested project's
// team, who needs no access to the advisory today); another slug is the
// admin's pick (can_pick_reassignment_target, then
// can_resolve_reassignment). The project changes, the access review is
// stamped, a version is appended, and the request is cleared as accepted.
func (s *Advisories) AcceptReassignment(ctx context.Context, c Caller, id advisory.ID, projectSlug string) (*advisory.Advisory, error) {
	return s.changeForSuggestedTeam(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := a.Allows(advisory.ActionWithdrawReassignment); err != nil {
			return err
		}
		slug, cause, capability := strings.TrimSpace(projectSlug), "reassignment_resolved", access.CapResolveReassignment
		if slug == "" || (t.SuggestedProject != nil && slug == t.SuggestedProject.Slug) {
			if err := access.Check(c.Subject(), access.CapAcceptReassignment, t); err != nil {
				return err
			}
			slug, cause, capability = t.SuggestedProject.Slug, "reassignment_accepted", access.CapAcceptReassignment
		} else if err := access.Check(c.Subject(), access.CapPickReassignmentTarget, t); err != nil {
			// Any other project is the admin's picker (can_pick_reassignment_target).
			return err
		}
		dest, err := projectRef(ctx, tx, slug)
		if err != nil {
			return err
		}
		if err := access.Check(c.Subject(), capability, withDestination(t, dest)); err != nil {
			return err
		}
		before := a.Payload()
		m, err := a.MoveProject(dest, c.UserID, c.Subject().Admin(), s.now())
		if err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		meta, err := appendVersion(ctx, tx, c, a, before)
		if err != nil {
			return err
		}
		meta["cause"], meta["in_triage"] = cause, false
		meta["previous_project_slug"], meta["project_slug"] = m.From.Slug, m.To.Slug
		moved := advisoryAudit(c, a, audit.AdvisoryProjectChanged, meta)
		moved.Previous = map[string]any{"project_slug": m.From.Slug}
		moved.New = map[string]any{"project_slug": m.To.Slug}
		entries := []audit.Entry{moved}
		if m.Save.ApprovalInvalidated {
			entries = append(entries, approvalInvalidated(c, a))
		}
		entries = appendCleared(entries, c, a, audit.AdvisoryReassignmentRequestCleared, m.Reassignment, "accepted")
		return insertAudits(ctx, tx, entries)
	})
}

// CheckApproveWithdrawal answers, without changing anything, whether c may
// approve advisory id's withdrawal request now, so adapters refuse a caller
// before asking for a step-up (permissions §13). ApproveWithdrawal decides
// again on the locked row.
func (s *Advisories) CheckApproveWithdrawal(ctx context.Context, c Caller, id advisory.ID) error {
	return readVisible(ctx, s.db, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		return allows(c, a, t, advisory.ActionCancelWithdrawal, access.CapApproveWithdrawal)
	})
}

// changeForSuggestedTeam is change for the one action a caller may take on
// an advisory they cannot see: accepting a reassignment to a project whose
// security team they are on (permissions note n, lifecycle D3). Row-level
// security would hide the row from them, so the advisory is read and locked
// as the system principal; whether the caller may act is still decided by
// shared/access alone, and anyone else gets the same NotFound as for a
// missing advisory (INV-PRIVACY-1). The audit entries name the caller.
func (s *Advisories) changeForSuggestedTeam(ctx context.Context, c Caller, id advisory.ID, fn func(*postgres.DB, *advisory.Advisory, access.Target) error) (*advisory.Advisory, error) {
	reach := func(sub access.Subject, t access.Target) bool {
		return access.Visible(sub, t) || access.Allowed(sub, access.CapAcceptReassignment, t)
	}
	return s.lockedChange(postgres.AsSystem(ctx), c, id, reach, fn)
}
