package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/identity"
)

// The audit trail (audit-actions.md, data-model §14). InsertAudit is the
// single entry point that writes either store: the action string alone
// decides whether a row goes to the hash-chained ledger (audit_log) or to
// the partitioned access log (access_log). The ledger is append-only in the
// database too (INV-AUDIT-1): this file has no update or delete.

// ErrAuditOutsideTx is returned by InsertAudit on a DB that is not a
// transaction: an audit entry is written in the same transaction as the
// change it records.
var ErrAuditOutsideTx = errors.New("postgres: InsertAudit outside a transaction")

// InsertAudit records e. It must be called inside InTx, in the transaction
// of the change it records. The entry is validated and redacted
// (INV-AUDIT-2) by audit.Entry.Prepare; an ephemeral action is written to
// the access log instead (see InsertAccessLog); an unknown action is
// refused.
func (db *DB) InsertAudit(ctx context.Context, e audit.Entry) error {
	if db.tx == nil {
		return ErrAuditOutsideTx
	}
	p, err := e.Prepare()
	if err != nil {
		return err
	}
	if p.Ephemeral {
		return db.insertAccessLog(ctx, p)
	}
	_, err = db.Exec(ctx, `INSERT INTO audit_log
		(actor_id, action, advisory_id, comment_id, previous_value, new_value, metadata, ip_address, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, '')::inet, $9)`,
		zeroAsNull(p.ActorID), string(p.Action), zeroAsNull(p.AdvisoryID), zeroAsNull(p.CommentID),
		p.Previous, p.New, p.Metadata, p.IP, p.UserAgent)
	if err != nil {
		return fmt.Errorf("audit %s: %w", p.Action, err)
	}
	return nil
}

// InsertAccessLog records an ephemeral (access-log) entry. It refuses any
// action outside the allowlist. Previous and New are folded into the
// metadata under "_previous_value" / "_new_value" (and CommentID under
// "comment_id"), each only when the key is not already present. It works
// inside or outside a transaction: several access-log events are
// best-effort and must not undo what they describe.
func (db *DB) InsertAccessLog(ctx context.Context, e audit.Entry) error {
	p, err := e.Prepare()
	if err != nil {
		return err
	}
	if !p.Ephemeral {
		return fmt.Errorf("access log %s: not an ephemeral action (it belongs on the ledger)", p.Action)
	}
	return db.insertAccessLog(ctx, p)
}

func (db *DB) insertAccessLog(ctx context.Context, p audit.Prepared) error {
	_, err := db.Exec(ctx, `INSERT INTO access_log (actor_id, action, advisory_id, metadata, ip_address, user_agent)
		VALUES ($1, $2, $3, $4, NULLIF($5, '')::inet, $6)`,
		zeroAsNull(p.ActorID), string(p.Action), zeroAsNull(p.AdvisoryID), p.Metadata, p.IP, p.UserAgent)
	if err != nil {
		return fmt.Errorf("access log %s: %w", p.Action, err)
	}
	return nil
}

// zeroAsNull maps the zero id to NULL.
func zeroAsNull(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}

// AuditFilter selects ledger entries. Zero fields do not filter.
type AuditFilter struct {
	AdvisoryID int64          // internal advisories.id
	ActorID    int64          // the acting user
	Actions    []audit.Action // any of these actions
	Since      time.Time      // created_at >= Since
	Until      time.Time      // created_at < Until
	// Timeline, when not TierNone, keeps only what an advisory timeline
	// shows a reader of that tier: actions of tier TierViewer..Timeline,
	// minus the companion rows audit-actions.md §3 suppresses
	// (advisory.state_changed with metadata.narrated = true, and
	// advisory.reassignment_request_cleared unless metadata.cause =
	// "withdrawn").
	Timeline audit.Tier
	// BeforeID pages backwards: only entries with id < BeforeID.
	BeforeID int64
	// Limit caps the result (default 50, at most 500).
	Limit int
}

// Page sizes of ListAudit.
const (
	defaultAuditLimit = 50
	maxAuditLimit     = 500
)

// ListAudit returns ledger entries matching f, newest first (descending
// id, which is the chain's insertion order), with the actor's label.
func (db *DB) ListAudit(ctx context.Context, f AuditFilter) ([]audit.Record, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.AdvisoryID != 0 {
		where = append(where, "a.advisory_id = "+arg(f.AdvisoryID))
	}
	if f.ActorID != 0 {
		where = append(where, "a.actor_id = "+arg(f.ActorID))
	}
	if len(f.Actions) > 0 {
		where = append(where, "a.action = ANY("+arg(actionStrings(f.Actions))+"::text[])")
	}
	if !f.Since.IsZero() {
		where = append(where, "a.created_at >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "a.created_at < "+arg(f.Until))
	}
	if f.Timeline != audit.TierNone {
		if !f.Timeline.Valid() {
			return nil, fmt.Errorf("list audit: invalid timeline tier %d", int(f.Timeline))
		}
		where = append(where,
			"a.action = ANY("+arg(actionStrings(audit.TimelineActions(f.Timeline)))+"::text[])",
			`NOT (a.action = 'advisory.state_changed' AND a.metadata @> '{"narrated": true}')`,
			`(a.action <> 'advisory.reassignment_request_cleared' OR a.metadata->>'cause' = 'withdrawn')`)
	}
	if f.BeforeID > 0 {
		where = append(where, "a.id < "+arg(f.BeforeID))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	limit = min(limit, maxAuditLimit)

	sql := `SELECT a.id, a.created_at, coalesce(a.actor_id, 0), coalesce(u.display_name, ''), coalesce(u.email, ''),
		a.action, coalesce(a.advisory_id, 0), coalesce(a.comment_id, 0),
		a.previous_value, a.new_value, a.metadata, coalesce(host(a.ip_address), ''), a.user_agent
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY a.id DESC LIMIT " + arg(limit)

	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		var (
			r             audit.Record
			action        string
			display, mail string
		)
		if err := rows.Scan(&r.ID, &r.CreatedAt, &r.ActorID, &display, &mail,
			&action, &r.AdvisoryID, &r.CommentID,
			&r.Previous, &r.New, &r.Metadata, &r.IP, &r.UserAgent); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		r.Action = audit.Action(action)
		r.ActorLabel = identity.Label(display, mail)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

func actionStrings(as []audit.Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}

// ChainProblem is one broken link of the ledger's hash chain.
type ChainProblem struct {
	// ID is the ledger row at fault; 0 for a problem of the chain head
	// (newest rows removed, or the head row missing).
	ID      int64
	Problem string
}

// VerifyAuditChain walks the ledger in id order and returns every broken
// link (audit_verify_chain()); an empty result means the chain is intact.
func (db *DB) VerifyAuditChain(ctx context.Context) ([]ChainProblem, error) {
	rows, err := db.Query(ctx, `SELECT coalesce(id, 0), problem FROM audit_verify_chain()`)
	if err != nil {
		return nil, fmt.Errorf("verify audit chain: %w", err)
	}
	defer rows.Close()
	var out []ChainProblem
	for rows.Next() {
		var p ChainProblem
		if err := rows.Scan(&p.ID, &p.Problem); err != nil {
			return nil, fmt.Errorf("verify audit chain: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("verify audit chain: %w", err)
	}
	return out, nil
}

// CountAudit returns the number of ledger entries.
func (db *DB) CountAudit(ctx context.Context) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit: %w", err)
	}
	return n, nil
}
