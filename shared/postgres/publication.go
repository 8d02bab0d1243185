package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
)

// Publication tasks and artifacts (data-model publication_*, lifecycle §6).
// At most one task per advisory is queued or running: the use case checks
// under the advisory row lock, and the partial unique index
// publication_task_one_active_per_advisory backs it (INV-CONCURRENCY-1).

const oneActivePerAdvisory = "publication_task_one_active_per_advisory"

const taskSelect = `SELECT t.id, t.advisory_id, a.advisory_id, t.version_id, v.version, t.status, t.attempts,
	t.last_error, t.commit_sha, t.queue_message_id, t.enqueued_by_id, t.created_at, t.started_at, t.finished_at
	FROM publication_tasks t
	JOIN advisories a ON a.id = t.advisory_id
	JOIN advisory_versions v ON v.id = t.version_id`

func scanTask(row pgx.Row) (publication.Task, error) {
	var (
		t      publication.Task
		status string
		by     *int64
	)
	err := row.Scan(&t.ID, &t.AdvisoryID, &t.PublicID, &t.VersionID, &t.VersionNumber, &status, &t.Attempts,
		&t.LastError, &t.CommitSHA, &t.QueueMessageID, &by, &t.CreatedAt, &t.StartedAt, &t.FinishedAt)
	if err != nil {
		return publication.Task{}, err
	}
	t.Status, t.EnqueuedByID = publication.Status(status), deref(by)
	return t, nil
}

func taskErr(id int64, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("publication task %d: %w", id, publication.ErrTaskNotFound)
	}
	return fmt.Errorf("publication task %d: %w", id, err)
}

