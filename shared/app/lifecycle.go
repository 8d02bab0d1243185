package app

import (
	"context"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// The lifecycle services (lifecycle.md §2, §7, §8, §10). Each one, on the
// locked row: refuses an invisible advisory as not found; asks the domain
// whether the advisory's state allows the transition (Conflict); asks
// shared/access whether the caller may (Forbidden); validates free text
// (Invalid); then writes the change and its audit rows. An action that the
// spec narrates with a descriptive row and a structured
// advisory.state_changed twin (dismiss, promote) marks the twin
// metadata.narrated=true, so the timeline shows it once (audit-actions §3).

// Dismiss dismisses a triage report (L6, via can_triage) or a draft (L7,
// via can_dismiss: admin-only when a CVE is assigned). The reason is
// required and posted as a public action note; the origin state is
// remembered for reopen. Dismissing an advisory that is already dismissed
// writes nothing (L7's no-op), answered as ErrIllegalTransition (Conflict)
// like any other illegal transition. In one transaction and in the order
// of lifecycle L7: the state flip and its audit rows, the public note, a
// pending reassignment request cleared as dismissed (D4), a queued CVE
// request cancelled (C4), pending review torn down (R8), and an assigned
// CVE orphaned (O1) (INV-LIFECYCLE-4, INV-CVE-1/2).
func (s *Advisories) Dismiss(ctx context.Context, c Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := authorize(c, a, t, advisory.TransitionDismiss, access.CapDismiss); err != nil {
			return err
		}
		d, err := a.Dismiss(reason)
		if err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		dismissed := advisoryAudit(c, a, audit.AdvisoryDismissed, map[string]any{"reason": d.Reason, "from_state": d.From})
		dismissed.Previous, dismissed.New = stateValue(d.From), stateValue(a.State)
		if err := auditWithNote(ctx, tx, c, a, []audit.Entry{dismissed, stateChanged(c, a, d.From, true)}, comment.NoteDismiss, d.Reason); err != nil {
			return err
		}
		if err := insertAudits(ctx, tx, appendCleared(nil, c, a, audit.AdvisoryReassignmentRequestCleared, d.Reassignment, "dismissed")); err != nil {
			return err
		}
		if err := cancelCVERequestOnDismissal(ctx, tx, c, a, d.Reason); err != nil {
			return err
		}
		if err := tearDownReviewOnDismissal(ctx, tx, c, a, d); err != nil {
			return err
		}
		if a.AssignedCVEID == "" {
			return nil
		}
		return orphanCVEAs(ctx, tx, c, a, d.Reason, advisory.OrphanCauseDismissal)
	})
}

// cancelCVERequestOnDismissal cancels the queued CVE request of a dismissed
// advisory a (C4, notes "Advisory dismissed: …"), if there is one, and
// audits cve.request_cancelled.
func cancelCVERequestOnDismissal(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, reason string) error {
	taskID, err := tx.CancelQueuedCVERequest(ctx, a.ID, "Advisory dismissed: "+reason)
	if err != nil || taskID == 0 {
		return err
	}
	e := advisoryAudit(c, a, audit.CVERequestCancelled, map[string]any{"task_id": taskID})
	e.Previous, e.New = map[string]any{"status": advisory.CVERequestQueued}, map[string]any{"status": advisory.CVERequestCancelled}
	return tx.InsertAudit(ctx, e)
}

// tearDownReviewOnDismissal is R8 for dismissal d of a: an open review task
// is withdrawn, and a review status other than none (already reset by
// advisory.Dismiss) is audited as withdrawn with cancelled_on_dismiss.
func tearDownReviewOnDismissal(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, d advisory.Dismissal) error {
	taskID, err := tx.WithdrawOpenReviewTask(ctx, a.ID)
	if err != nil {
		return err
	}
	if d.PreviousReview == advisory.ReviewNone && taskID == 0 {
		return nil
	}
	meta := map[string]any{"cancelled_on_dismiss": true, "reason_length": len([]rune(d.Reason))}
	return insertAudits(ctx, tx, reviewWithdrawn(c, a, taskID, d.PreviousReview, meta))
}

