package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// Review tasks (data-model §8, lifecycle §3). Each submission for review is
// a new task pinned to the version submitted (INV-REVIEW-2); decided tasks
// are terminal.

const reviewTaskSelect = `SELECT t.id, t.advisory_id, a.advisory_id, t.version_id, t.status,
	t.submitted_by_id, t.reviewer_id, t.decision_notes, t.created_at, t.decided_at
	FROM review_tasks t JOIN advisories a ON a.id = t.advisory_id`

func scanReviewTask(row pgx.Row) (advisory.ReviewTask, error) {
	var (
		t                   advisory.ReviewTask
		submitter, reviewer *int64
	)
	err := row.Scan(&t.ID, &t.AdvisoryPK, &t.AdvisoryID, &t.VersionID, &t.Status,
		&submitter, &reviewer, &t.DecisionNotes, &t.CreatedAt, &t.DecidedAt)
	t.SubmittedByID, t.ReviewerID = deref(submitter), deref(reviewer)
	return t, err
}

// InsertReviewTask opens a review task on the advisory with internal id
// advisoryPK, pinned to version versionID, submitted by submitter, and
// records the submission on the advisory row (submitted_for_review_at/_by).
func (db *DB) InsertReviewTask(ctx context.Context, advisoryPK, versionID, submitter int64) (advisory.ReviewTask, error) {
	t, err := scanReviewTask(db.QueryRow(ctx, `WITH t AS (
		INSERT INTO review_tasks (advisory_id, version_id, submitted_by_id) VALUES ($1, $2, $3)
		RETURNING id, advisory_id, version_id, status, submitted_by_id, reviewer_id, decision_notes, created_at, decided_at)
		SELECT t.id, t.advisory_id, a.advisory_id, t.version_id, t.status,
			t.submitted_by_id, t.reviewer_id, t.decision_notes, t.created_at, t.decided_at
		FROM t JOIN advisories a ON a.id = t.advisory_id`, advisoryPK, versionID, zeroAsNull(submitter)))
	if err != nil {
		return advisory.ReviewTask{}, fmt.Errorf("insert review task: %w", err)
	}
	if _, err := db.Exec(ctx, `UPDATE advisories SET submitted_for_review_by_id = $2 WHERE id = $1`,
		advisoryPK, zeroAsNull(submitter)); err != nil {
		return advisory.ReviewTask{}, fmt.Errorf("record submitter: %w", err)
	}
	return t, nil
}

// SetSubmittedForReviewAt writes the advisory's submitted_for_review_at.
func (db *DB) SetSubmittedForReviewAt(ctx context.Context, a *advisory.Advisory) error {
	if _, err := db.Exec(ctx, `UPDATE advisories SET submitted_for_review_at = $2 WHERE id = $1`,
		a.ID, a.SubmittedForReviewAt); err != nil {
		return fmt.Errorf("advisory %s: submitted_for_review_at: %w", a.AdvisoryID, err)
	}
	return nil
}

// ReviewTaskAdvisory returns the public id of the advisory review task id
// belongs to, so the caller can lock the advisory first; a missing or
// invisible task is advisory.ErrTaskNotFound.
func (db *DB) ReviewTaskAdvisory(ctx context.Context, id int64) (advisory.ID, error) {
	var aid advisory.ID
	err := db.QueryRow(ctx, `SELECT a.advisory_id FROM review_tasks t JOIN advisories a ON a.id = t.advisory_id WHERE t.id = $1`, id).Scan(&aid)
	if err != nil {
		return "", workflowTaskErr("review", id, err)
	}
	return aid, nil
}

// ReviewTaskForUpdate reads and locks review task id.
func (db *DB) ReviewTaskForUpdate(ctx context.Context, id int64) (advisory.ReviewTask, error) {
	t, err := scanReviewTask(db.QueryRow(ctx, reviewTaskSelect+` WHERE t.id = $1 FOR UPDATE OF t`, id))
	if err != nil {
		return advisory.ReviewTask{}, workflowTaskErr("review", id, err)
	}
	return t, nil
}

// OpenReviewTaskForUpdate reads and locks the advisory's open review task;
// advisory.ErrTaskNotFound when none is open.
func (db *DB) OpenReviewTaskForUpdate(ctx context.Context, advisoryPK int64) (advisory.ReviewTask, error) {
	t, err := scanReviewTask(db.QueryRow(ctx, reviewTaskSelect+` WHERE t.advisory_id = $1 AND t.status = 'open'
		ORDER BY t.id DESC LIMIT 1 FOR UPDATE OF t`, advisoryPK))
	if err != nil {
		return advisory.ReviewTask{}, workflowTaskErr("open review", advisoryPK, err)
	}
	return t, nil
}

// DecideReviewTask closes open task t as status with reviewer and notes
// (decided_at = now), storing the result back into t. A task that is no
// longer open is advisory.ErrTaskDecided.
func (db *DB) DecideReviewTask(ctx context.Context, t *advisory.ReviewTask, status advisory.ReviewTaskStatus, reviewer int64, notes string) error {
	err := db.QueryRow(ctx, `UPDATE review_tasks SET status = $2, reviewer_id = $3, decision_notes = $4, decided_at = now()
		WHERE id = $1 AND status = 'open' RETURNING decided_at`, t.ID, string(status), zeroAsNull(reviewer), notes).Scan(&t.DecidedAt)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("review task %d: %w", t.ID, advisory.ErrTaskDecided)
		}
		return fmt.Errorf("review task %d: %w", t.ID, err)
	}
	t.Status, t.ReviewerID, t.DecisionNotes = status, reviewer, notes
	return nil
}

// workflowTaskErr maps a missing row to advisory.ErrTaskNotFound.
func workflowTaskErr(kind string, id int64, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s task %d: %w", kind, id, advisory.ErrTaskNotFound)
	}
	return fmt.Errorf("%s task %d: %w", kind, id, err)
}

// UserEmails returns the e-mail addresses of the users ids, keyed by id;
// missing users are absent. Workflow task views name their people by
// e-mail.
func (db *DB) UserEmails(ctx context.Context, ids ...int64) (map[int64]string, error) {
	out := map[int64]string{}
	rows, err := db.Query(ctx, `SELECT id, email FROM users WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("user emails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    int64
			email string
		)
		if err := rows.Scan(&id, &email); err != nil {
			return nil, fmt.Errorf("user emails: %w", err)
		}
		out[id] = email
	}
	return out, rows.Err()
}
