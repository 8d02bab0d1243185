package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Public intake (data-model §4.4, §11): the intake sidecar of a triage
// advisory, honeypot rows, the ALTCHA replay guard and the public project
// picker. The triage advisory itself is inserted with InsertAdvisory.

// IntakeMetadata is what InsertIntakeMetadata stores. There is no email
// column: a reporter's address is only ever that of ReporterUserID
// (INV-INTAKE-2).
type IntakeMetadata struct {
	AdvisoryID        int64
	ReporterUserID    int64  // 0: anonymous
	DisplayName       string // display only (INV-PRIVACY-3)
	IP                string // "" = NULL
	UserAgent         string
	NeedsAdminRouting bool // INV-INTAKE-4
	SubmittedAt       time.Time
}

// InsertIntakeMetadata stores the sidecar of a new triage advisory.
func (db *DB) InsertIntakeMetadata(ctx context.Context, m IntakeMetadata) error {
	_, err := db.Exec(ctx, `INSERT INTO advisory_intake_metadata
		(advisory_id, reporter_user_id, reporter_display_name, submitted_ip, submitted_user_agent,
		 needs_admin_routing, submitted_at)
		VALUES ($1, $2, $3, NULLIF($4, '')::inet, $5, $6, $7)`,
		m.AdvisoryID, zeroAsNull(m.ReporterUserID), m.DisplayName, m.IP, m.UserAgent, m.NeedsAdminRouting, m.SubmittedAt)
	if err != nil {
		return fmt.Errorf("insert intake metadata: %w", err)
	}
	return nil
}

// IntakeReporter returns the reporter user id (0: anonymous) and display
// name of an advisory's intake sidecar.
func (db *DB) IntakeReporter(ctx context.Context, advisoryPK int64) (int64, string, error) {
	var (
		id   int64
		name string
	)
	err := db.QueryRow(ctx, `SELECT COALESCE(reporter_user_id, 0), reporter_display_name
		FROM advisory_intake_metadata WHERE advisory_id = $1`, advisoryPK).Scan(&id, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("intake reporter: %w", err)
	}
	return id, name, nil
}

// Honeypot is one honeypot_submissions row.
type Honeypot struct {
	IP          string // "" = NULL
	UserAgent   string
	Value       string // the bot's input, truncated
	SubmittedAt time.Time
}

// InsertHoneypot records a honeypot trip and returns its id.
func (db *DB) InsertHoneypot(ctx context.Context, h Honeypot) (string, error) {
	var id string
	err := db.QueryRow(ctx, `INSERT INTO honeypot_submissions (submitted_ip, submitted_user_agent, honeypot_field_value, submitted_at)
		VALUES (NULLIF($1, '')::inet, $2, $3, $4) RETURNING id::text`, h.IP, h.UserAgent, h.Value, h.SubmittedAt).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert honeypot: %w", err)
	}
	return id, nil
}

// ClaimALTCHAChallenge records an accepted ALTCHA challenge (its replay
// key) until expiresAt. It returns false when the challenge was already
// claimed: a replay.
func (db *DB) ClaimALTCHAChallenge(ctx context.Context, key []byte, expiresAt time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `INSERT INTO altcha_replay_markers (challenge_hash, expires_at) VALUES ($1, $2)
		ON CONFLICT (challenge_hash) DO NOTHING`, key, expiresAt)
	if err != nil {
		return false, fmt.Errorf("altcha replay guard: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// PruneALTCHAMarkers deletes the replay markers of expired challenges (an
// expired challenge is refused before the guard is asked).
func (db *DB) PruneALTCHAMarkers(ctx context.Context, now time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM altcha_replay_markers WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("prune altcha markers: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ReportProject is one entry of the public project picker.
type ReportProject struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// ReportProjects returns the public picker's projects (GET
// /report/projects.json): those whose slug or name contains q
// (case-insensitive; empty q: all), sorted by name, at most limit, never
// the `unsorted` sentinel.
func (db *DB) ReportProjects(ctx context.Context, q string, limit int) ([]ReportProject, error) {
	q = strings.TrimSpace(q)
	pattern := "%" + escapeLike(q) + "%"
	rows, err := db.Query(ctx, `SELECT slug, name FROM projects
		WHERE slug <> $1 AND ($2 = '' OR slug ILIKE $3 OR name ILIKE $3)
		ORDER BY name, slug LIMIT $4`, project.UnsortedSlug, q, pattern, limit)
	if err != nil {
		return nil, fmt.Errorf("report projects: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReportProject, error) {
		var p ReportProject
		return p, r.Scan(&p.Slug, &p.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("report projects: %w", err)
	}
	return out, nil
}