// Reopen returns a dismissed advisory to the state it was dismissed from,
// triage or draft (L13, can_reopen). Reopening a withdrawal (a dismissal
// from published) is an un-withdrawal (L14, INV-WITHDRAW): it runs the
// request transaction of UnwithdrawPublication, and the advisory stays
// dismissed until the publication worker publishes it again. Adapters
// require a fresh step-up for that case first (CheckReopen, permissions
// §13).
func (s *Advisories) Reopen(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if a.State == advisory.StateDismissed && a.DismissedFromState == advisory.StatePublished {
			_, err := UnwithdrawPublication(ctx, tx, c, a, t)
			return err
		}
		if err := authorize(c, a, t, advisory.TransitionReopen, access.ReopenCapability(t)); err != nil {
			return err
		}
		from := a.State
		to, err := a.Reopen()
		if err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		// Reopening restores a request cancelled by the dismissal and
		// reattaches (or queues the reassignment of) an orphaned CVE
		// (lifecycle §2.3).
		r, err := RestoreOnReopen(ctx, tx, c, a, false)
		if err != nil {
			return err
		}
		reopened := advisoryAudit(c, a, audit.AdvisoryReopened, map[string]any{
			"to_state": to, "cve_request_restored": r.CVERequestRestored, "orphan_disposition": r.OrphanDisposition,
		})
		reopened.Previous, reopened.New = stateValue(from), stateValue(to)
		// The state change is the timeline's only narration of a reopen
		// (advisory.reopened is ledger-only), so it is not tagged.
		return insertAudits(ctx, tx, []audit.Entry{reopened, stateChanged(c, a, from, false)})
	})
}

// Promote turns a triage report into a draft on the same row, keeping its
// id, history, comments, grants and intake sidecar (L4, INV-LIFECYCLE-5),
// optionally onto another project (projectSlug; "" keeps the current one).
// It needs can_triage (admin-only while flagged, INV-AUTH-6); a move needs
// the destination team too unless the caller is an admin. A report on
// unsorted needs a real destination. The routing flag is cleared.
func (s *Advisories) Promote(ctx context.Context, c Caller, id advisory.ID, projectSlug string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := authorize(c, a, t, advisory.TransitionPromote, access.CapPromote); err != nil {
			return err
		}
		dest := a.Project
		if projectSlug != "" && projectSlug != a.Project.Slug {
			var err error
			if dest, err = projectRef(ctx, tx, projectSlug); err != nil {
				return err
			}
			if err := access.Check(c.Subject(), access.CapChangeProject, withDestination(t, dest)); err != nil {
				return err
			}
		}
		before, flagged := a.Payload(), a.Routing.NeedsAdminRouting
		prev, err := a.Promote(dest)
		if err != nil {
			return err
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		if flagged {
			if err := tx.UpdateRouting(ctx, a); err != nil {
				return err
			}
		}
		meta, err := appendVersion(ctx, tx, c, a, before)
		if err != nil {
			return err
		}
		meta["previous_project_slug"], meta["project_slug"] = prev.Slug, a.Project.Slug
		meta["reassigned"] = prev.ID != a.Project.ID
		return insertAudits(ctx, tx, []audit.Entry{
			advisoryAudit(c, a, audit.AdvisoryTriagePromoted, meta),
			stateChanged(c, a, advisory.StateTriage, true),
		})
	})
}

// ChangeProject moves an advisory to another project. On a native draft or
// published advisory it is the edit form's project change (lifecycle §8,
// can_change_project: owner, and admin or on the destination team): the
// access review is stamped, republish_required set when published, a
// non-admin move voids an approval, a pending reassignment request is
// cleared as accepted. On a triage report it is ReassignTriage. A version
// is appended (the payload carries the project), audited as
// advisory.project_changed.
func (s *Advisories) ChangeProject(ctx context.Context, c Caller, id advisory.ID, projectSlug string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		return s.moveProject(ctx, tx, c, a, t, projectSlug)
	})
}

// ReassignTriage moves a triage report to another project (F3): an admin to
// any project, unsorted included; a non-admin owner (can_triage) only to a
// project whose team they are on. Landing on unsorted (re)sets the routing
// flag (INV-INTAKE-4); an admin landing it on a real project clears it.
func (s *Advisories) ReassignTriage(ctx context.Context, c Caller, id advisory.ID, projectSlug string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if _, err := a.Next(advisory.TransitionReassignTriage); err != nil {
			return err
		}
		return s.moveProject(ctx, tx, c, a, t, projectSlug)
	})
}

