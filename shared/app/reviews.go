package app

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// The review machine (lifecycle.md §3). Review is orthogonal to the
// lifecycle (INV-REVIEW-1): only a native draft is submitted, by its
// project team (admins are the reviewers and cannot submit or withdraw,
// INV-REVIEW-3); each submission opens a new task pinned to the latest
// version (INV-REVIEW-2). While submitted, edits are admin-only and
// publication is refused for everyone (shared/access, INV-PERM-3). The
// check order is the lifecycle services': invisible → NotFound, state →
// Conflict, capability → Forbidden, free text → Invalid.

// SubmitReview submits a native draft for review (R1, can_submit_for_review:
// team only). A new open task pins the latest version.
func (s *Advisories) SubmitReview(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionSubmitReview, access.CapSubmitReview); err != nil {
			return err
		}
		prev, err := a.SubmitForReview(s.now())
		if err != nil {
			return err
		}
		v, err := tx.LatestVersion(ctx, a.ID)
		if err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		if err := tx.SetSubmittedForReviewAt(ctx, a); err != nil {
			return err
		}
		task, err := tx.InsertReviewTask(ctx, a.ID, v.ID, c.UserID)
		if err != nil {
			return err
		}
		e := advisoryAudit(c, a, audit.AdvisorySubmittedForReview,
			map[string]any{"version_id": v.ID, "version": v.Number, "task_id": task.ID})
		e.Previous, e.New = reviewValue(prev), reviewValue(a.ReviewStatus)
		return tx.InsertAudit(ctx, e)
	})
}

// WithdrawReview withdraws a pending submission (R4, can_withdraw_review:
// any team member, admins refused). The open task is closed as withdrawn.
func (s *Advisories) WithdrawReview(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionWithdrawReview, access.CapWithdrawReview); err != nil {
			return err
		}
		if err := a.WithdrawReview(); err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		taskID, err := tx.WithdrawOpenReviewTask(ctx, a.ID)
		if err != nil {
			return err
		}
		return insertAudits(ctx, tx, reviewWithdrawn(c, a, taskID, advisory.ReviewSubmitted, map[string]any{}))
	})
}

// reviewWithdrawn audits a review withdrawn from status prev to a's
// current one (R4, or R8's teardown with its meta): advisory.review_withdrawn
// naming the task, and the open task's review.task_status_changed when
// there was one.
func reviewWithdrawn(c Caller, a *advisory.Advisory, taskID int64, prev advisory.ReviewStatus, meta map[string]any) []audit.Entry {
	if taskID != 0 {
		meta["task_id"] = taskID
	}
	e := advisoryAudit(c, a, audit.AdvisoryReviewWithdrawn, meta)
	e.Previous, e.New = reviewValue(prev), reviewValue(a.ReviewStatus)
	entries := []audit.Entry{e}
	if taskID != 0 {
		entries = append(entries, taskStatusChanged(c, a, taskID, advisory.ReviewTaskWithdrawn))
	}
	return entries
}

// ReopenReview returns an advisory whose changes were requested to none
// (R5, owner). Audited as a structured advisory.state_changed carrying the
// review status, shown on the timeline.
func (s *Advisories) ReopenReview(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionReopenReview, access.CapReopenReview); err != nil {
			return err
		}
		if err := a.ReopenReview(); err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		e := advisoryAudit(c, a, audit.AdvisoryStateChanged, map[string]any{"reopened": true})
		e.Previous, e.New = reviewValue(advisory.ReviewChangesRequested), reviewValue(a.ReviewStatus)
		return tx.InsertAudit(ctx, e)
	})
}

// RevokeApproval returns an approved native advisory to none (R6, admin,
// any lifecycle state). The optional reason is posted as an internal
// action note.
func (s *Advisories) RevokeApproval(ctx context.Context, c Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionRevokeApproval, access.CapRevokeApproval); err != nil {
			return err
		}
		if err := a.RevokeApproval(); err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		var meta map[string]any
		if r := strings.TrimSpace(reason); r != "" {
			meta = map[string]any{"reason": r}
		}
		e := advisoryAudit(c, a, audit.AdvisoryReviewApprovalRevoked, meta)
		e.Previous, e.New = reviewValue(advisory.ReviewApproved), reviewValue(a.ReviewStatus)
		return auditWithNote(ctx, tx, c, a, []audit.Entry{e}, comment.NoteRevokeApproval, reason)
	})
}

// ReviewDecision is an admin's decision on a submitted review.
type ReviewDecision struct {
	Approve bool
	Notes   string
}

