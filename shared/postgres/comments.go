package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/comment"
)

// Comments (data-model §6). The comments table is under row-level
// security: a comment of an advisory the principal cannot see is simply not
// found (INV-CONF-2). Internal comments are filtered here, at query level,
// by the caller's decision (INV-COMMENT-2). Versions are append-only; a
// trigger refuses rewrites (INV-COMMENT-3, INV-IMPL-3).

const commentSelect = `SELECT c.id, c.advisory_id, COALESCE(c.author_id, 0), COALESCE(u.email, ''),
	COALESCE(u.display_name, ''), c.body, c.is_internal, c.created_at, c.edited_at, c.redacted_at,
	COALESCE(c.redacted_by_id, 0)
	FROM comments c LEFT JOIN users u ON u.id = c.author_id`

func scanComment(row pgx.Row) (comment.Comment, error) {
	var c comment.Comment
	err := row.Scan(&c.ID, &c.AdvisoryID, &c.AuthorID, &c.Author.Email, &c.Author.DisplayName, &c.Body,
		&c.Internal, &c.CreatedAt, &c.EditedAt, &c.RedactedAt, &c.RedactedBy)
	c.Author.ID = c.AuthorID
	return c, err
}

func commentErr(id int64, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("comment %d: %w", id, comment.ErrNotFound)
	}
	return fmt.Errorf("comment %d: %w", id, err)
}

// NewComment is what InsertComment stores.
type NewComment struct {
	AdvisoryID int64 // internal advisories.id
	AuthorID   int64 // 0: a system comment
	Body       string
	Internal   bool
}