func (s *Advisories) moveProject(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, t access.Target, projectSlug string) error {
	dest, err := projectRef(ctx, tx, projectSlug)
	if err != nil {
		return err
	}
	// can_change_project; in triage reassign_triage_project's rule.
	if err := access.Check(c.Subject(), access.CapChangeProject, withDestination(t, dest)); err != nil {
		return err
	}
	before, routing := a.Payload(), a.Routing
	m, err := a.MoveProject(dest, c.UserID, c.Subject().Admin(), s.now())
	if err != nil {
		return err
	}
	if err := tx.UpdateWorkflow(ctx, a); err != nil {
		return err
	}
	if a.Routing != routing {
		if err := tx.UpdateRouting(ctx, a); err != nil {
			return err
		}
	}
	meta, err := appendVersion(ctx, tx, c, a, before)
	if err != nil {
		return err
	}
	meta["previous_project_slug"], meta["project_slug"] = m.From.Slug, m.To.Slug
	meta["in_triage"] = m.InTriage
	if m.InTriage {
		// F3: the routing note the move left ("" unless it (re)set the flag).
		meta["flagged_for_routing"], meta["cleared_flag"] = m.FlaggedForRouting, m.ClearedFlag
		meta["note"] = ""
		if m.FlaggedForRouting {
			meta["note"] = a.Routing.Note
		}
	}
	moved := advisoryAudit(c, a, audit.AdvisoryProjectChanged, meta)
	moved.Previous = map[string]any{"project_slug": m.From.Slug}
	moved.New = map[string]any{"project_slug": m.To.Slug}
	entries := []audit.Entry{moved}
	if m.Save.ApprovalInvalidated {
		entries = append(entries, approvalInvalidated(c, a))
	}
	entries = appendCleared(entries, c, a, audit.AdvisoryReassignmentRequestCleared, m.Reassignment, "accepted")
	return insertAudits(ctx, tx, entries)
}

// FlagForRouting hands a triage report to the admins (F1, INV-AUTH-6): a
// team member (not an admin) of a native report on a real project, with a
// required note, posted as an internal action note. While flagged, edit,
// promote and dismiss are admin-only.
func (s *Advisories) FlagForRouting(ctx context.Context, c Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := authorize(c, a, t, advisory.TransitionFlagRouting, access.CapFlagRouting); err != nil {
			return err
		}
		if err := a.FlagForRouting(note, c.UserID, s.now()); err != nil {
			return err
		}
		if err := tx.UpdateRouting(ctx, a); err != nil {
			return err
		}
		return auditWithNote(ctx, tx, c, a, []audit.Entry{advisoryAudit(c, a, audit.AdvisoryFlaggedForRouting, map[string]any{"note": a.Routing.Note})},
			comment.NoteFlagForRouting, a.Routing.Note)
	})
}

// ClearRoutingFlag lifts the routing flag of a triage report on a real
// project (F2): an owner may retract the hand-off. note is optional and
// posted as an internal action note. On
// unsorted only reassignment lifts the flag (INV-INTAKE-4).
func (s *Advisories) ClearRoutingFlag(ctx context.Context, c Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := authorize(c, a, t, advisory.TransitionClearRouting, access.CapClearRouting); err != nil {
			return err
		}
		prev, err := a.ClearRouting()
		if err != nil {
			return err
		}
		if err := tx.UpdateRouting(ctx, a); err != nil {
			return err
		}
		note = strings.TrimSpace(note)
		return auditWithNote(ctx, tx, c, a, []audit.Entry{advisoryAudit(c, a, audit.AdvisoryRoutingFlagCleared,
			map[string]any{"previous_note": prev, "note": note})}, comment.NoteClearRoutingFlag, note)
	})
}

