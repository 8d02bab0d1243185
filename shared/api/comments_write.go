package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
)

// The comment edit, redaction and history endpoints (issue 5, "everything
// scriptable"; requirements §4.4, permissions note ᵈ):
//
//	PATCH /api/advisories/{advisory_id}/comments/{comment_id}/           author (30/m)
//	POST  /api/advisories/{advisory_id}/comments/{comment_id}/redact/    author or global admin
//	GET   /api/advisories/{advisory_id}/comments/{comment_id}/versions/  whoever may read the comment
//
// Who may do what is app.Comments' decision (access.CapEditComment,
// CapRedactComment and the read-time internal-comment check,
// INV-COMMENT-2); these handlers only decode and encode. A comment the
// caller may not read — on an invisible advisory, internal below
// collaborator, or on another advisory — is the same 404 as a missing one.
// Neither action is step-up gated (permissions §8 lists neither).

// commentWriteRoutes are part of the route table (routes.go). Edits are
// counted against the comment-posting limit's rule (30/min per user, in
// their own bucket): each appends an immutable version row
// (INV-COMMENT-3), the same cost as a post. Redaction is one-way and at
// most once per comment, so it is not limited.
func (a *Access) commentWriteRoutes() []route {
	return []route{
		{"PATCH", "/api/advisories/{advisory_id}/comments/{comment_id}/", a.limited("api.comments.edit", CommentRule, a.serveEditComment)},
		{"POST", "/api/advisories/{advisory_id}/comments/{comment_id}/redact/", a.serveRedactComment},
		{"GET", "/api/advisories/{advisory_id}/comments/{comment_id}/versions/", a.serveCommentVersions},
	}
}

// commentID reads the comment id of the path; anything but a positive
// integer is not found, like an unknown id.
func commentID(r *http.Request) (int64, error) {
	return pathID(r, "comment_id", apperr.New(apperr.NotFound, "no such comment"))
}

// commentEditFields are the keys an edit body may carry.
var commentEditFields = []string{"body"}

// serveEditComment: PATCH …/comments/{comment_id}/ {body} → 200 with the
// comment as the caller now sees it. The author only, while the comment
// is not redacted; a changed body appends a version and audits
// comment.edited, an unchanged one changes nothing. is_internal is fixed
// at creation (INV-COMMENT-1), so it, like any other key, is refused.
func (a *Access) serveEditComment(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, cid, err := advisoryAnd(r, commentID)
	if err != nil {
		return err
	}
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	if err := onlyFields(b, commentEditFields); err != nil {
		return err
	}
	text, err := b.str("body")
	if err != nil {
		return err
	}
	cv, err := a.Comments.Edit(r.Context(), a.Auth.Caller(r), id, cid, text)
	switch {
	case errors.Is(err, comment.ErrEmptyBody):
		return badRequest("invalid_body", "body is required.")
	case errors.Is(err, comment.ErrBodyTooLong):
		return badRequest("invalid_body", fmt.Sprintf("body must be at most %d characters.", comment.MaxBody))
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, commentOf(cv))
	return nil
}

// serveRedactComment: POST …/comments/{comment_id}/redact/ (no fields) →
// 200 with the redacted comment: same id and place in the thread, body
// "" and is_redacted true (INV-COMMENT-4). The author or a global admin;
// redacting again is refused.
func (a *Access) serveRedactComment(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, cid, err := advisoryAnd(r, commentID)
	if err != nil {
		return err
	}
	if _, err := readActionBody(w, r); err != nil {
		return err
	}
	c := a.Auth.Caller(r)
	if err := a.Comments.Redact(r.Context(), c, id, cid); err != nil {
		return err
	}
	// The redacted row as the caller now reads it (the thread's own
	// rendering: mentions, email masking).
	th, err := a.Comments.List(r.Context(), c, id)
	if err != nil {
		return err
	}
	for _, cv := range th.Comments {
		if cv.ID == cid {
			writeJSON(w, http.StatusOK, commentOf(cv))
			return nil
		}
	}
	return fmt.Errorf("comment %d: %w", cid, comment.ErrNotFound)
}

// commentVersionJSON is the CommentVersion shape. There is no editor: only
// the author edits a comment, so every version is theirs.
type commentVersionJSON struct {
	Body      string `json:"body"`
	CreatedAt Time   `json:"created_at"`
	Version   int    `json:"version"`
}

// serveCommentVersions: GET …/comments/{comment_id}/versions/ → the
// comment's versions, oldest first (1 is the original), to a caller who
// may read the comment. Once the comment is redacted every body is ""
// (redaction clears what readers see, history included); the version
// numbers and times remain.
func (a *Access) serveCommentVersions(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, cid, err := advisoryAnd(r, commentID)
	if err != nil {
		return err
	}
	vs, err := a.Comments.History(r.Context(), a.Auth.Caller(r), id, cid)
	if err != nil {
		return err
	}
	out := make([]commentVersionJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, commentVersionJSON{Body: v.Body, CreatedAt: apiTime(v.CreatedAt), Version: v.Number})
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

// onlyFields refuses a body with a key outside allowed (400 invalid_body
// naming the first such key). A form's CSRF field is not a key of the
// body.
func onlyFields(b body, allowed []string) error {
	var keys []string
	if b.form != nil {
		for k := range b.form {
			if k != middleware.CSRFFormField {
				keys = append(keys, k)
			}
		}
	} else {
		for k := range b.json {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case slices.Contains(allowed, k):
		case k == "is_internal":
			return badRequest("invalid_body", "is_internal is fixed when a comment is posted; only body can be edited.")
		default:
			return badRequest("invalid_body", fmt.Sprintf("Unknown field %q.", k))
		}
	}
	return nil
}
