package advisory

import (
	"fmt"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// The lifecycle machine (lifecycle.md §2) and the side effects a human action
// has on the advisory row (§3.3 review teardown, §7.2 D4 request clearing,
// §8 edit flags, §10.1 routing flag). Authorization is not decided here: the
// caller has already asked package access on the locked row. These methods
// check that the change is legal in the advisory's current state, validate
// free text, and mutate the struct; the store persists it.

// Errors of the lifecycle machine; each is of kind apperr.Conflict.
var (
	// ErrIllegalTransition: the advisory's current state does not allow
	// the change.
	ErrIllegalTransition = apperr.New(apperr.Conflict, "illegal lifecycle transition")
	// ErrViaPipeline: published ↔ dismissed only ever changes through the
	// publication pipeline (INV-LIFECYCLE-3, INV-LIFECYCLE-4, INV-WITHDRAW).
	ErrViaPipeline = apperr.New(apperr.Conflict, "this transition runs through the publication pipeline")
	// ErrPublicationInProgress: a publication task is queued or running
	// (INV-CONCURRENCY-1).
	ErrPublicationInProgress = apperr.New(apperr.Conflict, "a publication of this advisory is in progress")
)

// DefaultUnsortedRoutingNote is the routing note set when a triage report
// is moved onto the unsorted project (lifecycle F3, INV-INTAKE-4).
const DefaultUnsortedRoutingNote = "Reassigned to the Unsorted project for admin routing."

// Transition is a human lifecycle action.
type Transition string

// Lifecycle transitions.
const (
	TransitionPromote  Transition = "promote"  // L4: triage → draft
	TransitionDismiss  Transition = "dismiss"  // L6, L7: triage | draft → dismissed
	TransitionReopen   Transition = "reopen"   // L13: dismissed → triage | draft
	TransitionWithdraw Transition = "withdraw" // L12 request: published stays published until the worker's push
	// Routing-flag and triage-project changes keep the state (§10.1).
	TransitionFlagRouting    Transition = "flag_for_routing"   // F1
	TransitionClearRouting   Transition = "clear_routing_flag" // F2
	TransitionReassignTriage Transition = "reassign_triage"    // F3
)

// Next returns the state transition tr leads a to, or an error of kind
// Conflict when a's state does not allow it (lifecycle §2.1, §10.1). Callers
// ask it before authorizing, so an illegal transition is a conflict whoever
// asks; the methods below ask it again before they mutate. A withdrawal
// leaves the
// state published: only the publication worker moves it to dismissed after
// the push (INV-LIFECYCLE-3). Reopening a withdrawal (L14) and dismissing a
// published advisory are refused with ErrViaPipeline and
// ErrIllegalTransition: both go through the pipeline.
func (a *Advisory) Next(tr Transition) (State, error) {
	switch tr {
	case TransitionPromote:
		if a.State == StateTriage {
			return StateDraft, nil
		}
	case TransitionDismiss:
		switch a.State {
		case StateTriage, StateDraft:
			return StateDismissed, nil
		case StatePublished:
			return "", fmt.Errorf("%w: a published advisory is withdrawn, not dismissed", ErrIllegalTransition)
		}
	case TransitionReopen:
		if a.State == StateDismissed {
			switch a.DismissedFromState {
			case "", StateDraft: // "" is an old row: reopen to draft (L13)
				return StateDraft, nil
			case StateTriage:
				return StateTriage, nil
			case StatePublished:
				return "", fmt.Errorf("%w: reopening a withdrawal re-publishes it", ErrViaPipeline)
			}
		}
	case TransitionWithdraw:
		if a.State == StatePublished {
			return StatePublished, nil
		}
	case TransitionFlagRouting:
		if a.State == StateTriage {
			if a.Routing.NeedsAdminRouting {
				return "", fmt.Errorf("%w: the report is already flagged for routing", ErrIllegalTransition)
			}
			return StateTriage, nil
		}
	case TransitionClearRouting:
		if a.State == StateTriage {
			switch {
			case !a.Routing.NeedsAdminRouting:
				return "", fmt.Errorf("%w: the report is not flagged for routing", ErrIllegalTransition)
			case a.Project.IsUnsorted():
				return "", fmt.Errorf("%w: a report on the unsorted project leaves routing only by reassignment", ErrIllegalTransition)
			}
			return StateTriage, nil
		}
	case TransitionReassignTriage:
		if a.State == StateTriage {
			return StateTriage, nil
		}
	}
	return "", fmt.Errorf("%w: cannot %s a %s advisory", ErrIllegalTransition, tr, a.State)
}

// ClearedRequest is a pending request (draft reassignment or withdrawal)
// that an action cleared, as the audit row records it.
type ClearedRequest struct {
	Note        string
	RequestedBy int64
}

// Dismissal is what Dismiss changed.
type Dismissal struct {
	From   State
	Reason string
	// PreviousReview is the review status torn down to none (R8); none
	// when there was nothing to tear down.
	PreviousReview ReviewStatus
	// Reassignment is the pending reassignment request cleared with cause
	// "dismissed" (D4), or nil.
	Reassignment *ClearedRequest
}

// Dismiss moves a triage or draft advisory to dismissed (L6, L7). The reason
// is required; the origin is remembered for reopen (INV-LIFECYCLE-4). Any
// review state is torn down to none, so a reopened advisory cannot ride an
// old approval (R8, INV-PERM-3), and a pending reassignment request is
// cleared (D4).
func (a *Advisory) Dismiss(reason string) (Dismissal, error) {
	to, err := a.Next(TransitionDismiss)
	if err != nil {
		return Dismissal{}, err
	}
	if reason, err = requiredText("reason", reason); err != nil {
		return Dismissal{}, err
	}
	d := Dismissal{From: a.State, Reason: reason, PreviousReview: a.ReviewStatus}
	a.State, a.DismissedReason, a.DismissedFromState = to, reason, d.From
	a.ReviewStatus = ReviewNone
	d.Reassignment = a.clearReassignment()
	return d, nil
}

// Reopen returns a dismissed advisory to the state it was dismissed from
// (L13). The dismissal reason and origin stay as history; review is left as
// it is (already none after a dismissal).
func (a *Advisory) Reopen() (State, error) {
	to, err := a.Next(TransitionReopen)
	if err != nil {
		return "", err
	}
	a.State = to
	return to, nil
}

// Promote moves a triage report to draft on the same row, keeping its
// identity (L4, INV-LIFECYCLE-5), onto project dest (its current project
// when unchanged). A report on the unsorted project needs a real target.
// The routing flag is cleared. It returns the project the report was on.
func (a *Advisory) Promote(dest ProjectRef) (ProjectRef, error) {
	to, err := a.Next(TransitionPromote)
	if err != nil {
		return ProjectRef{}, err
	}
	if dest.IsUnsorted() {
		return ProjectRef{}, invalid("project", "choose the project this report belongs to")
	}
	prev := a.Project
	a.State, a.Project = to, dest
	a.Routing = Routing{}
	return prev, nil
}

// Withdrawal is what Withdraw changed.
type Withdrawal struct {
	PreviousReason string
	// Request is the pending withdrawal request cleared with cause
	// "approved", or nil.
	Request *ClearedRequest
}

// Withdraw records the withdrawal of a published advisory (the request half
// of L12, INV-WITHDRAW): withdrawn_reason is set (a payload field, so a new
// version follows) and the advisory is marked for re-export. It stays
// published: the publication worker re-exports it as withdrawn and only
// then dismisses it. A pending withdrawal request is cleared as approved.
// Review is not torn down (lifecycle §3.3).
func (a *Advisory) Withdraw(reason string) (Withdrawal, error) {
	if _, err := a.Next(TransitionWithdraw); err != nil {
		return Withdrawal{}, err
	}
	reason, err := requiredText("reason", reason)
	if err != nil {
		return Withdrawal{}, err
	}
	w := Withdrawal{PreviousReason: a.WithdrawnReason}
	a.WithdrawnReason = reason
	a.RepublishRequired = true
	if a.WithdrawalRequestedAt != nil {
		w.Request = &ClearedRequest{Note: a.WithdrawalRequestNote, RequestedBy: a.WithdrawalRequestedByID}
		a.WithdrawalRequestedAt, a.WithdrawalRequestedByID, a.WithdrawalRequestNote = nil, 0, ""
	}
	return w, nil
}

// Save is what the side effects of an edit-form save changed (lifecycle §8).
type Save struct {
	// ApprovalInvalidated: a non-admin save reset approved to none (R7,
	// INV-REVIEW-4).
	ApprovalInvalidated bool
}

// Edit replaces a's content after validating it (the whole content at
// once; a *ValidationError lists every problem) and applies the save's side
// effects: on a published advisory republish_required is set; a non-admin
// save of an approved native advisory voids the approval (INV-REVIEW-4).
// Whether the payload changed (and so whether a version is appended) is the
// caller's comparison.
func (a *Advisory) Edit(c Content, byAdmin bool) (Save, error) {
	if err := c.Validate(); err != nil {
		return Save{}, err
	}
	if a.State == StateDismissed {
		return Save{}, fmt.Errorf("%w: a dismissed advisory cannot be edited", ErrIllegalTransition)
	}
	a.Content = c
	return a.saved(byAdmin), nil
}

func (a *Advisory) saved(byAdmin bool) Save {
	var s Save
	if a.State == StatePublished {
		a.RepublishRequired = true
	}
	if a.Kind == KindNative && a.ReviewStatus == ReviewApproved && !byAdmin {
		a.ReviewStatus = ReviewNone
		s.ApprovalInvalidated = true
	}
	return s
}

// Move is what MoveProject changed.
type Move struct {
	From, To ProjectRef
	InTriage bool
	Save     Save
	// Reassignment is the pending reassignment request cleared with cause
	// "accepted" (D4), or nil.
	Reassignment *ClearedRequest
	// Triage only (F3): the routing flag was (re)set because the report
	// landed on unsorted, or cleared by an admin moving it to a real
	// project.
	FlaggedForRouting bool
	ClearedFlag       bool
}

// MoveProject moves a to project dest for actor by, at now.
//
// A triage report (F3, INV-INTAKE-4) landing on unsorted is flagged for
// admin routing with the default note; an admin moving it to a real project
// clears the flag. Any other state is the edit form's project change
// (lifecycle §8): the access review is stamped, the save's side effects
// apply (republish flag, approval reset) and a pending reassignment request
// is cleared as accepted. The payload changes (project slug and name), so
// the caller appends a version.
func (a *Advisory) MoveProject(dest ProjectRef, by int64, byAdmin bool, now time.Time) (Move, error) {
	if a.State == StateDismissed {
		return Move{}, fmt.Errorf("%w: a dismissed advisory cannot change project", ErrIllegalTransition)
	}
	if dest.ID == a.Project.ID {
		return Move{}, invalid("project", "the advisory is already on this project")
	}
	m := Move{From: a.Project, To: dest, InTriage: a.State == StateTriage}
	a.Project = dest
	if m.InTriage {
		switch {
		case dest.IsUnsorted():
			a.Routing = Routing{NeedsAdminRouting: true, Note: DefaultUnsortedRoutingNote, FlaggedAt: &now, FlaggedByID: by}
			m.FlaggedForRouting = true
		case byAdmin && a.Routing.NeedsAdminRouting:
			a.Routing = Routing{}
			m.ClearedFlag = true
		}
		return m, nil
	}
	a.AccessReviewRequiredAt = &now
	m.Save = a.saved(byAdmin)
	m.Reassignment = a.clearReassignment()
	return m, nil
}

// FlagForRouting hands a triage report to the admins (F1, INV-AUTH-6). The
// note is required. A report on unsorted is always flagged already.
func (a *Advisory) FlagForRouting(note string, by int64, now time.Time) error {
	if _, err := a.Next(TransitionFlagRouting); err != nil {
		return err
	}
	note, err := requiredText("note", note)
	if err != nil {
		return err
	}
	a.Routing = Routing{NeedsAdminRouting: true, Note: note, FlaggedAt: &now, FlaggedByID: by}
	return nil
}

// ClearRouting lifts the routing flag of a triage report on a real project
// (F2); on unsorted only reassignment lifts it (INV-INTAKE-4). It returns the
// note that was wiped.
func (a *Advisory) ClearRouting() (string, error) {
	if _, err := a.Next(TransitionClearRouting); err != nil {
		return "", err
	}
	prev := a.Routing.Note
	a.Routing = Routing{}
	return prev, nil
}

// clearReassignment clears a pending draft-reassignment request (all four
// fields, INV-AUTH-9) and returns it, or nil when none was pending.
func (a *Advisory) clearReassignment() *ClearedRequest {
	if a.ReassignmentRequestedAt == nil {
		return nil
	}
	r := &ClearedRequest{Note: a.ReassignmentRequestNote, RequestedBy: a.ReassignmentRequestedByID}
	a.ReassignmentRequestedAt, a.ReassignmentRequestedByID = nil, 0
	a.ReassignmentRequestNote, a.ReassignmentSuggestedProjectID = "", ""
	return r
}

// requiredText trims s and refuses it when blank, as a *ValidationError on
// field.
func requiredText(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(field, "required")
	}
	return s, nil
}

func invalid(path, msg string) error {
	return &ValidationError{Problems: []Problem{{Path: path, Message: msg}}}
}
