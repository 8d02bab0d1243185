package postgres

import (
	"context"
	"fmt"
	"time"
)

// Rate-limit counters (INV-RATELIMIT-1; operations.md §5 rate-limit
// semantics): fixed windows kept in PostgreSQL, shared by every function
// instance. The caller computes the window from its clock.

// HitRateLimit counts one hit of subject on route in the window
// [windowStart, windowEnd) and returns the hits counted in that window so
// far, this one included. A counter left from an earlier window restarts
// at 1. It is one atomic upsert, so concurrent hits are never lost; it
// runs on the pool (or the caller's transaction) and needs no principal.
func (db *DB) HitRateLimit(ctx context.Context, route, subject string, windowStart, windowEnd time.Time) (int, error) {
	var hits int
	err := db.QueryRow(ctx, `INSERT INTO rate_limit_counters AS c (route, subject, window_start, hits, expires_at)
		VALUES ($1, $2, $3, 1, $4)
		ON CONFLICT (route, subject) DO UPDATE SET
			hits = CASE WHEN c.window_start >= EXCLUDED.window_start THEN c.hits + 1 ELSE 1 END,
			window_start = GREATEST(c.window_start, EXCLUDED.window_start),
			expires_at = GREATEST(c.expires_at, EXCLUDED.expires_at)
		RETURNING hits`, route, subject, windowStart, windowEnd).Scan(&hits)
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", route, err)
	}
	return hits, nil
}

// PruneRateLimits deletes the counters whose window ended before now and
// returns how many went.
func (db *DB) PruneRateLimits(ctx context.Context, now time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM rate_limit_counters WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("prune rate limits: %w", err)
	}
	return tag.RowsAffected(), nil
}
