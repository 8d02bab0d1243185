package advisory

import (
	"fmt"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// The workflow machines that do not change the lifecycle state
// (lifecycle.md §3 review, §4 CVE requests, §5 orphan CVEs, §7 requests).
// As in lifecycle.go, authorization is the caller's (package access, on the
// locked row): Allows answers whether the advisory's current state allows a
// workflow action (Conflict otherwise), and the methods below check it
// again, validate free text and mutate the struct.

// Errors of the workflow machines.
var (
	// ErrTaskNotFound: no review, CVE-request, orphan or reassignment task
	// with that id (or one the caller may not see).
	ErrTaskNotFound = apperr.New(apperr.NotFound, "task not found")
	// ErrTaskDecided: the task is no longer open (lifecycle §3.2, §4, §5):
	// decided tasks are terminal.
	ErrTaskDecided = apperr.New(apperr.Conflict, "the task has already been decided")
	// ErrCVERequestQueued: a CVE request is already queued (INV-CVE-1).
	ErrCVERequestQueued = apperr.New(apperr.Conflict, "a CVE request is already queued for this advisory")
	// ErrCVEHeld: the CVE id is held by another advisory.
	ErrCVEHeld = apperr.New(apperr.Conflict, "the CVE id is held by another advisory")
)

// Action is a workflow action that keeps the lifecycle state.
type Action string

// Workflow actions.
const (
	ActionSubmitReview         Action = "submit_review"         // R1
	ActionDecideReview         Action = "decide_review"         // R2, R3
	ActionWithdrawReview       Action = "withdraw_review"       // R4
	ActionReopenReview         Action = "reopen_review"         // R5
	ActionRevokeApproval       Action = "revoke_approval"       // R6
	ActionRequestCVE           Action = "request_cve"           // C1
	ActionReserveCVE           Action = "reserve_cve"           // C2
	ActionUnassignCVE          Action = "unassign_cve"          // O1
	ActionRequestWithdrawal    Action = "request_withdrawal"    // Q1
	ActionCancelWithdrawal     Action = "cancel_withdrawal"     // Q2, Q3
	ActionRequestReassignment  Action = "request_reassignment"  // D1
	ActionWithdrawReassignment Action = "withdraw_reassignment" // D2, D3
	ActionAttachCVE            Action = "attach_cve"            // O3, O4, C5
	ActionUnbanCVERequests     Action = "unban_cve_requests"    // flag true → false
)

// Allows reports whether a's current state allows action w: nil, or an
// error of kind Conflict saying why not.
func (a *Advisory) Allows(w Action) error {
	refuse := func(why string) error { return fmt.Errorf("%w: %s", ErrIllegalTransition, why) }
	switch w {
	case ActionSubmitReview:
		switch {
		case a.Kind != KindNative:
			return refuse("a GHSA-linked advisory is never reviewed")
		case a.State != StateDraft:
			return refuse("only a draft is submitted for review")
		case a.ReviewStatus == ReviewSubmitted:
			return refuse("the advisory is already submitted for review")
		}
	case ActionDecideReview, ActionWithdrawReview:
		if a.ReviewStatus != ReviewSubmitted {
			return refuse("the advisory is not submitted for review")
		}
		if w == ActionWithdrawReview && a.Kind != KindNative {
			return refuse("a GHSA-linked advisory is never reviewed")
		}
	case ActionReopenReview:
		if a.ReviewStatus != ReviewChangesRequested {
			return refuse("no changes were requested")
		}
	case ActionRevokeApproval:
		if a.Kind != KindNative || a.ReviewStatus != ReviewApproved {
			return refuse("the advisory is not approved")
		}
	case ActionRequestCVE:
		switch {
		case a.State != StateDraft && a.State != StatePublished:
			return refuse("a CVE is requested for a draft or published advisory")
		case a.AssignedCVEID != "":
			return refuse("the advisory already has a CVE")
		}
	case ActionReserveCVE, ActionAttachCVE:
		if a.AssignedCVEID != "" {
			return refuse("the advisory already has a CVE (INV-CVE-2)")
		}
	case ActionUnassignCVE:
		if a.AssignedCVEID == "" {
			return refuse("the advisory has no CVE")
		}
	case ActionUnbanCVERequests:
		return nil
	case ActionRequestWithdrawal:
		switch {
		case a.State != StatePublished:
			return refuse("only a published advisory is withdrawn")
		case a.WithdrawalRequestedAt != nil:
			return refuse("a withdrawal request is already pending")
		}
	case ActionCancelWithdrawal:
		if a.WithdrawalRequestedAt == nil {
			return refuse("no withdrawal request is pending")
		}
	case ActionRequestReassignment:
		switch {
		case a.Kind != KindNative || a.State != StateDraft:
			return refuse("only a native draft is handed to the admins for reassignment")
		case a.ReassignmentRequestedAt != nil:
			return refuse("a reassignment request is already pending")
		}
	case ActionWithdrawReassignment:
		if a.ReassignmentRequestedAt == nil {
			return refuse("no reassignment request is pending")
		}
	default:
		return refuse("unknown workflow action " + string(w))
	}
	return nil
}

// SubmitForReview moves a native draft to submitted (R1) at now. The caller
// pins the latest version on a new review task (INV-REVIEW-2). It returns
// the review status it left.
func (a *Advisory) SubmitForReview(now time.Time) (ReviewStatus, error) {
	if err := a.Allows(ActionSubmitReview); err != nil {
		return "", err
	}
	prev := a.ReviewStatus
	a.ReviewStatus, a.SubmittedForReviewAt = ReviewSubmitted, &now
	return prev, nil
}

// DecideReview records an admin's decision on a submitted advisory (R2
// approve, R3 request changes).
func (a *Advisory) DecideReview(approve bool) error {
	if err := a.Allows(ActionDecideReview); err != nil {
		return err
	}
	a.ReviewStatus = ReviewChangesRequested
	if approve {
		a.ReviewStatus = ReviewApproved
	}
	return nil
}

// WithdrawReview returns a submitted advisory to none (R4).
func (a *Advisory) WithdrawReview() error {
	if err := a.Allows(ActionWithdrawReview); err != nil {
		return err
	}
	a.ReviewStatus = ReviewNone
	return nil
}

// ReopenReview returns an advisory whose changes were requested to none
// (R5).
func (a *Advisory) ReopenReview() error {
	if err := a.Allows(ActionReopenReview); err != nil {
		return err
	}
	a.ReviewStatus = ReviewNone
	return nil
}

// RevokeApproval returns an approved advisory to none (R6), in any
// lifecycle state.
func (a *Advisory) RevokeApproval() error {
	if err := a.Allows(ActionRevokeApproval); err != nil {
		return err
	}
	a.ReviewStatus = ReviewNone
	return nil
}

// AttachCVE writes id as the advisory's CVE (C2, C5, O3, O4). It is written
// once (INV-CVE-2): an advisory that holds a CVE refuses. A published
// advisory is marked for re-export. id must already be parsed.
func (a *Advisory) AttachCVE(id CVEID) error {
	if err := a.Allows(ActionAttachCVE); err != nil {
		return err
	}
	if _, err := ParseCVEID(string(id)); err != nil {
		return invalid("cve_id", "must look like CVE-YYYY-NNNN")
	}
	a.AssignedCVEID = id
	if a.State == StatePublished {
		a.RepublishRequired = true
	}
	return nil
}

// UnassignCVE detaches the advisory's CVE (O1) with a required reason and
// returns the CVE it held. A published advisory is marked for re-export.
func (a *Advisory) UnassignCVE(reason string) (CVEID, string, error) {
	if err := a.Allows(ActionUnassignCVE); err != nil {
		return "", "", err
	}
	reason, err := requiredText("reason", reason)
	if err != nil {
		return "", "", err
	}
	prev := a.AssignedCVEID
	a.AssignedCVEID = ""
	if a.State == StatePublished {
		a.RepublishRequired = true
	}
	return prev, reason, nil
}

// RequestWithdrawal records a team member's withdrawal request on a
// published advisory (Q1); the note is required.
func (a *Advisory) RequestWithdrawal(note string, by int64, now time.Time) error {
	if err := a.Allows(ActionRequestWithdrawal); err != nil {
		return err
	}
	note, err := requiredText("note", note)
	if err != nil {
		return err
	}
	a.WithdrawalRequestedAt, a.WithdrawalRequestedByID, a.WithdrawalRequestNote = &now, by, note
	return nil
}

// CancelWithdrawalRequest clears the pending withdrawal request (Q2) and
// returns it.
func (a *Advisory) CancelWithdrawalRequest() (ClearedRequest, error) {
	if err := a.Allows(ActionCancelWithdrawal); err != nil {
		return ClearedRequest{}, err
	}
	r := ClearedRequest{Note: a.WithdrawalRequestNote, RequestedBy: a.WithdrawalRequestedByID}
	a.WithdrawalRequestedAt, a.WithdrawalRequestedByID, a.WithdrawalRequestNote = nil, 0, ""
	return r, nil
}

// RequestReassignment records a team member's request that an admin move
// the draft to another project (D1). The note is required; suggested is the
// suggested project ("" none) and must differ from the current one.
func (a *Advisory) RequestReassignment(note string, suggested *ProjectRef, by int64, now time.Time) error {
	if err := a.Allows(ActionRequestReassignment); err != nil {
		return err
	}
	note, err := requiredText("note", note)
	if err != nil {
		return err
	}
	id := ""
	if suggested != nil {
		if suggested.ID == a.Project.ID {
			return invalid("suggested_project", "suggest a project other than the current one")
		}
		id = suggested.ID
	}
	a.ReassignmentRequestedAt, a.ReassignmentRequestedByID = &now, by
	a.ReassignmentRequestNote, a.ReassignmentSuggestedProjectID = note, id
	return nil
}

// WithdrawReassignment clears the pending reassignment request (D2) and
// returns it.
func (a *Advisory) WithdrawReassignment() (ClearedRequest, error) {
	if err := a.Allows(ActionWithdrawReassignment); err != nil {
		return ClearedRequest{}, err
	}
	return *a.clearReassignment(), nil
}

// ReviewTaskStatus is ReviewTask.status (lifecycle §3.2).
type ReviewTaskStatus string

// Review task statuses; all but open are terminal.
const (
	ReviewTaskOpen             ReviewTaskStatus = "open"
	ReviewTaskApproved         ReviewTaskStatus = "approved"
	ReviewTaskChangesRequested ReviewTaskStatus = "changes_requested"
	ReviewTaskWithdrawn        ReviewTaskStatus = "withdrawn"
)

// ReviewTask is one submission for review, pinned to the version submitted
// (INV-REVIEW-2).
type ReviewTask struct {
	ID            int64
	AdvisoryPK    int64
	AdvisoryID    ID
	VersionID     int64
	Status        ReviewTaskStatus
	SubmittedByID int64 // 0 = none
	ReviewerID    int64 // 0 = none
	DecisionNotes string
	CreatedAt     time.Time
	DecidedAt     *time.Time
}

// CVERequestStatus is CveRequestTask.status (lifecycle §4).
type CVERequestStatus string

// CVE request statuses; only queued may move.
const (
	CVERequestQueued    CVERequestStatus = "queued"
	CVERequestReserved  CVERequestStatus = "reserved"
	CVERequestRejected  CVERequestStatus = "rejected"
	CVERequestCancelled CVERequestStatus = "cancelled"
)

// Valid reports whether s is a known status.
func (s CVERequestStatus) Valid() bool {
	switch s {
	case CVERequestQueued, CVERequestReserved, CVERequestRejected, CVERequestCancelled:
		return true
	}
	return false
}

// CVERequest is one CVE request task.
type CVERequest struct {
	ID            int64
	AdvisoryPK    int64
	AdvisoryID    ID
	Status        CVERequestStatus
	RequestedByID int64 // 0 = none
	AssigneeID    int64 // 0 = none
	CVEID         CVEID
	Notes         string
	CreatedAt     time.Time
	FinishedAt    *time.Time
}

// OrphanStatus is OrphanCve.status (lifecycle §5).
type OrphanStatus string

// Orphan statuses; reassigned is terminal.
const (
	OrphanOrphaned       OrphanStatus = "orphaned"
	OrphanMarkedRejected OrphanStatus = "marked_rejected"
	OrphanReassigned     OrphanStatus = "reassigned"
)

// OrphanCause is why a CVE was detached (lifecycle §12): a reopen
// reattaches only what a dismissal or a withdrawal detached, never a CVE an
// admin unassigned on purpose.
type OrphanCause string

// Orphan causes.
const (
	OrphanCauseDismissal  OrphanCause = "dismissal"  // L7 cascade (O1)
	OrphanCauseWithdrawal OrphanCause = "withdrawal" // L12 finalisation (O2)
	OrphanCauseManual     OrphanCause = "manual"     // admin unassign (O1)
)

// OrphanCVE is the receipt of a CVE detached from its advisory.
type OrphanCVE struct {
	ID                  int64
	CVEID               CVEID
	PreviousAdvisoryPK  int64 // 0 = gone
	PreviousAdvisoryRef string
	Status              OrphanStatus
	Cause               OrphanCause
	UnassignReason      string
	UnassignedAt        time.Time
}

// ReassignmentTaskStatus is OrphanCveReassignmentTask.status.
type ReassignmentTaskStatus string

// Reassignment task statuses; only queued may move.
const (
	ReassignmentQueued   ReassignmentTaskStatus = "queued"
	ReassignmentResolved ReassignmentTaskStatus = "resolved_reassigned"
	ReassignmentReplaced ReassignmentTaskStatus = "resolved_replaced"
)

// OrphanReassignment is an admin inbox item asking to reattach an orphan
// to the advisory it came from (lifecycle §5 T1–T3).
type OrphanReassignment struct {
	ID               int64
	OrphanID         int64
	AdvisoryPK       int64
	AdvisoryID       ID
	Status           ReassignmentTaskStatus
	ReplacementCVEID CVEID
}
