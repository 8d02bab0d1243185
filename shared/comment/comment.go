// Package comment is the pure domain of advisory comments: the Comment and
// Version types, body validation, the Markdown renderer shared with
// advisory details (markdown.go), @mention parsing and resolution, the
// per-action visibility of action notes, and the email masking that keeps
// other users' addresses from non-owners (privacy.go).
//
// Rules: is_internal is fixed at creation (INV-COMMENT-1) and visibility is
// decided at every read (INV-COMMENT-2); an edit appends a frozen version
// (INV-COMMENT-3); redaction is one-way and keeps the comment's place
// (INV-COMMENT-4); a mention never widens who can see a comment.
//
// Sources: requirements §4.4, §6.8, data-model §6, INV-COMMENT-1..4,
// INV-PRIVACY-4.
package comment

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// MaxBody bounds a comment body, in characters.
const MaxBody = 20000

// Comment is a stored comment with its author as read from the user table.
type Comment struct {
	ID         int64
	AdvisoryID int64 // internal advisories.id
	AuthorID   int64 // 0: a system comment (or the author was deleted)
	Author     Person
	Body       string // raw Markdown; "" once redacted
	Internal   bool   // fixed at creation (INV-COMMENT-1)
	CreatedAt  time.Time
	EditedAt   *time.Time
	RedactedAt *time.Time
	RedactedBy int64
}

// Redacted reports whether the comment was redacted (INV-COMMENT-4).
func (c Comment) Redacted() bool { return c.RedactedAt != nil }

// VisibleBody is what readers see: the body, or nothing once redacted.
func (c Comment) VisibleBody() string {
	if c.Redacted() {
		return ""
	}
	return c.Body
}

// Version is one frozen body of a comment (INV-COMMENT-3); 1 is the
// original.
type Version struct {
	CommentID int64
	Number    int
	Body      string
	EditorID  int64
	CreatedAt time.Time
}

// Domain errors.
var (
	// ErrEmptyBody: the trimmed body is empty (API: invalid_body).
	ErrEmptyBody = apperr.New(apperr.Invalid, "the comment body is required")
	// ErrBodyTooLong: more than MaxBody characters.
	ErrBodyTooLong = apperr.New(apperr.Invalid, "the comment body is too long")
	// ErrRedacted: a redacted comment cannot be edited or redacted again.
	ErrRedacted = apperr.New(apperr.Conflict, "the comment was redacted")
	// ErrNotFound: no such comment on this advisory (or not visible).
	ErrNotFound = apperr.New(apperr.NotFound, "comment not found")
)

// NormalizeBody trims body and checks it: required, at most MaxBody
// characters, valid UTF-8 without NUL (which PostgreSQL text refuses).
func NormalizeBody(body string) (string, error) {
	body = strings.ToValidUTF8(strings.ReplaceAll(body, "\x00", ""), "\uFFFD")
	body = strings.TrimSpace(body)
	if body == "" {
		return "", ErrEmptyBody
	}
	if utf8.RuneCountInString(body) > MaxBody {
		return "", ErrBodyTooLong
	}
	return body, nil
}

// NoteKind is a workflow action whose free-text reason is posted as an
// author-attributed action note (requirements §4.4).
type NoteKind string

// Action-note kinds. The first group is public (viewer+), the second
// internal (collaborator+).
const (
	NoteDismiss              NoteKind = "dismiss"
	NoteWithdrawPublished    NoteKind = "withdraw_published"
	NoteLockComments         NoteKind = "lock_comments"
	NoteReviewApprove        NoteKind = "review_approve"
	NoteReviewRequestChanges NoteKind = "review_request_changes"
	NoteCVERequestRejected   NoteKind = "cve_request_rejected"
	NoteRequestWithdrawal    NoteKind = "request_withdrawal"
	NoteCancelWithdrawal     NoteKind = "cancel_withdrawal"
	NoteFlagForRouting       NoteKind = "flag_for_routing"
	NoteClearRoutingFlag     NoteKind = "clear_routing_flag"
	NoteRequestReassignment  NoteKind = "request_reassignment"
	NoteWithdrawReassignment NoteKind = "withdraw_reassignment"
	NoteUnassignCVE          NoteKind = "unassign_cve"
	NoteRevokeApproval       NoteKind = "revoke_approval"
)

var publicNotes = []NoteKind{
	NoteDismiss, NoteWithdrawPublished, NoteLockComments, NoteReviewApprove,
	NoteReviewRequestChanges, NoteCVERequestRejected,
}

var internalNotes = []NoteKind{
	NoteRequestWithdrawal, NoteCancelWithdrawal, NoteFlagForRouting, NoteClearRoutingFlag,
	NoteRequestReassignment, NoteWithdrawReassignment, NoteUnassignCVE, NoteRevokeApproval,
}

// NoteKinds lists every action-note kind, public ones first.
func NoteKinds() []NoteKind {
	return append(append([]NoteKind{}, publicNotes...), internalNotes...)
}

// Valid reports whether k is a known action-note kind.
func (k NoteKind) Valid() bool {
	for _, n := range NoteKinds() {
		if n == k {
			return true
		}
	}
	return false
}

// Internal reports whether k's note is internal (collaborator+) under the
// fixed per-action policy of requirements §4.4. Unknown kinds are internal
// (fail closed).
func (k NoteKind) Internal() bool {
	for _, n := range publicNotes {
		if n == k {
			return false
		}
	}
	return true
}
