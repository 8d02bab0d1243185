package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Invitations (requirements §4.6, §6.7; data-model §5.2). An owner invites
// an email with no account yet; the invitee is granted the invited
// permission when they sign in with that address, verified and matching
// case-insensitively (INV-ACCESS-2), before the 14-day expiry
// (INV-ACCESS-3), once. The single-use token is 32 random bytes of which
// only the SHA-256 is stored; it is handed back to the caller and can be
// redeemed by the signed-in invitee (RedeemToken). Matching invitations
// are also redeemed at every sign-in (RedeemInvitationsForUser).

// Invite invites email to advisory id with permission perm (an owner).
// Audited as invitation.created.
func (s *Grants) Invite(ctx context.Context, c Caller, id advisory.ID, email, perm string) (grant.Invitation, string, error) {
	var (
		inv   grant.Invitation
		token string
	)
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, _, err := s.manage(ctx, tx, c, id)
		if err != nil {
			return err
		}
		p, err := grant.ParsePermission(perm)
		if err != nil {
			return err
		}
		addr, err := grant.NormalizeEmail(email)
		if err != nil {
			return err
		}
		inv, token, err = s.invite(ctx, tx, c, a, addr, p)
		return err
	})
	if err != nil {
		return grant.Invitation{}, "", fmt.Errorf("invite: %w", err)
	}
	return inv, token, nil
}

// invite records an invitation of email on a (authorized by the caller).
func (s *Grants) invite(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, email string, perm access.Permission) (grant.Invitation, string, error) {
	token, hash, err := grant.NewToken(s.rand)
	if err != nil {
		return grant.Invitation{}, "", err
	}
	now := s.now()
	inv, err := tx.InsertInvitation(ctx, postgres.NewInvitation{AdvisoryID: a.ID, Email: email, Permission: perm,
		TokenHash: hash, ExpiresAt: grant.ExpiresAt(now), CreatedAt: now, CreatedByID: c.UserID})
	if err != nil {
		return grant.Invitation{}, "", err
	}
	e := advisoryAudit(c, a, audit.InvitationCreated, map[string]any{"invitation_id": inv.ID, "email": inv.Email,
		"permission": inv.Permission, "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)})
	if err := tx.InsertAudit(ctx, e); err != nil {
		return grant.Invitation{}, "", err
	}
	return inv, token, nil
}

// RevokeInvitation cancels an unredeemed invitation (invitation.revoked).
func (s *Grants) RevokeInvitation(ctx context.Context, c Caller, id advisory.ID, invitationID int64) error {
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, _, err := s.manage(ctx, tx, c, id)
		if err != nil {
			return err
		}
		inv, err := tx.InvitationByIDForUpdate(ctx, a.ID, invitationID)
		if err != nil {
			return err
		}
		if inv.Redeemed() {
			return grant.ErrAlreadyRedeemed
		}
		if err := tx.DeleteInvitation(ctx, inv.ID); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, advisoryAudit(c, a, audit.InvitationRevoked,
			map[string]any{"invitation_id": inv.ID, "email": inv.Email, "permission": inv.Permission}))
	})
	if err != nil {
		return fmt.Errorf("revoke invitation: %w", err)
	}
	return nil
}

// ResendInvitation re-sends an unredeemed invitation: a new token and a
// new 14-day window — the audited way to revive a lapsed link
// (INV-ACCESS-3, invitation.resent). Owners of the advisory, and admins.
func (s *Grants) ResendInvitation(ctx context.Context, c Caller, id advisory.ID, invitationID int64) (grant.Invitation, string, error) {
	var (
		inv   grant.Invitation
		token string
	)
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, _, err := s.manage(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if inv, err = tx.InvitationByIDForUpdate(ctx, a.ID, invitationID); err != nil {
			return err
		}
		if inv.Redeemed() {
			return grant.ErrAlreadyRedeemed
		}
		var hash []byte
		if token, hash, err = grant.NewToken(s.rand); err != nil {
			return err
		}
		prev := inv.ExpiresAt
		inv.ExpiresAt = grant.ExpiresAt(s.now())
		if err := tx.RenewInvitation(ctx, inv.ID, hash, inv.ExpiresAt); err != nil {
			return err
		}
		e := advisoryAudit(c, a, audit.InvitationResent, map[string]any{"invitation_id": inv.ID, "email": inv.Email})
		e.Previous = map[string]any{"expires_at": prev.UTC().Format(time.RFC3339)}
		e.New = map[string]any{"expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)}
		return tx.InsertAudit(ctx, e)
	})
	if err != nil {
		return grant.Invitation{}, "", fmt.Errorf("resend invitation: %w", err)
	}
	return inv, token, nil
}