// InsertPublicationTask creates a queued task of the advisory with internal
// id advisoryPK pinned to versionID. A second active task is refused with
// advisory.ErrPublicationInProgress by the partial unique index.
func (db *DB) InsertPublicationTask(ctx context.Context, advisoryPK, versionID, enqueuedByID int64) (publication.Task, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO publication_tasks (advisory_id, version_id, enqueued_by_id)
		VALUES ($1, $2, $3) RETURNING id`, advisoryPK, versionID, zeroAsNull(enqueuedByID)).Scan(&id)
	if uniqueViolationOf(err, oneActivePerAdvisory) {
		return publication.Task{}, advisory.ErrPublicationInProgress
	}
	if err != nil {
		return publication.Task{}, fmt.Errorf("insert publication task: %w", err)
	}
	return db.PublicationTask(ctx, id)
}

// SetPublicationTaskMessage records the queue message id of the task's run.
func (db *DB) SetPublicationTaskMessage(ctx context.Context, taskID int64, messageID string) error {
	_, err := db.Exec(ctx, `UPDATE publication_tasks SET queue_message_id = $2 WHERE id = $1`, taskID, messageID)
	if err != nil {
		return taskErr(taskID, err)
	}
	return nil
}

// PublicationTask returns the task with its artifacts listed (kind and path).
func (db *DB) PublicationTask(ctx context.Context, id int64) (publication.Task, error) {
	t, err := scanTask(db.QueryRow(ctx, taskSelect+` WHERE t.id = $1`, id))
	if err != nil {
		return publication.Task{}, taskErr(id, err)
	}
	if t.Artifacts, err = db.listArtifacts(ctx, []int64{id}, nil); err != nil {
		return publication.Task{}, err
	}
	return t, nil
}

// PublicationTasks returns the advisory's tasks newest first, each with its
// artifacts listed.
func (db *DB) PublicationTasks(ctx context.Context, advisoryPK int64) ([]publication.Task, error) {
	rows, err := db.Query(ctx, taskSelect+` WHERE t.advisory_id = $1 ORDER BY t.created_at DESC, t.id DESC`, advisoryPK)
	if err != nil {
		return nil, fmt.Errorf("list publication tasks: %w", err)
	}
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (publication.Task, error) { return scanTask(r) })
	if err != nil {
		return nil, fmt.Errorf("list publication tasks: %w", err)
	}
	ids := make([]int64, len(tasks))
	for i := range tasks {
		ids[i] = tasks[i].ID
	}
	byTask := map[int64][]publication.Artifact{}
	if _, err := db.listArtifacts(ctx, ids, byTask); err != nil {
		return nil, err
	}
	for i := range tasks {
		tasks[i].Artifacts = byTask[tasks[i].ID]
	}
	return tasks, nil
}

// listArtifacts lists the artifacts (kind, path) of the tasks, ordered by
// kind; with byTask set they are grouped there.
func (db *DB) listArtifacts(ctx context.Context, taskIDs []int64, byTask map[int64][]publication.Artifact) ([]publication.Artifact, error) {
	rows, err := db.Query(ctx, `SELECT task_id, kind, path, created_at FROM publication_artifacts
		WHERE task_id = ANY($1) ORDER BY task_id, kind`, taskIDs)
	if err != nil {
		return nil, fmt.Errorf("list publication artifacts: %w", err)
	}
	defer rows.Close()
	out := []publication.Artifact{}
	for rows.Next() {
		var (
			taskID int64
			kind   string
			a      publication.Artifact
		)
		if err := rows.Scan(&taskID, &kind, &a.Path, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("list publication artifacts: %w", err)
		}
		a.Kind = publication.Kind(kind)
		out = append(out, a)
		if byTask != nil {
			byTask[taskID] = append(byTask[taskID], a)
		}
	}
	return out, rows.Err()
}

// StartPublicationTask moves a queued (or, on redelivery, failed) task to
// running: attempts+1, started_at, the message id, last_error cleared
// (lifecycle P4). It reports false, changing nothing, when the task is in
// any other status, or when a failed task cannot run again because the
// advisory has another active task or a newer task (a redelivered old
// message must never push an older version over a newer publication).
func (db *DB) StartPublicationTask(ctx context.Context, id int64, messageID string) (publication.Task, bool, error) {
	tag, err := db.Exec(ctx, `UPDATE publication_tasks t SET status = 'running', attempts = attempts + 1,
		started_at = now(), finished_at = NULL, last_error = '',
		queue_message_id = CASE WHEN $2 = '' THEN queue_message_id ELSE $2 END
		WHERE id = $1 AND status IN ('queued', 'failed')
		AND NOT EXISTS (SELECT 1 FROM publication_tasks o
			WHERE o.advisory_id = t.advisory_id AND o.id <> t.id AND (o.status IN ('queued', 'running') OR o.id > t.id))`, id, messageID)
	if uniqueViolationOf(err, oneActivePerAdvisory) {
		// Lost a race with a new task of the advisory.
		return publication.Task{}, false, advisory.ErrPublicationInProgress
	}
	if err != nil {
		return publication.Task{}, false, taskErr(id, err)
	}
	t, err := db.PublicationTask(ctx, id)
	return t, tag.RowsAffected() == 1, err
}

// PublicationTaskForUpdate locks and returns the task.
func (db *DB) PublicationTaskForUpdate(ctx context.Context, id int64) (publication.Task, error) {
	if db.tx == nil {
		return publication.Task{}, errors.New("postgres: PublicationTaskForUpdate outside a transaction")
	}
	t, err := scanTask(db.QueryRow(ctx, taskSelect+` WHERE t.id = $1 FOR UPDATE OF t`, id))
	if err != nil {
		return publication.Task{}, taskErr(id, err)
	}
	return t, nil
}

// FinishPublicationTask ends a running task as succeeded (with the commit)
// or failed (with the already redacted error). It reports false when the
// task was not running (a reaper or another delivery got there first).
func (db *DB) FinishPublicationTask(ctx context.Context, id int64, status publication.Status, commitSHA, lastError string) (bool, error) {
	if status != publication.StatusSucceeded && status != publication.StatusFailed {
		return false, fmt.Errorf("finish publication task %d: bad status %q", id, status)
	}
	tag, err := db.Exec(ctx, `UPDATE publication_tasks SET status = $2, commit_sha = $3, last_error = $4, finished_at = now()
		WHERE id = $1 AND status = 'running'`, id, string(status), commitSHA, publication.TruncateError(lastError))
	if err != nil {
		return false, taskErr(id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// UpsertPublicationArtifact stores the task's document of kind (one per
// kind, lifecycle W5).
func (db *DB) UpsertPublicationArtifact(ctx context.Context, taskID int64, kind publication.Kind, path string, content []byte) error {
	_, err := db.Exec(ctx, `INSERT INTO publication_artifacts (task_id, kind, path, content) VALUES ($1, $2, $3, $4)
		ON CONFLICT (task_id, kind) DO UPDATE SET path = EXCLUDED.path, content = EXCLUDED.content, created_at = now()`,
		taskID, string(kind), path, string(content))
	if err != nil {
		return fmt.Errorf("store %s artifact of task %d: %w", kind, taskID, err)
	}
	return nil
}

// PublicationArtifact returns the task's document of kind with its
// content (as stored: jsonb normalises the encoding).
func (db *DB) PublicationArtifact(ctx context.Context, taskID int64, kind publication.Kind) (publication.Artifact, error) {
	a := publication.Artifact{Kind: kind}
	err := db.QueryRow(ctx, `SELECT path, content::text, created_at FROM publication_artifacts WHERE task_id = $1 AND kind = $2`,
		taskID, string(kind)).Scan(&a.Path, &a.Content, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return publication.Artifact{}, fmt.Errorf("task %d %s: %w", taskID, kind, publication.ErrArtifactNotFound)
	}
	if err != nil {
		return publication.Artifact{}, fmt.Errorf("task %d %s artifact: %w", taskID, kind, err)
	}
	return a, nil
}

// VersionByID returns the advisory version with this id (the pinned
// version of a task, INV-VERSION-3).
func (db *DB) VersionByID(ctx context.Context, id int64) (advisory.Version, error) {
	v, err := scanVersion(db.QueryRow(ctx, versionSelect+` WHERE id = $1`, id))
	if err != nil {
		return advisory.Version{}, versionErr(0, id, err)
	}
	return v, nil
}

// PublishedVersion is one earlier successful publication: the version it
// pinned and whether that version was a withdrawal.
type PublishedVersion struct {
	VersionNumber int
	Date          time.Time // the version's created_at
	Withdrawn     bool
}

// PublishedVersions lists the versions the advisory's succeeded tasks
// published, oldest first, each once.
func (db *DB) PublishedVersions(ctx context.Context, advisoryPK int64) ([]PublishedVersion, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT v.version, v.created_at, COALESCE(v.payload->>'withdrawn_reason', '') <> ''
		FROM publication_tasks t JOIN advisory_versions v ON v.id = t.version_id
		WHERE t.advisory_id = $1 AND t.status = 'succeeded' ORDER BY v.version`, advisoryPK)
	if err != nil {
		return nil, fmt.Errorf("published versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PublishedVersion, error) {
		var p PublishedVersion
		err := r.Scan(&p.VersionNumber, &p.Date, &p.Withdrawn)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("published versions: %w", err)
	}
	return out, nil
}

