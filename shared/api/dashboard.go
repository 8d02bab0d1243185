package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// The workflow endpoints (lifecycle.md §3–§5, §7, §10.2): the admin
// dashboard's task transitions of the contract (operations.md §3) and one
// action endpoint per workflow action on an advisory.

// RequestRule is the limit of the withdrawal and reassignment requests and
// of comment locking (lifecycle Q1, D1, K1: 20/h per user).
var RequestRule = ratelimit.Rule{Limit: 20, Period: time.Hour}

func (s *server) workflowRoutes() []route {
	l := s.cfg.Limiter
	const adv = "/api/advisories/{advisory_id}/"
	return []route{
		{"POST", "/api/dashboard/cve/{task_id}/transition/", s.adminFirst(s.serveCVETransition)},
		{"POST", "/api/dashboard/review/{task_id}/decide/", s.adminFirst(s.serveReviewDecision)},
		{"POST", adv + "submit-review/", s.action("", s.submitReview)},
		{"POST", adv + "withdraw-review/", s.action("", s.withdrawReview)},
		{"POST", adv + "reopen-review/", s.action("", s.reopenReview)},
		{"POST", adv + "revoke-approval/", s.action("reason", s.revokeApproval)},
		{"POST", adv + "request-cve/", s.action("", s.requestCVE)},
		{"POST", adv + "unassign-cve/", s.action("reason", s.unassignCVE)},
		{"POST", adv + "request-withdrawal/", limit(l, "api.request_withdrawal", RequestRule, s.action("note", s.requestWithdrawal))},
		{"POST", adv + "cancel-withdrawal-request/", s.action("note", s.cancelWithdrawalRequest)},
		{"POST", adv + "approve-withdrawal/", s.action("", s.approveWithdrawal)},
		{"POST", adv + "request-reassignment/", limit(l, "api.request_reassignment", RequestRule, s.serveRequestReassignment)},
		{"POST", adv + "withdraw-reassignment/", s.action("note", s.withdrawReassignment)},
		{"POST", adv + "accept-reassignment/", s.action("project", s.acceptReassignment)},
		{"POST", adv + "lock-comments/", limit(l, "api.lock_comments", RequestRule, s.action("reason", s.lockComments))},
		{"POST", adv + "unlock-comments/", s.action("", s.unlockComments)},
	}
}

// adminFirst refuses a caller without the admin console before serve reads
// the request: the dashboard is the admins' (permissions §12), and a
// refused caller learns nothing from the validation of its body
// (lifecycle §0 item 2). The use case decides again on the locked row.
func (s *server) adminFirst(serve serveFunc) serveFunc {
	return func(w http.ResponseWriter, r *http.Request, u *auth.User) error {
		if err := access.Check(s.cfg.Auth.Caller(r).Subject(), access.CapAdminConsole, access.Target{}); err != nil {
			return err
		}
		return serve(w, r, u)
	}
}

type cveTaskJSON struct {
	ID          int64   `json:"id"`
	AdvisoryID  string  `json:"advisory_id"`
	Status      string  `json:"status"`
	CVEID       *string `json:"cve_id"`
	Assignee    *string `json:"assignee"`
	RequestedBy *string `json:"requested_by"`
	CreatedAt   Time    `json:"created_at"`
	FinishedAt  Time    `json:"finished_at"`
}

type reviewTaskJSON struct {
	ID            int64   `json:"id"`
	AdvisoryID    string  `json:"advisory_id"`
	Status        string  `json:"status"`
	SubmittedBy   *string `json:"submitted_by"`
	Reviewer      *string `json:"reviewer"`
	DecisionNotes *string `json:"decision_notes"`
	CreatedAt     Time    `json:"created_at"`
	DecidedAt     Time    `json:"decided_at"`
}

// person is the e-mail of user id as the caller may see it; null for none.
func person(callerID, id int64, p app.People) *string {
	email, ok := p.Emails[id]
	if id == 0 || !ok {
		return nil
	}
	e := EmailFor(callerID, id, email, p.ShowEmails)
	return &e
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func taskID(r *http.Request) (int64, error) {
	return pathID(r, "task_id", advisory.ErrTaskNotFound)
}

// advisoryAnd reads the advisory id of the path and the id sub reads after
// it (a comment's, an invitation's).
func advisoryAnd(r *http.Request, sub func(*http.Request) (int64, error)) (advisory.ID, int64, error) {
	id, err := advisoryID(r)
	if err != nil {
		return "", 0, err
	}
	n, err := sub(r)
	if err != nil {
		return "", 0, err
	}
	return id, n, nil
}

// pathID reads the path value name as a positive integer id; anything else
// is notFound, like an unknown id.
func pathID(r *http.Request, name string, notFound error) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound
	}
	return id, nil
}

// serveCVETransition moves a queued CVE request (lifecycle C2, C3; admin):
// {status, cve_id?, notes?, ban?} → 200 CveTask. Errors are 400
// invalid_body, invalid_status, invalid_transition or validation_failed.
func (s *server) serveCVETransition(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := taskID(r)
	if err != nil {
		return err
	}
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	var in app.CVETransition
	status, err := b.str("status")
	if err != nil {
		return err
	}
	in.Status = advisory.CVERequestStatus(strings.TrimSpace(status))
	if !in.Status.Valid() {
		return badRequest("invalid_status", "status must be one of queued, reserved, rejected, cancelled.")
	}
	if in.CVEID, err = b.str("cve_id"); err != nil {
		return err
	}
	if in.Notes, err = b.str("notes"); err != nil {
		return err
	}
	if in.Ban, err = b.boolean("ban"); err != nil {
		return err
	}
	c := s.cfg.Auth.Caller(r)
	v, err := s.cfg.Advisories.TransitionCVERequest(r.Context(), c, id, in)
	if err != nil {
		return taskError(err, "invalid_transition", "validation_failed")
	}
	t := v.Task
	writeJSON(w, http.StatusOK, cveTaskJSON{
		ID: t.ID, AdvisoryID: string(t.AdvisoryID), Status: string(t.Status), CVEID: nonEmpty(string(t.CVEID)),
		Assignee: person(c.UserID, t.AssigneeID, v.People), RequestedBy: person(c.UserID, t.RequestedByID, v.People),
		CreatedAt: apiTime(t.CreatedAt), FinishedAt: apiTimePtr(t.FinishedAt),
	})
	return nil
}