// InsertComment stores a comment and its version 1, in the caller's
// transaction.
func (db *DB) InsertComment(ctx context.Context, n NewComment) (comment.Comment, error) {
	if db.tx == nil {
		return comment.Comment{}, errors.New("postgres: InsertComment outside a transaction")
	}
	var id int64
	if err := db.QueryRow(ctx, `INSERT INTO comments (advisory_id, author_id, body, is_internal)
		VALUES ($1, $2, $3, $4) RETURNING id`, n.AdvisoryID, zeroAsNull(n.AuthorID), n.Body, n.Internal).Scan(&id); err != nil {
		return comment.Comment{}, fmt.Errorf("insert comment: %w", err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO comment_versions (comment_id, version, body, editor_id, created_at)
		SELECT id, 1, body, author_id, created_at FROM comments WHERE id = $1`, id); err != nil {
		return comment.Comment{}, fmt.Errorf("insert comment version: %w", err)
	}
	return db.CommentByID(ctx, n.AdvisoryID, id)
}

// CommentByID returns comment id of advisory advisoryPK.
func (db *DB) CommentByID(ctx context.Context, advisoryPK, id int64) (comment.Comment, error) {
	c, err := scanComment(db.QueryRow(ctx, commentSelect+` WHERE c.id = $1 AND c.advisory_id = $2`, id, advisoryPK))
	if err != nil {
		return comment.Comment{}, commentErr(id, err)
	}
	return c, nil
}

// CommentByIDForUpdate is CommentByID with the comment row locked.
func (db *DB) CommentByIDForUpdate(ctx context.Context, advisoryPK, id int64) (comment.Comment, error) {
	if db.tx == nil {
		return comment.Comment{}, errors.New("postgres: CommentByIDForUpdate outside a transaction")
	}
	c, err := scanComment(db.QueryRow(ctx, commentSelect+` WHERE c.id = $1 AND c.advisory_id = $2 FOR UPDATE OF c`, id, advisoryPK))
	if err != nil {
		return comment.Comment{}, commentErr(id, err)
	}
	return c, nil
}

// ListComments returns the comments of an advisory, oldest first; internal
// ones only when includeInternal (the caller's read-time decision,
// INV-COMMENT-2).
func (db *DB) ListComments(ctx context.Context, advisoryPK int64, includeInternal bool) ([]comment.Comment, error) {
	rows, err := db.Query(ctx, commentSelect+` WHERE c.advisory_id = $1 AND ($2 OR NOT c.is_internal)
		ORDER BY c.created_at, c.id`, advisoryPK, includeInternal)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (comment.Comment, error) { return scanComment(r) })
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	return out, nil
}

// AppendCommentVersion makes body the comment's current body: it appends
// version n+1 (INV-COMMENT-3) and stamps edited_at. It returns the new
// version number.
func (db *DB) AppendCommentVersion(ctx context.Context, commentID int64, body string, editorID int64, at time.Time) (int, error) {
	if db.tx == nil {
		return 0, errors.New("postgres: AppendCommentVersion outside a transaction")
	}
	var v int
	err := db.QueryRow(ctx, `INSERT INTO comment_versions (comment_id, version, body, editor_id, created_at)
		SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4 FROM comment_versions WHERE comment_id = $1
		RETURNING version`, commentID, body, zeroAsNull(editorID), at).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("comment %d: append version: %w", commentID, err)
	}
	tag, err := db.Exec(ctx, `UPDATE comments SET body = $2, edited_at = $3 WHERE id = $1 AND redacted_at IS NULL`, commentID, body, at)
	if err != nil {
		return 0, fmt.Errorf("comment %d: edit: %w", commentID, err)
	}
	if tag.RowsAffected() != 1 {
		return 0, fmt.Errorf("comment %d: %w", commentID, comment.ErrRedacted)
	}
	return v, nil
}

// RedactComment clears the comment's visible body and stamps
// redacted_at/redacted_by, once (INV-COMMENT-4): a redacted comment is
// never un-redacted, and a second redaction is ErrRedacted. The row keeps
// its place; the frozen versions stay (and are hidden by the readers).
func (db *DB) RedactComment(ctx context.Context, commentID, by int64, at time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE comments SET body = '', redacted_at = $3, redacted_by_id = $2
		WHERE id = $1 AND redacted_at IS NULL`, commentID, zeroAsNull(by), at)
	if err != nil {
		return fmt.Errorf("comment %d: redact: %w", commentID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("comment %d: %w", commentID, comment.ErrRedacted)
	}
	return nil
}

// CommentVersions returns a comment's versions, oldest first.
func (db *DB) CommentVersions(ctx context.Context, commentID int64) ([]comment.Version, error) {
	rows, err := db.Query(ctx, `SELECT comment_id, version, body, COALESCE(editor_id, 0), created_at
		FROM comment_versions WHERE comment_id = $1 ORDER BY version`, commentID)
	if err != nil {
		return nil, fmt.Errorf("comment %d: versions: %w", commentID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (comment.Version, error) {
		var v comment.Version
		return v, r.Scan(&v.CommentID, &v.Number, &v.Body, &v.EditorID, &v.CreatedAt)
	})
}

// SetCommentsLock locks or unlocks comments on an advisory (the advisory
// row must already be locked by the caller). A lock records who, when and
// why; an unlock clears all three.
func (db *DB) SetCommentsLock(ctx context.Context, advisoryPK int64, locked bool, by int64, reason string, at time.Time) error {
	var err error
	if locked {
		_, err = db.Exec(ctx, `UPDATE advisories SET comments_locked = true, comments_locked_at = $2,
			comments_locked_by_id = $3, comments_lock_reason = $4 WHERE id = $1`, advisoryPK, at, zeroAsNull(by), reason)
	} else {
		_, err = db.Exec(ctx, `UPDATE advisories SET comments_locked = false, comments_locked_at = NULL,
			comments_locked_by_id = NULL, comments_lock_reason = '' WHERE id = $1`, advisoryPK)
	}
	if err != nil {
		return fmt.Errorf("comments lock: %w", err)
	}
	return nil
}

// MentionCandidates returns the active users a mention's tokens may name:
// those whose email equals one of emails, or whose email's local part
// equals one of localParts, case-insensitively (comment.Resolve decides).
// Shadow roster users are included: they receive mentions (INV-OIDC-5).
func (db *DB) MentionCandidates(ctx context.Context, emails, localParts []string) ([]comment.Person, error) {
	lower := func(s []string) []string {
		out := make([]string, 0, len(s))
		for _, v := range s {
			out = append(out, strings.ToLower(v))
		}
		return out
	}
	if len(emails) == 0 && len(localParts) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT id, email, display_name FROM users
		WHERE is_active AND (lower(email) = ANY($1::text[]) OR lower(split_part(email, '@', 1)) = ANY($2::text[]))
		ORDER BY id`, lower(emails), lower(localParts))
	if err != nil {
		return nil, fmt.Errorf("mention candidates: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (comment.Person, error) {
		var p comment.Person
		return p, r.Scan(&p.ID, &p.Email, &p.DisplayName)
	})
}

// CommentsLockReason returns the stored (redacted) reason of the comment
// lock on the advisory with internal id advisoryPK, "" when none; the
// unlock audits it as previous_reason (lifecycle K2).
func (db *DB) CommentsLockReason(ctx context.Context, advisoryPK int64) (string, error) {
	var reason string
	if err := db.QueryRow(ctx, `SELECT comments_lock_reason FROM advisories WHERE id = $1`, advisoryPK).Scan(&reason); err != nil {
		return "", fmt.Errorf("comments lock reason: %w", err)
	}
	return reason, nil
}
