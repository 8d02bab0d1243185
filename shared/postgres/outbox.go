package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// The transactional outbox (INV-PUB-5). A use case calls Enqueue inside its
// transaction; the row commits or vanishes with the change that caused it.
// After commit, InTx hands the new rows to Outbox.Dispatch, which sends them;
// whatever could not be sent (a crash between commit and send, a queue
// outage) is re-sent by Outbox.Sweep on a schedule. Delivery is therefore at
// least once, and every message carries the same ID on every send, so the
// job runner's receipts make handling exactly once.

// Enqueue writes a job to the outbox. It must be called inside InTx.
func (db *DB) Enqueue(ctx context.Context, q queue.Name, kind queue.Kind, payload any) (string, error) {
	if db.tx == nil {
		return "", errors.New("postgres: Enqueue outside a transaction")
	}
	if !q.Valid() {
		return "", fmt.Errorf("postgres: enqueue %s: unknown queue %q", kind, q)
	}
	if kind == "" {
		return "", errors.New("postgres: enqueue: kind is required")
	}
	body := []byte("{}")
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return "", fmt.Errorf("postgres: enqueue %s: %w", kind, err)
		}
	}
	var id int64
	if err := db.tx.QueryRow(ctx,
		`INSERT INTO outbox (queue, kind, payload) VALUES ($1, $2, $3) RETURNING id`,
		string(q), string(kind), body).Scan(&id); err != nil {
		return "", fmt.Errorf("postgres: enqueue %s: %w", kind, err)
	}
	*db.pending = append(*db.pending, id)
	return messageID(id), nil
}

func messageID(id int64) string { return "outbox-" + strconv.FormatInt(id, 10) }

// Outbox sends committed outbox rows to the queue transport.
type Outbox struct {
	db     *DB
	sender queue.Sender
	logger *slog.Logger
	redact func(string) string
}

// OutboxConfig wires an Outbox.
type OutboxConfig struct {
	DB     *DB
	Sender queue.Sender
	Logger *slog.Logger
	// Redact cleans send errors before they are stored (INV-SECRET-1).
	Redact func(string) string
}

// NewOutbox builds an Outbox and attaches it to cfg.DB, so that InTx
// dispatches after every commit.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	var errs []error
	if cfg.DB == nil {
		errs = append(errs, errors.New("outbox: DB is required"))
	}
	if cfg.Sender == nil {
		errs = append(errs, errors.New("outbox: Sender is required"))
	}
	if cfg.Logger == nil {
		errs = append(errs, errors.New("outbox: Logger is required"))
	}
	if cfg.Redact == nil {
		errs = append(errs, errors.New("outbox: Redact is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o := &Outbox{db: cfg.DB, sender: cfg.Sender, logger: cfg.Logger, redact: cfg.Redact}
	cfg.DB.SetOutbox(o)
	return o, nil
}

type outboxRow struct {
	id      int64
	queue   string
	kind    string
	payload []byte
}

// Dispatch sends the given committed rows. Failures are recorded on the row
// and logged, never returned: the caller's change has committed, and the
// sweep retries.
func (o *Outbox) Dispatch(ctx context.Context, ids []int64) {
	rows, err := o.load(ctx, `SELECT id, queue, kind, payload FROM outbox WHERE id = ANY($1) AND sent_at IS NULL ORDER BY id`, ids)
	if err != nil {
		o.logger.WarnContext(ctx, "outbox dispatch: load failed; the sweep will send", "error", o.redact(err.Error()))
		return
	}
	for _, r := range rows {
		_ = o.send(ctx, r)
	}
}

// SweepResult reports what one sweep did.
type SweepResult struct {
	Sent            int `json:"sent"`
	Failed          int `json:"failed"`
	PrunedSent      int `json:"pruned_sent"`
	PrunedReceipts  int `json:"pruned_receipts"`
	OldestUnsentAge int `json:"oldest_unsent_age_seconds"`
}

// Retention of delivered bookkeeping. Receipts must outlive any redelivery
// (SQS keeps a message at most 14 days).
const (
	sentRetention    = 7 * 24 * time.Hour
	receiptRetention = 15 * 24 * time.Hour
)

// Sweep re-sends every unsent row older than minAge (younger rows belong to
// a dispatcher still at work), up to limit rows, and prunes delivered
// bookkeeping past its retention.
func (o *Outbox) Sweep(ctx context.Context, minAge time.Duration, limit int) (SweepResult, error) {
	var res SweepResult
	rows, err := o.load(ctx, `SELECT id, queue, kind, payload FROM outbox
		WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1)
		ORDER BY id LIMIT $2`, minAge.Seconds(), limit)
	if err != nil {
		return res, err
	}
	for _, r := range rows {
		if o.send(ctx, r) == nil {
			res.Sent++
		} else {
			res.Failed++
		}
	}
	tag, err := o.db.Exec(ctx, `DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)`, sentRetention.Seconds())
	if err != nil {
		return res, fmt.Errorf("outbox sweep: prune: %w", err)
	}
	res.PrunedSent = int(tag.RowsAffected())
	tag, err = o.db.Exec(ctx, `DELETE FROM job_receipts WHERE processed_at < now() - make_interval(secs => $1)`, receiptRetention.Seconds())
	if err != nil {
		return res, fmt.Errorf("outbox sweep: prune receipts: %w", err)
	}
	res.PrunedReceipts = int(tag.RowsAffected())
	if err := o.db.QueryRow(ctx, `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at))::int, 0) FROM outbox WHERE sent_at IS NULL`).Scan(&res.OldestUnsentAge); err != nil {
		return res, fmt.Errorf("outbox sweep: age: %w", err)
	}
	return res, nil
}

func (o *Outbox) load(ctx context.Context, sql string, args ...any) ([]outboxRow, error) {
	rows, err := o.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.id, &r.queue, &r.kind, &r.payload); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (o *Outbox) send(ctx context.Context, r outboxRow) error {
	m := queue.Message{ID: messageID(r.id), Queue: queue.Name(r.queue), Kind: queue.Kind(r.kind), Payload: r.payload}
	if err := o.sender.Send(ctx, m); err != nil {
		msg := truncate(o.redact(err.Error()), 2000)
		o.logger.WarnContext(ctx, "outbox send failed; the sweep will retry", "message_id", m.ID, "job_kind", r.kind, "error", msg)
		if _, uerr := o.db.Exec(ctx, `UPDATE outbox SET send_attempts = send_attempts + 1, last_error = $2 WHERE id = $1`, r.id, msg); uerr != nil {
			o.logger.WarnContext(ctx, "outbox: record send failure", "message_id", m.ID, "error", o.redact(uerr.Error()))
		}
		return err
	}
	if _, err := o.db.Exec(ctx, `UPDATE outbox SET sent_at = now(), send_attempts = send_attempts + 1, last_error = '' WHERE id = $1`, r.id); err != nil {
		// The message went out; a second send by the sweep is harmless
		// (receipts dedupe it).
		o.logger.WarnContext(ctx, "outbox: mark sent", "message_id", m.ID, "error", o.redact(err.Error()))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !validUTF8End(s) {
		s = s[:len(s)-1]
	}
	return s
}

func validUTF8End(s string) bool { return strings.ToValidUTF8(s, "\x00") == s }