// Withdraw records the withdrawal of a published advisory (the request half
// of L12, can_withdraw_published: an admin or a mature-publisher team
// member, CVE allowed): withdrawn_reason is set and, being payload, versioned;
// the advisory is marked for re-export (republish_required); a pending
// withdrawal request is cleared as approved; the reason is posted as a
// public action note; and a publication task pinned to the withdrawal
// version is queued, all in one transaction. It stays published until that
// task succeeds: the worker re-exports it as withdrawn and then dismisses
// it (INV-WITHDRAW, INV-LIFECYCLE-3). Refused while a publication is queued
// or running (INV-CONCURRENCY-1).
func (s *Advisories) Withdraw(ctx context.Context, c Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		return withdrawLocked(ctx, tx, c, a, t, reason)
	})
}

// withdrawLocked is Withdraw's transaction on the locked advisory a; the
// approval of a withdrawal request (Q3) runs it in its own transaction.
func withdrawLocked(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, t access.Target, reason string) error {
	if err := authorize(c, a, t, advisory.TransitionWithdraw, access.CapWithdraw); err != nil {
		return err
	}
	before := a.Payload()
	w, err := a.Withdraw(reason)
	if err != nil {
		return err
	}
	busy, err := tx.PublicationInFlight(ctx, a.ID)
	if err != nil {
		return err
	}
	if busy {
		return advisory.ErrPublicationInProgress
	}
	if err := tx.UpdateWorkflow(ctx, a); err != nil {
		return err
	}
	if _, err := appendVersion(ctx, tx, c, a, before); err != nil {
		return err
	}
	if err := auditWithNote(ctx, tx, c, a, appendCleared(nil, c, a, audit.AdvisoryWithdrawalRequestCleared, w.Request, "approved"),
		comment.NoteWithdrawPublished, a.WithdrawnReason); err != nil {
		return err
	}
	// L12 request transaction: the withdrawal version is exported by a
	// publication task queued here (the human review gate does not
	// apply); the worker's success dismisses the advisory.
	_, err = QueuePublication(ctx, tx, c, a, false)
	return err
}

// authorize asks, in this order, whether a's state allows transition tr
// (advisory.ErrIllegalTransition: Conflict) and whether c holds capability
// cap on the locked row (Forbidden).
func authorize(c Caller, a *advisory.Advisory, t access.Target, tr advisory.Transition, cap access.Capability) error {
	if _, err := a.Next(tr); err != nil {
		return err
	}
	return access.Check(c.Subject(), cap, t)
}

func withDestination(t access.Target, p advisory.ProjectRef) access.Target {
	t.Destination = &access.ProjectRef{Slug: p.Slug, TeamGroupID: p.TeamGroupID}
	return t
}

// stateChanged is the structured advisory.state_changed row of a flip from
// from to a's state; narrated marks it as the twin of a descriptive row.
func stateChanged(c Caller, a *advisory.Advisory, from advisory.State, narrated bool) audit.Entry {
	var meta map[string]any
	if narrated {
		meta = map[string]any{"narrated": true}
	}
	e := advisoryAudit(c, a, audit.AdvisoryStateChanged, meta)
	e.Previous, e.New = stateValue(from), stateValue(a.State)
	return e
}

func stateValue(s advisory.State) map[string]any { return map[string]any{"state": s} }

func approvalInvalidated(c Caller, a *advisory.Advisory) audit.Entry {
	e := advisoryAudit(c, a, audit.AdvisoryReviewApprovalInvalidated, nil)
	e.Previous = map[string]any{"review_status": advisory.ReviewApproved}
	e.New = map[string]any{"review_status": advisory.ReviewNone}
	return e
}

// appendCleared adds the audit row of a cleared request, if one was.
func appendCleared(entries []audit.Entry, c Caller, a *advisory.Advisory, action audit.Action, r *advisory.ClearedRequest, cause string) []audit.Entry {
	if r == nil {
		return entries
	}
	return append(entries, advisoryAudit(c, a, action, map[string]any{"cause": cause, "previous_note": r.Note, "note": ""}))
}

func insertAudits(ctx context.Context, tx *postgres.DB, entries []audit.Entry) error {
	for _, e := range entries {
		if err := tx.InsertAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// auditWithNote writes an action's audit entries and then its free text
// as an action note of kind (lifecycle §0 item 5), the order every
// workflow action keeps.
func auditWithNote(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, entries []audit.Entry, kind comment.NoteKind, note string) error {
	if err := insertAudits(ctx, tx, entries); err != nil {
		return err
	}
	_, err := RecordActionNote(ctx, tx, c, a.ID, kind, note)
	return err
}
