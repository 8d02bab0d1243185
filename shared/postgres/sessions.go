package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// Server-side sign-in state (migration 00007): sessions and the OIDC
// authorization requests in flight. The functions share no memory, so all
// of it lives here (data-model §17).

// ErrSessionNotFound is returned for an unknown (or already ended) session
// and for an unknown or expired login flow.
var ErrSessionNotFound = apperr.New(apperr.Unauthenticated, "no such session")

// Session is one signed-in browser. IDHash is the SHA-256 of the cookie
// value; the value itself is never stored.
type Session struct {
	IDHash        []byte
	UserID        int64
	CreatedAt     time.Time
	LastSeenAt    time.Time
	ExpiresAt     time.Time  // absolute end
	AuthTime      *time.Time // the ID token's auth_time
	IDToken       string     // id_token_hint for RP-initiated logout
	StepUpAuthAt  *time.Time
	StepUpPending bool
	StepUpNext    string
}

// SessionUser is what the auth middleware needs to know about the user of a
// session on every request: whether the account may still act (INV-AUTH-8,
// INV-OIDC-5) and its mirrored groups (INV-OIDC-2).
type SessionUser struct {
	Email       string
	DisplayName string
	Active      bool // is_active: false = banned (or forgotten)
	Provisioned bool // a roster shadow
	// Admin is membership of the admin group, derived from the mirror on
	// every read (INV-OIDC-3).
	Admin      bool
	GroupIDs   []int64  // ascending
	GroupNames []string // by name
}

// InsertSession stores a new session.
func (db *DB) InsertSession(ctx context.Context, s Session) error {
	_, err := db.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, auth_time,
			id_token, step_up_auth_at, step_up_pending, step_up_next)
		VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)`,
		s.IDHash, s.UserID, s.CreatedAt, s.ExpiresAt, s.AuthTime, s.IDToken, s.StepUpAuthAt, s.StepUpPending, s.StepUpNext)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByIDHash returns the session and its user's current standing, in
// one round trip. adminGroup names OIDC_ADMIN_GROUP. It does not judge
// expiry; the caller does, against its clock.
func (db *DB) SessionByIDHash(ctx context.Context, idHash []byte, adminGroup string) (Session, SessionUser, error) {
	var (
		s Session
		u SessionUser
	)
	err := db.QueryRow(ctx, `SELECT s.id_hash, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.auth_time,
			s.id_token, s.step_up_auth_at, s.step_up_pending, s.step_up_next,
			u.email, u.display_name, u.is_active, u.is_provisioned,
			coalesce(bool_or(g.name = $2), false),
			coalesce(array_agg(g.id::bigint ORDER BY g.id) FILTER (WHERE g.id IS NOT NULL), '{}'),
			coalesce(array_agg(g.name::text ORDER BY g.name) FILTER (WHERE g.id IS NOT NULL), '{}')
		FROM sessions s
		JOIN users u ON u.id = s.user_id
		LEFT JOIN user_groups ug ON ug.user_id = u.id
		LEFT JOIN groups g ON g.id = ug.group_id
		WHERE s.id_hash = $1
		GROUP BY s.id_hash, u.id`, idHash, adminGroup).Scan(
		&s.IDHash, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.AuthTime,
		&s.IDToken, &s.StepUpAuthAt, &s.StepUpPending, &s.StepUpNext,
		&u.Email, &u.DisplayName, &u.Active, &u.Provisioned, &u.Admin, &u.GroupIDs, &u.GroupNames)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, SessionUser{}, ErrSessionNotFound
	}
	if err != nil {
		return Session{}, SessionUser{}, fmt.Errorf("session: %w", err)
	}
	return s, u, nil
}

// TouchSession records activity on a session (the idle timeout counts from
// last_seen_at).
func (db *DB) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2`, idHash, at); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// MarkStepUpPending records that the session asked for a step-up and where
// to return afterwards (permissions §8).
func (db *DB) MarkStepUpPending(ctx context.Context, idHash []byte, next string) error {
	tag, err := db.Exec(ctx, `UPDATE sessions SET step_up_pending = true, step_up_next = $2 WHERE id_hash = $1`, idHash, next)
	if err != nil {
		return fmt.Errorf("mark step-up pending: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrSessionNotFound
	}
	return nil
}

// DeleteSession ends a session; deleting an unknown one is not an error.
// It returns the deleted session (zero when there was none).
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) (Session, error) {
	var s Session
	err := db.QueryRow(ctx, `DELETE FROM sessions WHERE id_hash = $1
		RETURNING id_hash, user_id, created_at, last_seen_at, expires_at, auth_time, id_token,
			step_up_auth_at, step_up_pending, step_up_next`, idHash).Scan(
		&s.IDHash, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.AuthTime, &s.IDToken,
		&s.StepUpAuthAt, &s.StepUpPending, &s.StepUpNext)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, nil
	}
	if err != nil {
		return Session{}, fmt.Errorf("delete session: %w", err)
	}
	return s, nil
}

// DeleteUserSessions ends every session of a user (a ban, INV-AUTH-8).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// DeleteExpiredSessions removes sessions past their absolute end or idle
// for longer than idle, and login flows past their end.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, now.Add(-idle))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM login_flows WHERE expires_at <= $1`, now); err != nil {
		return 0, fmt.Errorf("delete expired login flows: %w", err)
	}
	return tag.RowsAffected(), nil
}

// LoginFlow is an OIDC authorization request in flight, keyed by the
// SHA-256 of its state parameter.
type LoginFlow struct {
	StateHash    []byte
	Nonce        string
	CodeVerifier string // PKCE; empty when PKCE is off
	NextPath     string // local path to return to
	StepUp       bool   // sent with prompt=login&max_age=0
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// InsertLoginFlow stores a flow.
func (db *DB) InsertLoginFlow(ctx context.Context, f LoginFlow) error {
	_, err := db.Exec(ctx, `INSERT INTO login_flows (state_hash, nonce, code_verifier, next_path, step_up, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, f.StateHash, f.Nonce, f.CodeVerifier, f.NextPath, f.StepUp, f.CreatedAt, f.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert login flow: %w", err)
	}
	return nil
}

// TakeLoginFlow removes and returns the flow, so a state is redeemed at
// most once. An unknown flow, or one expired at now, is ErrSessionNotFound.
func (db *DB) TakeLoginFlow(ctx context.Context, stateHash []byte, now time.Time) (LoginFlow, error) {
	var f LoginFlow
	err := db.QueryRow(ctx, `DELETE FROM login_flows WHERE state_hash = $1
		RETURNING state_hash, nonce, code_verifier, next_path, step_up, created_at, expires_at`, stateHash).Scan(
		&f.StateHash, &f.Nonce, &f.CodeVerifier, &f.NextPath, &f.StepUp, &f.CreatedAt, &f.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return LoginFlow{}, ErrSessionNotFound
	}
	if err != nil {
		return LoginFlow{}, fmt.Errorf("take login flow: %w", err)
	}
	if !now.Before(f.ExpiresAt) {
		return LoginFlow{}, ErrSessionNotFound
	}
	return f, nil
}