// serveReviewDecision decides an open review task (lifecycle R2, R3;
// admin): {decision: approved|changes_requested, notes?} → 200 ReviewTask.
// Errors are 400 invalid_body, invalid_decision or review_failed.
func (s *server) serveReviewDecision(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := taskID(r)
	if err != nil {
		return err
	}
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	decision, err := b.str("decision")
	if err != nil {
		return err
	}
	var d app.ReviewDecision
	switch strings.TrimSpace(decision) {
	case "approved":
		d.Approve = true
	case "changes_requested":
	default:
		return badRequest("invalid_decision", "decision must be approved or changes_requested.")
	}
	if d.Notes, err = b.str("notes"); err != nil {
		return err
	}
	c := s.cfg.Auth.Caller(r)
	v, err := s.cfg.Advisories.DecideReviewTask(r.Context(), c, id, d)
	if err != nil {
		return taskError(err, "review_failed", "review_failed")
	}
	t := v.Task
	writeJSON(w, http.StatusOK, reviewTaskJSON{
		ID: t.ID, AdvisoryID: string(t.AdvisoryID), Status: string(t.Status),
		SubmittedBy: person(c.UserID, t.SubmittedByID, v.People), Reviewer: person(c.UserID, t.ReviewerID, v.People),
		DecisionNotes: &t.DecisionNotes, CreatedAt: apiTime(t.CreatedAt), DecidedAt: apiTimePtr(t.DecidedAt),
	})
	return nil
}

// taskError maps a dashboard task's refusal to the contract's 400 codes:
// a state that does not allow it is conflictCode, bad input invalidCode.
// Not found and forbidden keep their usual answers.
func taskError(err error, conflictCode, invalidCode string) error {
	var ve *advisory.ValidationError
	switch {
	case errors.As(err, &ve):
		return &Error{Status: http.StatusBadRequest, Code: invalidCode, Message: "The request is not valid.",
			Extra: map[string]any{"problems": ve.ByPath()}}
	case apperr.KindOf(err) == apperr.Conflict:
		return badRequest(conflictCode, publicMessage(err, "The task's current state does not allow this."))
	case apperr.KindOf(err) == apperr.Invalid:
		return badRequest(invalidCode, publicMessage(err, "The request is not valid."))
	}
	return err
}

func (s *server) submitReview(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.SubmitReview(r.Context(), c, id)
}

func (s *server) withdrawReview(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.WithdrawReview(r.Context(), c, id)
}

func (s *server) reopenReview(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.ReopenReview(r.Context(), c, id)
}

func (s *server) revokeApproval(r *http.Request, c app.Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.RevokeApproval(r.Context(), c, id, reason)
}

func (s *server) requestCVE(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.RequestCVE(r.Context(), c, id)
}

func (s *server) unassignCVE(r *http.Request, c app.Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.UnassignCVE(r.Context(), c, id, reason)
}

func (s *server) requestWithdrawal(r *http.Request, c app.Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.RequestWithdrawal(r.Context(), c, id, note)
}

func (s *server) cancelWithdrawalRequest(r *http.Request, c app.Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.CancelWithdrawalRequest(r.Context(), c, id, note)
}

// approveWithdrawal needs a fresh step-up (permissions §8), asked for only
// once the caller is known to be allowed (§13: permission first).
func (s *server) approveWithdrawal(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	if err := s.cfg.Advisories.CheckApproveWithdrawal(r.Context(), c, id); err != nil {
		return nil, err
	}
	if err := s.cfg.Auth.RequireStepUp(r.Context()); err != nil {
		return nil, err
	}
	return s.cfg.Advisories.ApproveWithdrawal(r.Context(), c, id)
}

// serveRequestReassignment reads {note, suggested_project?}.
func (s *server) serveRequestReassignment(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	b, err := readActionBody(w, r)
	if err != nil {
		return err
	}
	note, err := b.str("note")
	if err != nil {
		return err
	}
	suggested, err := b.str("suggested_project")
	if err != nil {
		return err
	}
	a, err := s.cfg.Advisories.RequestReassignment(r.Context(), s.cfg.Auth.Caller(r), id, note, suggested)
	if err != nil {
		return err
	}
	return s.writeAdvisory(w, r, http.StatusOK, a)
}

func (s *server) withdrawReassignment(r *http.Request, c app.Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.WithdrawReassignment(r.Context(), c, id, note)
}

func (s *server) acceptReassignment(r *http.Request, c app.Caller, id advisory.ID, project string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.AcceptReassignment(r.Context(), c, id, project)
}

func (s *server) lockComments(r *http.Request, c app.Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	if err := s.cfg.Comments.SetLock(r.Context(), c, id, true, reason); err != nil {
		return nil, err
	}
	return s.cfg.Advisories.Get(r.Context(), c, id)
}

func (s *server) unlockComments(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	if err := s.cfg.Comments.SetLock(r.Context(), c, id, false, ""); err != nil {
		return nil, err
	}
	return s.cfg.Advisories.Get(r.Context(), c, id)
}
