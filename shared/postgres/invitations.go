package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
)

// Invitations (data-model §5.2). Only the SHA-256 of a token is stored
// (token_hash, 32 bytes, unique). Emails are matched case-insensitively
// (INV-ACCESS-2, index on lower(email)). No row-level security.

const invitationSelect = `SELECT i.id, i.advisory_id, i.email, i.permission, i.expires_at, i.created_at,
	COALESCE(i.created_by_id, 0), i.redeemed_at, COALESCE(i.redeemed_by_id, 0)
	FROM invitations i`

func scanInvitation(row pgx.Row) (grant.Invitation, error) {
	var inv grant.Invitation
	err := row.Scan(&inv.ID, &inv.AdvisoryID, &inv.Email, &inv.Permission, &inv.ExpiresAt, &inv.CreatedAt,
		&inv.CreatedByID, &inv.RedeemedAt, &inv.RedeemedByID)
	return inv, err
}

func invitationErr(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("invitation %s: %w", what, grant.ErrNotFound)
	}
	return fmt.Errorf("invitation %s: %w", what, err)
}

func collectInvitations(rows pgx.Rows, err error) ([]grant.Invitation, error) {
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (grant.Invitation, error) { return scanInvitation(r) })
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	return out, nil
}

// NewInvitation is what InsertInvitation stores.
type NewInvitation struct {
	AdvisoryID  int64
	Email       string
	Permission  access.Permission
	TokenHash   []byte // grant.HashToken(token)
	ExpiresAt   time.Time
	CreatedAt   time.Time
	CreatedByID int64
}

// InsertInvitation stores an invitation. A pending invitation for the same
// email (any case) on the same advisory is grant.ErrAlreadyInvited.
func (db *DB) InsertInvitation(ctx context.Context, n NewInvitation) (grant.Invitation, error) {
	if db.tx == nil {
		return grant.Invitation{}, errors.New("postgres: InsertInvitation outside a transaction")
	}
	if !n.Permission.Valid() {
		return grant.Invitation{}, fmt.Errorf("invitation: %w: %q", access.ErrInvalidPermission, n.Permission)
	}
	var dup bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invitations WHERE advisory_id = $1
		AND lower(email) = lower($2) AND redeemed_at IS NULL AND expires_at > $3)`,
		n.AdvisoryID, n.Email, n.CreatedAt).Scan(&dup); err != nil {
		return grant.Invitation{}, fmt.Errorf("invitation: %w", err)
	}
	if dup {
		return grant.Invitation{}, grant.ErrAlreadyInvited
	}
	inv, err := scanInvitation(db.QueryRow(ctx, `INSERT INTO invitations AS i
		(advisory_id, email, permission, token_hash, expires_at, created_at, created_by_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING i.id, i.advisory_id, i.email, i.permission, i.expires_at, i.created_at,
			COALESCE(i.created_by_id, 0), i.redeemed_at, COALESCE(i.redeemed_by_id, 0)`,
		n.AdvisoryID, n.Email, string(n.Permission), n.TokenHash, n.ExpiresAt, n.CreatedAt, zeroAsNull(n.CreatedByID)))
	if err != nil {
		return grant.Invitation{}, fmt.Errorf("insert invitation: %w", err)
	}
	return inv, nil
}

// PendingInvitations returns the advisory's unredeemed, unexpired
// invitations at now, oldest first.
func (db *DB) PendingInvitations(ctx context.Context, advisoryPK int64, now time.Time) ([]grant.Invitation, error) {
	return collectInvitations(db.Query(ctx, invitationSelect+` WHERE i.advisory_id = $1
		AND i.redeemed_at IS NULL AND i.expires_at > $2 ORDER BY i.created_at, i.id`, advisoryPK, now))
}

// InvitationByIDForUpdate returns invitation id of advisory advisoryPK
// (advisoryPK 0: of any advisory), locked.
func (db *DB) InvitationByIDForUpdate(ctx context.Context, advisoryPK, id int64) (grant.Invitation, error) {
	inv, err := scanInvitation(db.QueryRow(ctx, invitationSelect+` WHERE i.id = $1 AND ($2 = 0 OR i.advisory_id = $2)
		FOR UPDATE`, id, advisoryPK))
	if err != nil {
		return grant.Invitation{}, invitationErr(fmt.Sprint(id), err)
	}
	return inv, nil
}

// InvitationByTokenHashForUpdate returns the invitation whose token hashes
// to hash, locked.
func (db *DB) InvitationByTokenHashForUpdate(ctx context.Context, hash []byte) (grant.Invitation, error) {
	inv, err := scanInvitation(db.QueryRow(ctx, invitationSelect+` WHERE i.token_hash = $1 FOR UPDATE`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return grant.Invitation{}, grant.ErrInvalidToken
	}
	if err != nil {
		return grant.Invitation{}, invitationErr("by token", err)
	}
	return inv, nil
}

// UnredeemedInvitationsForEmail returns every unredeemed invitation whose
// email matches email case-insensitively (INV-ACCESS-2), expired ones
// included (the caller refuses those, INV-ACCESS-3), locked, oldest first.
func (db *DB) UnredeemedInvitationsForEmail(ctx context.Context, email string) ([]grant.Invitation, error) {
	return collectInvitations(db.Query(ctx, invitationSelect+` WHERE lower(i.email) = lower($1)
		AND i.redeemed_at IS NULL ORDER BY i.created_at, i.id FOR UPDATE`, email))
}

// MarkInvitationRedeemed stamps the invitation redeemed by userID, once.
func (db *DB) MarkInvitationRedeemed(ctx context.Context, id, userID int64, at time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE invitations SET redeemed_at = $3, redeemed_by_id = $2
		WHERE id = $1 AND redeemed_at IS NULL`, id, userID, at)
	if err != nil {
		return fmt.Errorf("redeem invitation %d: %w", id, err)
	}
	if tag.RowsAffected() != 1 {
		return grant.ErrAlreadyRedeemed
	}
	return nil
}

// RenewInvitation gives an unredeemed invitation a new token hash and
// expiry (re-send, INV-ACCESS-3).
func (db *DB) RenewInvitation(ctx context.Context, id int64, tokenHash []byte, expiresAt time.Time) error {
	tag, err := db.Exec(ctx, `UPDATE invitations SET token_hash = $2, expires_at = $3
		WHERE id = $1 AND redeemed_at IS NULL`, id, tokenHash, expiresAt)
	if err != nil {
		return fmt.Errorf("renew invitation %d: %w", id, err)
	}
	if tag.RowsAffected() != 1 {
		return grant.ErrAlreadyRedeemed
	}
	return nil
}

// DeleteInvitation removes an invitation (revocation).
func (db *DB) DeleteInvitation(ctx context.Context, id int64) error {
	if _, err := db.Exec(ctx, `DELETE FROM invitations WHERE id = $1`, id); err != nil {
		return fmt.Errorf("revoke invitation %d: %w", id, err)
	}
	return nil
}

// AdvisoryPublicID returns the public id of the advisory with internal id
// pk, as the transaction's principal may see it.
func (db *DB) AdvisoryPublicID(ctx context.Context, pk int64) (advisory.ID, error) {
	var id string
	if err := db.QueryRow(ctx, `SELECT advisory_id FROM advisories WHERE id = $1`, pk).Scan(&id); err != nil {
		return "", advisoryErr(pk, err)
	}
	return advisory.ID(id), nil
}
