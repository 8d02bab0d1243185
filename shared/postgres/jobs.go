package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// HasReceipt reports whether the message was already handled.
func (db *DB) HasReceipt(ctx context.Context, messageID string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM job_receipts WHERE message_id = $1)`, messageID).Scan(&ok)
	return ok, err
}

// InsertReceipt records that the message was handled. It reports false when
// a receipt already existed (a concurrent or earlier delivery won).
func (db *DB) InsertReceipt(ctx context.Context, messageID, kind string) (bool, error) {
	tag, err := db.Exec(ctx, `INSERT INTO job_receipts (message_id, kind) VALUES ($1, $2) ON CONFLICT (message_id) DO NOTHING`, messageID, kind)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// FailedJob is a message that will not be retried: it failed permanently or
// ran out of attempts. Operators see and replay these.
type FailedJob struct {
	ID        int64           `json:"id"`
	MessageID string          `json:"message_id"`
	Queue     string          `json:"queue"`
	Kind      string          `json:"kind"`
	Payload   json.RawMessage `json:"payload"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error"`
	FailedAt  time.Time       `json:"failed_at"`
}

// InsertFailedJob records a dead message; a second record of the same
// message updates the first.
func (db *DB) InsertFailedJob(ctx context.Context, f FailedJob) error {
	payload := f.Payload
	if len(payload) == 0 || !json.Valid(payload) {
		payload = json.RawMessage("{}")
	}
	_, err := db.Exec(ctx, `INSERT INTO failed_jobs (message_id, queue, kind, payload, attempts, last_error)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (message_id) DO UPDATE SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, failed_at = now()`,
		f.MessageID, f.Queue, f.Kind, []byte(payload), f.Attempts, f.LastError)
	if err != nil {
		return fmt.Errorf("record failed job %s: %w", f.MessageID, err)
	}
	return nil
}

// ListFailedJobs returns the newest failed jobs first.
func (db *DB) ListFailedJobs(ctx context.Context, limit int) ([]FailedJob, error) {
	rows, err := db.Query(ctx, `SELECT id, message_id, queue, kind, payload, attempts, last_error, failed_at
		FROM failed_jobs ORDER BY failed_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FailedJob
	for rows.Next() {
		var f FailedJob
		if err := rows.Scan(&f.ID, &f.MessageID, &f.Queue, &f.Kind, &f.Payload, &f.Attempts, &f.LastError, &f.FailedAt); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ScheduleRun is the last run of a scheduled job.
type ScheduleRun struct {
	Name           string
	LastStartedAt  *time.Time
	LastFinishedAt *time.Time
	LastStatus     string
	LastError      string
}

// StartScheduleRun stamps the start of a scheduled job.
func (db *DB) StartScheduleRun(ctx context.Context, name string) error {
	_, err := db.Exec(ctx, `INSERT INTO schedule_runs (name, last_started_at, last_status) VALUES ($1, now(), 'running')
		ON CONFLICT (name) DO UPDATE SET last_started_at = now(), last_status = 'running'`, name)
	return err
}

// FinishScheduleRun records the outcome of a scheduled job.
func (db *DB) FinishScheduleRun(ctx context.Context, name, status, errText string, result any) error {
	body, err := json.Marshal(result)
	if err != nil {
		body = []byte("null")
	}
	_, err = db.Exec(ctx, `UPDATE schedule_runs SET last_finished_at = now(), last_status = $2, last_error = $3, last_result = $4 WHERE name = $1`,
		name, status, errText, body)
	return err
}

// ScheduleRuns lists the last run of every scheduled job.
func (db *DB) ScheduleRuns(ctx context.Context) ([]ScheduleRun, error) {
	rows, err := db.Query(ctx, `SELECT name, last_started_at, last_finished_at, last_status, last_error FROM schedule_runs ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScheduleRun
	for rows.Next() {
		var r ScheduleRun
		if err := rows.Scan(&r.Name, &r.LastStartedAt, &r.LastFinishedAt, &r.LastStatus, &r.LastError); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
