package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// Intake-PII retention (data-model §4.4, §11.1, §16; operations §11
// prune_reports). Scrubbing blanks the personal data of a public report —
// on the sidecar the reporter user, display name, IP and User-Agent; on a
// honeypot row the IP, User-Agent and the bot's input — and stamps
// pii_cleared_at. The advisory, its versions, comments and audit history
// are never touched. A row whose pii_cleared_at is set is never selected
// again, so repeated runs are no-ops.

// sidecarsDue selects the sidecars past the horizon: advisory no longer in
// triage, advisory modified before $1, not yet cleared.
const sidecarsDue = `FROM advisory_intake_metadata m
	JOIN advisories a ON a.id = m.advisory_id
	WHERE m.pii_cleared_at IS NULL AND a.state <> 'triage' AND a.modified_at < $1`

// honeypotsDue selects the honeypot rows submitted before $1, not yet cleared.
const honeypotsDue = `FROM honeypot_submissions h
	WHERE h.pii_cleared_at IS NULL AND h.submitted_at < $1`

// CountIntakeSidecarsDue counts the sidecars ScrubIntakeSidecarsDue would
// scrub for cutoff.
func (db *DB) CountIntakeSidecarsDue(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, `SELECT count(*) `+sidecarsDue, cutoff).Scan(&n); err != nil {
		return 0, fmt.Errorf("count intake sidecars due: %w", err)
	}
	return n, nil
}

// ScrubIntakeSidecarsDue scrubs at most limit of the sidecars past the
// horizon (see sidecarsDue) and returns how many it scrubbed. Rows locked
// by another transaction are skipped, for a later batch or run. Call it
// inside a transaction: the batch is its unit of work.
func (db *DB) ScrubIntakeSidecarsDue(ctx context.Context, cutoff, now time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, errors.New("scrub intake sidecars: limit must be positive")
	}
	tag, err := db.Exec(ctx, `UPDATE advisory_intake_metadata SET
			reporter_user_id = NULL, reporter_display_name = '', submitted_ip = NULL,
			submitted_user_agent = '', pii_cleared_at = $2
		WHERE id IN (SELECT m.id `+sidecarsDue+` ORDER BY m.id LIMIT $3 FOR UPDATE OF m SKIP LOCKED)`,
		cutoff, now, limit)
	if err != nil {
		return 0, fmt.Errorf("scrub intake sidecars: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CountHoneypotsDue counts the honeypot rows ScrubHoneypotsDue would scrub
// for cutoff.
func (db *DB) CountHoneypotsDue(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, `SELECT count(*) `+honeypotsDue, cutoff).Scan(&n); err != nil {
		return 0, fmt.Errorf("count honeypots due: %w", err)
	}
	return n, nil
}

// ScrubHoneypotsDue scrubs at most limit honeypot rows submitted before
// cutoff and not yet cleared, and returns how many it scrubbed. As
// ScrubIntakeSidecarsDue, it belongs inside a transaction.
func (db *DB) ScrubHoneypotsDue(ctx context.Context, cutoff, now time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, errors.New("scrub honeypots: limit must be positive")
	}
	tag, err := db.Exec(ctx, `UPDATE honeypot_submissions SET
			submitted_ip = NULL, submitted_user_agent = '', honeypot_field_value = '', pii_cleared_at = $2
		WHERE id IN (SELECT h.id `+honeypotsDue+` ORDER BY h.submitted_at, h.id LIMIT $3 FOR UPDATE SKIP LOCKED)`,
		cutoff, now, limit)
	if err != nil {
		return 0, fmt.Errorf("scrub honeypots: %w", err)
	}
	return tag.RowsAffected(), nil
}

// IntakeSidecarState is the PII state of one advisory's intake sidecar.
type IntakeSidecarState struct {
	// HasSidecar is false for an advisory that did not come from the
	// public form (or does not exist).
	HasSidecar   bool
	PIIClearedAt *time.Time
}

// IntakeSidecarStateFor returns the sidecar state of the advisory with the
// public id advisoryID, locking the sidecar row when forUpdate.
func (db *DB) IntakeSidecarStateFor(ctx context.Context, advisoryID advisory.ID, forUpdate bool) (IntakeSidecarState, error) {
	q := `SELECT m.pii_cleared_at FROM advisory_intake_metadata m
		JOIN advisories a ON a.id = m.advisory_id WHERE a.advisory_id = $1`
	if forUpdate {
		q += ` FOR UPDATE OF m`
	}
	var st IntakeSidecarState
	err := db.QueryRow(ctx, q, advisoryID).Scan(&st.PIIClearedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("intake sidecar of %s: %w", advisoryID, err)
	}
	st.HasSidecar = true
	return st, nil
}

// ScrubIntakeSidecarOf scrubs the sidecar of the advisory with the public
// id advisoryID whatever its age and state, unless it was already cleared,
// and reports whether it scrubbed it.
func (db *DB) ScrubIntakeSidecarOf(ctx context.Context, advisoryID advisory.ID, now time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE advisory_intake_metadata m SET
			reporter_user_id = NULL, reporter_display_name = '', submitted_ip = NULL,
			submitted_user_agent = '', pii_cleared_at = $2
		FROM advisories a
		WHERE a.id = m.advisory_id AND a.advisory_id = $1 AND m.pii_cleared_at IS NULL`,
		advisoryID, now)
	if err != nil {
		return false, fmt.Errorf("scrub intake sidecar of %s: %w", advisoryID, err)
	}
	return tag.RowsAffected() == 1, nil
}