// RedeemToken redeems the invitation whose link carries token for the
// signed-in caller c: refused unless c's (verified) account email matches
// the invited one case-insensitively (INV-ACCESS-2), the invitation is
// unexpired (INV-ACCESS-3) and unused. It returns the advisory's public id.
func (s *Grants) RedeemToken(ctx context.Context, c Caller, token string) (advisory.ID, error) {
	if c.UserID == 0 {
		return "", access.ErrUnauthenticated
	}
	if !grant.ValidTokenForm(token) {
		return "", grant.ErrInvalidToken
	}
	var id advisory.ID
	// The invitee cannot see the advisory yet: the token and the email
	// match are the authorization, so this runs as the system principal.
	err := s.db.InTx(postgres.AsSystem(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		inv, err := tx.InvitationByTokenHashForUpdate(ctx, grant.HashToken(token))
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, c.UserID)
		if err != nil {
			return err
		}
		if !u.IsActive {
			return access.ErrUnauthenticated
		}
		// An account's stored email is only ever written from a verified
		// claim (postgres.UpsertUserFromLogin).
		if err := inv.CheckRedeem(u.Email, true, s.now()); err != nil {
			return err
		}
		if err := redeem(ctx, tx, c, inv, s.now()); err != nil {
			return err
		}
		id, err = tx.AdvisoryPublicID(ctx, inv.AdvisoryID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("redeem invitation: %w", err)
	}
	return id, nil
}

// RedeemInvitationsForUser redeems, inside the sign-in transaction tx,
// every pending invitation for the user's email (redeem_invitations_for_user,
// requirements §6.7 step 4; operations.md §5 "first login … redeems
// matching unexpired invitations"): case-insensitive match (INV-ACCESS-2),
// only when the identity provider verified the email (INV-OIDC-6), never
// an expired one (INV-ACCESS-3). c is the signed-in user with the
// request's IP and User-Agent. It returns how many were redeemed.
func RedeemInvitationsForUser(ctx context.Context, tx *postgres.DB, c Caller, email string, emailVerified bool, now time.Time) (int, error) {
	if c.UserID == 0 || !emailVerified || email == "" {
		return 0, nil
	}
	invs, err := tx.UnredeemedInvitationsForEmail(ctx, email)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, inv := range invs {
		if err := inv.CheckRedeem(email, emailVerified, now); err != nil {
			if errors.Is(err, grant.ErrExpired) {
				continue
			}
			return n, err
		}
		if err := redeem(ctx, tx, c, inv, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// redeem turns inv into a grant for c.UserID and stamps it redeemed. An
// existing higher grant of the user is kept: redemption never demotes
// (INV-AUTH-4). Audited as invitation.redeemed.
func redeem(ctx context.Context, tx *postgres.DB, c Caller, inv grant.Invitation, now time.Time) error {
	if err := tx.MarkInvitationRedeemed(ctx, inv.ID, c.UserID, now); err != nil {
		return err
	}
	perm := inv.Permission
	existing, err := tx.GrantsOfAdvisory(ctx, inv.AdvisoryID)
	if err != nil {
		return err
	}
	for _, g := range existing {
		if g.PrincipalType == access.PrincipalUser && g.PrincipalID == c.UserID && g.Permission.Role().Rank() > perm.Role().Rank() {
			perm = g.Permission
		}
	}
	up, err := tx.UpsertGrant(ctx, inv.AdvisoryID, access.PrincipalUser, c.UserID, perm, inv.CreatedByID, now)
	if err != nil {
		return err
	}
	return tx.InsertAudit(ctx, audit.Entry{ActorID: c.UserID, Action: audit.InvitationRedeemed, AdvisoryID: inv.AdvisoryID,
		Metadata: map[string]any{"invitation_id": inv.ID, "email": inv.Email, "permission": inv.Permission,
			"grant_id": up.Grant.ID, "granted": perm},
		IP: c.IP, UserAgent: c.UserAgent})
}

// RedeemForUser is RedeemInvitationsForUser in a transaction of its own,
// for a caller outside the sign-in transaction.
func (s *Grants) RedeemForUser(ctx context.Context, c Caller, email string, emailVerified bool) (int, error) {
	var n int
	err := s.db.InTx(postgres.AsSystem(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		var err error
		n, err = RedeemInvitationsForUser(ctx, tx, c, email, emailVerified, s.now())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("redeem invitations: %w", err)
	}
	return n, nil
}