// DecideReview decides the open review task of advisory id (R2 approve, R3
// request changes; admin only).
func (s *Advisories) DecideReview(ctx context.Context, c Caller, id advisory.ID, d ReviewDecision) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := allows(c, a, t, advisory.ActionDecideReview, access.CapDecideReview); err != nil {
			return err
		}
		task, err := tx.OpenReviewTaskForUpdate(ctx, a.ID)
		if err != nil {
			return err
		}
		return decideReview(ctx, tx, c, a, &task, d)
	})
}

// People are the e-mail addresses of the users a task names, keyed by user
// id, with whether the caller may see them unmasked (can_see_user_emails).
type People struct {
	Emails     map[int64]string
	ShowEmails bool
}

func people(ctx context.Context, tx *postgres.DB, c Caller, t access.Target, ids ...int64) (People, error) {
	emails, err := tx.UserEmails(ctx, ids...)
	if err != nil {
		return People{}, err
	}
	return People{Emails: emails, ShowEmails: access.Allowed(c.Subject(), access.CapSeeUserEmails, t)}, nil
}

// ReviewTaskView is a review task with the people it names.
type ReviewTaskView struct {
	Task   advisory.ReviewTask
	People People
}

// DecideReviewTask decides review task taskID (the dashboard's decision):
// the task must be open (a decided task is terminal, lifecycle §3.2) and
// its advisory submitted. The dashboard is admin-only (permissions §12:
// every admin-console action is wrapped in can_review), so a caller who
// sees the advisory but is no admin is refused before the task's state is
// looked at.
func (s *Advisories) DecideReviewTask(ctx context.Context, c Caller, taskID int64, d ReviewDecision) (ReviewTaskView, error) {
	var out ReviewTaskView
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		id, err := tx.ReviewTaskAdvisory(ctx, taskID)
		if err != nil {
			return err
		}
		a, t, err := lockVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if err := access.Check(c.Subject(), access.CapDecideReview, t); err != nil {
			return err
		}
		task, err := tx.ReviewTaskForUpdate(ctx, taskID)
		if err != nil {
			return err
		}
		if task.Status != advisory.ReviewTaskOpen {
			return advisory.ErrTaskDecided
		}
		if err := a.Allows(advisory.ActionDecideReview); err != nil {
			return err
		}
		if err := decideReview(ctx, tx, c, a, &task, d); err != nil {
			return err
		}
		p, err := people(ctx, tx, c, t, task.SubmittedByID, task.ReviewerID)
		out = ReviewTaskView{Task: task, People: p}
		return err
	})
	return out, err
}

func decideReview(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, task *advisory.ReviewTask, d ReviewDecision) error {
	if err := a.DecideReview(d.Approve); err != nil {
		return err
	}
	notes := strings.TrimSpace(d.Notes)
	status, action, note := advisory.ReviewTaskChangesRequested, audit.AdvisoryReviewChangesRequested, comment.NoteReviewRequestChanges
	if d.Approve {
		status, action, note = advisory.ReviewTaskApproved, audit.AdvisoryReviewApproved, comment.NoteReviewApprove
	}
	if err := tx.UpdateWorkflow(ctx, a); err != nil {
		return err
	}
	if err := tx.DecideReviewTask(ctx, task, status, c.UserID, notes); err != nil {
		return err
	}
	e := advisoryAudit(c, a, action, map[string]any{"task_id": task.ID, "version_id": task.VersionID, "notes": notes})
	e.Previous, e.New = reviewValue(advisory.ReviewSubmitted), reviewValue(a.ReviewStatus)
	return auditWithNote(ctx, tx, c, a, []audit.Entry{e, taskStatusChanged(c, a, task.ID, status)}, note, notes)
}

// allows asks, in order, whether a's state allows workflow action w
// (Conflict) and whether c holds capability cap on the locked row
// (Forbidden).
func allows(c Caller, a *advisory.Advisory, t access.Target, w advisory.Action, cap access.Capability) error {
	if err := a.Allows(w); err != nil {
		return err
	}
	return access.Check(c.Subject(), cap, t)
}

func reviewValue(s advisory.ReviewStatus) map[string]any { return map[string]any{"review_status": s} }

// taskStatusChanged is the structured review.task_status_changed twin of a
// review decision, withdrawal or teardown (always ledger-only).
func taskStatusChanged(c Caller, a *advisory.Advisory, taskID int64, to advisory.ReviewTaskStatus) audit.Entry {
	e := advisoryAudit(c, a, audit.ReviewTaskStatusChanged, map[string]any{"task_id": taskID})
	e.Previous, e.New = map[string]any{"status": advisory.ReviewTaskOpen}, map[string]any{"status": to}
	return e
}