// AdvisoryByPKForUpdate locks and reads the advisory with internal id pk
// (the worker knows the task's advisory by its internal id).
func (db *DB) AdvisoryByPKForUpdate(ctx context.Context, pk int64) (*advisory.Advisory, error) {
	if db.tx == nil {
		return nil, errors.New("postgres: AdvisoryByPKForUpdate outside a transaction")
	}
	return db.advisoryByPKForUpdate(ctx, pk)
}

// StaleTask is a reaper candidate.
type StaleTask struct {
	ID     int64
	Status publication.Status
}

// StalePublicationTasks lists reaper candidates (operations §8): running
// tasks whose started_at (else created_at) is before runningBefore, and
// queued tasks created before queuedBefore, oldest first.
func (db *DB) StalePublicationTasks(ctx context.Context, runningBefore, queuedBefore time.Time, limit int) ([]StaleTask, error) {
	rows, err := db.Query(ctx, `SELECT id, status FROM publication_tasks
		WHERE (status = 'running' AND COALESCE(started_at, created_at) < $1)
		   OR (status = 'queued' AND created_at < $2)
		ORDER BY created_at, id LIMIT $3`, runningBefore, queuedBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("stale publication tasks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (StaleTask, error) {
		var (
			s      StaleTask
			status string
		)
		err := r.Scan(&s.ID, &status)
		s.Status = publication.Status(status)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("stale publication tasks: %w", err)
	}
	return out, nil
}

// LockStalePublicationTask re-locks one candidate with FOR UPDATE SKIP
// LOCKED, only if it is still in status (compare-and-set). It returns the
// task and its age reference (started_at or created_at for running,
// created_at for queued), or false when the row moved on or is locked by
// a live worker.
func (db *DB) LockStalePublicationTask(ctx context.Context, id int64, status publication.Status) (publication.Task, time.Time, bool, error) {
	if db.tx == nil {
		return publication.Task{}, time.Time{}, false, errors.New("postgres: LockStalePublicationTask outside a transaction")
	}
	var since time.Time
	err := db.QueryRow(ctx, `SELECT CASE WHEN status = 'running' THEN COALESCE(started_at, created_at) ELSE created_at END
		FROM publication_tasks WHERE id = $1 AND status = $2 FOR UPDATE SKIP LOCKED`, id, string(status)).Scan(&since)
	if errors.Is(err, pgx.ErrNoRows) {
		return publication.Task{}, time.Time{}, false, nil
	}
	if err != nil {
		return publication.Task{}, time.Time{}, false, taskErr(id, err)
	}
	t, err := db.PublicationTask(ctx, id)
	if err != nil {
		return publication.Task{}, time.Time{}, false, err
	}
	return t, since, true, nil
}

// ReapPublicationTask marks a locked stale task failed with the synthetic
// error; the caller holds the row lock from LockStalePublicationTask.
func (db *DB) ReapPublicationTask(ctx context.Context, id int64, status publication.Status, lastError string) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE publication_tasks SET status = 'failed', last_error = $3, finished_at = now()
		WHERE id = $1 AND status = $2`, id, string(status), publication.TruncateError(lastError))
	if err != nil {
		return false, taskErr(id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetPublishedAt stamps the advisory's published_at unless it is set
// already (lifecycle L9: first publication only).
func (db *DB) SetPublishedAt(ctx context.Context, advisoryPK int64, at time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE advisories SET published_at = COALESCE(published_at, $2) WHERE id = $1`, advisoryPK, at); err != nil {
		return fmt.Errorf("set published_at of advisory %d: %w", advisoryPK, err)
	}
	return nil
}
