// Package postgres is the only package that speaks SQL. A DB wraps either the
// pool or an open transaction, so the same query method works in both
// places; InTx is the one transaction helper.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is the database handle. The zero value is not usable; see Open.
type DB struct {
	pool *pgxpool.Pool
	tx   pgx.Tx

	// outbox, when set on the root DB, receives the ids of outbox rows a
	// transaction wrote, after it commits (INV-PUB-5).
	outbox *Outbox
	// pending collects outbox row ids written inside the current transaction.
	pending *[]int64

	// principal is who the transaction acts as for row-level security
	// (hasPrincipal: inside InTx).
	principal    Principal
	hasPrincipal bool
}

// actsAs reports whether db is a transaction whose row-level-security
// principal is exactly p.
func (db *DB) actsAs(p Principal) bool { return db.tx != nil && db.hasPrincipal && db.principal == p }

// Options tunes Open.
type Options struct {
	MaxConns int32
}

// Open builds a pool for url. Connections are made lazily, on first use, so
// a function starts (and answers /healthz) without waiting for the database;
// /readyz reports whether it is reachable.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the connection string: never return them verbatim.
		return nil, errors.New("postgres: DATABASE_URL could not be parsed")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["application_name"] = "advisoryhub"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	return &DB{pool: pool}, nil
}

// Close closes the pool. It must be called on the root DB only.
func (db *DB) Close() {
	if db.tx == nil && db.pool != nil {
		db.pool.Close()
	}
}

// Ping checks the connection with SELECT 1.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// InTransaction reports whether db wraps an open transaction.
func (db *DB) InTransaction() bool { return db.tx != nil }

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (db *DB) q() querier {
	if db.tx != nil {
		return db.tx
	}
	return db.pool
}

// Exec runs a statement. Store methods use it; tests use it for raw SQL.
func (db *DB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return db.q().Exec(ctx, sql, args...)
}

// Query runs a query returning rows.
func (db *DB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return db.q().Query(ctx, sql, args...)
}

// QueryRow runs a query returning at most one row.
func (db *DB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return db.q().QueryRow(ctx, sql, args...)
}

// maxTxAttempts bounds the retries of a transaction that failed with a
// serialization failure or deadlock.
const maxTxAttempts = 5

// ErrNestedTx is returned by InTx on a DB that is already a transaction.
var ErrNestedTx = errors.New("postgres: InTx called inside a transaction")

// InTx runs fn in a transaction. It commits when fn returns nil and rolls
// back on an error or a panic. A serialization failure (40001) or deadlock
// (40P01) reruns fn from the start, a bounded number of times, so fn must be
// safe to rerun and must make no network calls.
//
// The transaction acts as the principal carried by ctx (see WithPrincipal):
// the row-level-security settings are set with is_local, so they vanish at
// COMMIT or ROLLBACK and a pooled connection never carries the previous
// caller (INV-CONF-2). After commit, the outbox rows written by fn are handed
// to the dispatcher (INV-PUB-5); a rolled-back transaction sends nothing.
func (db *DB) InTx(ctx context.Context, opts pgx.TxOptions, fn func(*DB) error) error {
	if db.tx != nil {
		return ErrNestedTx
	}
	p := PrincipalFrom(ctx)
	var pending []int64
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		pending = pending[:0]
		err = pgx.BeginTxFunc(ctx, db.pool, beginAs(opts, p), func(tx pgx.Tx) error {
			return fn(&DB{pool: db.pool, tx: tx, outbox: db.outbox, pending: &pending, principal: p, hasPrincipal: true})
		})
		if !retryable(err) {
			break
		}
	}
	if err != nil {
		return err
	}
	if db.outbox != nil && len(pending) > 0 {
		// Sending is best effort: what fails here stays unsent and the
		// scheduled sweep sends it later.
		db.outbox.Dispatch(ctx, pending)
	}
	return nil
}

// beginAs returns opts with a BeginQuery that opens the transaction and
// sets the principal in one round trip: the two statements go as one
// simple-protocol query, which PostgreSQL runs in order, and a failure of
// either fails the BEGIN. The settings are a decimal user id (or empty) and
// on/off, never caller text, so writing them as literals is safe.
func beginAs(opts pgx.TxOptions, p Principal) pgx.TxOptions {
	var b strings.Builder
	b.WriteString("BEGIN")
	if opts.IsoLevel != "" {
		b.WriteString(" ISOLATION LEVEL ")
		b.WriteString(string(opts.IsoLevel))
	}
	if opts.AccessMode != "" {
		b.WriteString(" ")
		b.WriteString(string(opts.AccessMode))
	}
	if opts.DeferrableMode != "" {
		b.WriteString(" ")
		b.WriteString(string(opts.DeferrableMode))
	}
	b.WriteString("; SELECT set_config('advisoryhub.user_id', '")
	b.WriteString(p.userSetting())
	b.WriteString("', true), set_config('advisoryhub.is_admin', '")
	b.WriteString(p.adminSetting())
	b.WriteString("', true)")
	opts.BeginQuery = b.String()
	return opts
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// SetOutbox makes db hand committed outbox rows to o. Call it once, at boot,
// on the root DB.
func (db *DB) SetOutbox(o *Outbox) { db.outbox = o }
