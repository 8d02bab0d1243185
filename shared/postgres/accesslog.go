package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/redact"
)

// Access-log partition maintenance (data-model §14.2, INV-AUDIT-5). The
// access log is range-partitioned by UTC month into access_log_pYYYY_MM
// tables plus a DEFAULT partition that is never dropped. Retention drops
// whole months, so rows live slightly longer than the configured number of
// days.

// accessLogPartitionRE matches the monthly partitions (never DEFAULT).
var accessLogPartitionRE = regexp.MustCompile(`^access_log_p(\d{4})_(\d{2})$`)

// PartitionMaintenance tunes MaintainAccessLogPartitions.
type PartitionMaintenance struct {
	Now           time.Time // the clock; months are UTC months
	RetentionDays int       // must be > 0
	// DryRun changes nothing: Created and Dropped list what a real run
	// would create and drop.
	DryRun bool
	// LockTimeout bounds each wait for a table lock (default 10s), so the
	// job never queues writers behind a long-running query for long; a
	// step that times out is skipped.
	LockTimeout time.Duration
}

// PartitionSkip is a step that failed and was skipped.
type PartitionSkip struct {
	Partition string `json:"partition"`
	Step      string `json:"step"` // "create" or "drop"
	Error     string `json:"error"`
}

// PartitionMaintenanceResult reports one run.
type PartitionMaintenanceResult struct {
	Created []string        `json:"created"`
	Dropped []string        `json:"dropped"`
	Skipped []PartitionSkip `json:"skipped,omitempty"`
	Cutoff  string          `json:"cutoff"` // YYYY-MM-DD
	DryRun  bool            `json:"dry_run,omitempty"`
}

// AccessLogPartition is one monthly partition.
type AccessLogPartition struct {
	Name  string
	Start time.Time // first instant of the month, UTC
	End   time.Time // exclusive upper bound: first instant of the next month
}

// MaintainAccessLogPartitions runs the daily maintenance in one
// transaction: it ensures the partitions of the current and the next month
// (each in its own savepoint; a month whose rows are already stranded in
// DEFAULT cannot be created and is skipped), then drops every monthly
// partition whose exclusive upper bound is on or before the cutoff date,
// now − RetentionDays (each in its own savepoint; a failure is skipped).
// Skipped steps are reported, not returned as errors. It must not be
// called inside a transaction.
func (db *DB) MaintainAccessLogPartitions(ctx context.Context, o PartitionMaintenance) (PartitionMaintenanceResult, error) {
	res := PartitionMaintenanceResult{Created: []string{}, Dropped: []string{}, DryRun: o.DryRun}
	if db.tx != nil {
		return res, errors.New("postgres: MaintainAccessLogPartitions inside a transaction")
	}
	if o.RetentionDays <= 0 {
		return res, fmt.Errorf("access-log maintenance: retention days must be positive, got %d", o.RetentionDays)
	}
	if o.Now.IsZero() {
		return res, errors.New("access-log maintenance: Now is required")
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 10 * time.Second
	}
	now := o.Now.UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	cutoffDay := now.AddDate(0, 0, -o.RetentionDays)
	cutoff := time.Date(cutoffDay.Year(), cutoffDay.Month(), cutoffDay.Day(), 0, 0, 0, 0, time.UTC)
	res.Cutoff = cutoff.Format(time.DateOnly)

	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`,
			strconv.FormatInt(o.LockTimeout.Milliseconds(), 10)); err != nil {
			return err
		}
		existing, err := accessLogPartitions(ctx, tx)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, p := range existing {
			have[p.Name] = true
		}

		for _, month := range []time.Time{thisMonth, thisMonth.AddDate(0, 1, 0)} {
			name := "access_log_p" + month.Format("2006_01")
			if o.DryRun {
				if !have[name] {
					res.Created = append(res.Created, name)
				}
				continue
			}
			var created bool
			err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
				return sp.QueryRow(ctx, `SELECT access_log_ensure_partition($1::date)`, month.Format(time.DateOnly)).Scan(&created)
			})
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				res.Skipped = append(res.Skipped, PartitionSkip{Partition: name, Step: "create", Error: redact.StringN(err.Error(), 1000)})
			case created:
				res.Created = append(res.Created, name)
			}
		}

		// Re-list: a partition may have been created meanwhile (and is
		// never old enough to drop, but the listing stays truthful).
		if !o.DryRun {
			if existing, err = accessLogPartitions(ctx, tx); err != nil {
				return err
			}
		}
		for _, p := range existing {
			if p.End.After(cutoff) {
				continue
			}
			if o.DryRun {
				res.Dropped = append(res.Dropped, p.Name)
				continue
			}
			err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
				_, err := sp.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{p.schema, p.Name}.Sanitize())
				return err
			})
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				res.Skipped = append(res.Skipped, PartitionSkip{Partition: p.Name, Step: "drop", Error: redact.StringN(err.Error(), 1000)})
				continue
			}
			res.Dropped = append(res.Dropped, p.Name)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("access-log maintenance: %w", err)
	}
	return res, nil
}

type accessLogPartition struct {
	AccessLogPartition
	schema string
}

// accessLogPartitions lists the monthly partitions of access_log, oldest
// first, from the catalogue (pg_inherits joined to pg_class); DEFAULT and
// any table not named access_log_pYYYY_MM are never listed.
func accessLogPartitions(ctx context.Context, q querier) ([]accessLogPartition, error) {
	rows, err := q.Query(ctx, `SELECT n.nspname, c.relname
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE i.inhparent = 'access_log'::regclass`)
	if err != nil {
		return nil, fmt.Errorf("list access-log partitions: %w", err)
	}
	defer rows.Close()
	var out []accessLogPartition
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			return nil, fmt.Errorf("list access-log partitions: %w", err)
		}
		m := accessLogPartitionRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		year, _ := strconv.Atoi(m[1])
		month, _ := strconv.Atoi(m[2])
		if month < 1 || month > 12 {
			continue
		}
		start := time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
		out = append(out, accessLogPartition{
			AccessLogPartition: AccessLogPartition{Name: name, Start: start, End: start.AddDate(0, 1, 0)},
			schema:             schema,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list access-log partitions: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// AccessLogPartitions lists the monthly partitions of the access log,
// oldest first.
func (db *DB) AccessLogPartitions(ctx context.Context) ([]AccessLogPartition, error) {
	parts, err := accessLogPartitions(ctx, db.q())
	if err != nil {
		return nil, err
	}
	out := make([]AccessLogPartition, len(parts))
	for i, p := range parts {
		out[i] = p.AccessLogPartition
	}
	return out, nil
}
