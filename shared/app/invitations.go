package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
	"github.com/eclipse-csi/advisoryhub/shared/mail"
	"github.com/eclipse-csi/advisoryhub/shared/notify"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/redact"
)

// Invitations (requirements §4.6, §6.7; data-model §5.2). An owner invites
// an email with no account yet; the invitee is granted the invited
// permission when they sign in with that address, verified and matching
// case-insensitively (INV-ACCESS-2), before the 14-day expiry
// (INV-ACCESS-3), once. The single-use token is 32 random bytes of which
// only the SHA-256 is stored. Creating or re-sending an invitation queues
// its email (KindSendInvitationEmail, InvitationMail), which mints the
// token the link carries at send time; the signed-in invitee redeems it
// (RedeemToken). Matching invitations are also redeemed at every sign-in
// (RedeemInvitationsForUser).

// Invite invites email to advisory id with permission perm (an owner).
// Audited as invitation.created; the invitation email is queued through
// the outbox in the same transaction (KindSendInvitationEmail). The
// returned token is for a caller that delivers the link itself (the API
// never shows it); the email carries a token of its own, minted at send
// time, which supersedes it.
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
	if err := enqueueInvitationEmail(ctx, tx, inv.ID); err != nil {
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
// (INV-ACCESS-3, invitation.resent) — and the invitation email queued
// again in the same transaction. The old link dies at once. A redeemed
// invitation is grant.ErrAlreadyRedeemed (Conflict); a revoked one no
// longer exists (grant.ErrNotFound). Owners of the advisory, and admins.
// The returned token is for a caller that delivers the link itself; the
// queued email mints its own (SendEmail), which supersedes it.
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
		if err := tx.InsertAudit(ctx, e); err != nil {
			return err
		}
		return enqueueInvitationEmail(ctx, tx, inv.ID)
	})
	if err != nil {
		return grant.Invitation{}, "", fmt.Errorf("resend invitation: %w", err)
	}
	return inv, token, nil
}

// RedeemToken redeems the invitation whose link carries token for the
// signed-in caller c: refused unless c's (verified) account email matches
// the invited one case-insensitively (INV-ACCESS-2), the invitation is
// unexpired (INV-ACCESS-3) and unused — or already redeemed by c itself,
// which changes nothing. It returns the advisory's public id.
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
		// Already redeemed by this very user — typically by the sign-in
		// that the link itself led through, which redeems matching
		// invitations (RedeemInvitationsForUser): the link still lands.
		if inv.Redeemed() && inv.RedeemedByID == c.UserID {
			id, err = tx.AdvisoryPublicID(ctx, inv.AdvisoryID)
			return err
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

// KindSendInvitationEmail is the notify-queue job that emails one
// invitation (operations §9 notifications.send_invitation_email). Its
// payload is the invitation id only: the token is minted at send time and
// never stored in a row or a message (only its hash is, INV-SECRET-2).
const KindSendInvitationEmail queue.Kind = "invitation.send_email"

// invitationEmailPayload is the KindSendInvitationEmail message body.
type invitationEmailPayload struct {
	InvitationID int64 `json:"invitation_id"`
}

// enqueueInvitationEmail queues the email of invitation id through the
// outbox, in the caller's transaction tx.
func enqueueInvitationEmail(ctx context.Context, tx *postgres.DB, id int64) error {
	_, err := tx.Enqueue(ctx, queue.Notify, KindSendInvitationEmail, invitationEmailPayload{InvitationID: id})
	return err
}

// InvitationMail is the notify worker's KindSendInvitationEmail handler.
type InvitationMail struct {
	cfg InvitationMailConfig
}

// InvitationMailConfig wires InvitationMail.
type InvitationMailConfig struct {
	DB     *postgres.DB
	Mailer mail.Sender
	// BaseURL (ADVISORYHUB_BASE_URL) is the public origin the link and the
	// sign-in address are built from.
	BaseURL string
	Logger  *slog.Logger     // a best-effort access-log write that failed
	Now     func() time.Time // nil: time.Now
	Rand    io.Reader        // tokens; nil: crypto/rand
}

// NewInvitationMail builds the handler.
func NewInvitationMail(cfg InvitationMailConfig) (*InvitationMail, error) {
	var errs []error
	if cfg.DB == nil {
		errs = append(errs, errors.New("invitation mail: DB is required"))
	}
	if cfg.Mailer == nil {
		errs = append(errs, errors.New("invitation mail: Mailer is required"))
	}
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("invitation mail: ADVISORYHUB_BASE_URL is required to build the invitation link"))
	}
	if cfg.Logger == nil {
		errs = append(errs, errors.New("invitation mail: Logger is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &InvitationMail{cfg: cfg}, nil
}

// Send is the KindSendInvitationEmail job, a plain handler (the effect
// leaves the database). In one transaction it loads the invitation —
// revoked (deleted), redeemed or expired: nothing to send, success — mints
// a fresh token and stores only its hash on the row (the expiry is kept),
// and commits; then it emails the link. Every send thus invalidates the
// link of any earlier one, and a redelivery after a crash sends a working
// link again. The email names the advisory id, the inviter, the
// permission and the expiry, never advisory content (requirements §4.7).
// Each delivered email is recorded as notification.sent in the access log,
// best effort.
func (s *InvitationMail) Send(ctx context.Context, m queue.Message) error {
	ctx = postgres.AsSystem(ctx) // the worker re-checks everything itself
	var p invitationEmailPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.InvitationID <= 0 {
		return queue.Permanent(fmt.Errorf("invitation email %s: bad payload", m.ID))
	}
	var (
		inv     grant.Invitation
		token   string
		pub     advisory.ID
		inviter string
		skip    bool
	)
	err := s.cfg.DB.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		skip = false
		var err error
		inv, err = tx.InvitationByIDForUpdate(ctx, 0, p.InvitationID)
		if errors.Is(err, grant.ErrNotFound) {
			skip = true // revoked
			return nil
		}
		if err != nil {
			return err
		}
		if !inv.Pending(s.cfg.Now()) {
			skip = true // redeemed or expired
			return nil
		}
		if pub, err = tx.AdvisoryPublicID(ctx, inv.AdvisoryID); err != nil {
			return err
		}
		if inv.CreatedByID != 0 {
			if u, err := tx.UserByID(ctx, inv.CreatedByID); err == nil {
				inviter = u.DisplayName
				if strings.TrimSpace(inviter) == "" {
					inviter = comment.MaskEmail(u.Email) // INV-PRIVACY-4
				}
			}
		}
		var hash []byte
		if token, hash, err = grant.NewToken(s.cfg.Rand); err != nil {
			return err
		}
		// The same expiry: only the hash changes (an email is not a re-send).
		return tx.RenewInvitation(ctx, inv.ID, hash, inv.ExpiresAt)
	})
	if err != nil {
		return fmt.Errorf("invitation email %d: %w", p.InvitationID, err)
	}
	if skip {
		return nil
	}
	subject, body := notify.InvitationEmail(notify.Invitation{
		Email: inv.Email, AdvisoryID: string(pub), Inviter: inviter, Permission: string(inv.Permission),
		ExpiresAt: inv.ExpiresAt, Link: s.cfg.BaseURL + "/invitations/" + token + "/", SignInURL: s.cfg.BaseURL + "/",
	})
	err = s.cfg.Mailer.Send(ctx, mail.Message{To: inv.Email, Subject: subject, Body: body, Sensitive: []string{token}})
	if errors.Is(err, mail.ErrRejected) || errors.Is(err, mail.ErrHeader) {
		return queue.Permanent(fmt.Errorf("invitation email %d: %w", inv.ID, err))
	}
	if err != nil {
		return fmt.Errorf("invitation email %d: %w", inv.ID, err)
	}
	e := audit.Entry{Action: audit.NotificationSent, AdvisoryID: inv.AdvisoryID,
		Metadata: map[string]any{"kind": "invitation", "recipient_email": inv.Email}}
	if lerr := s.cfg.DB.InsertAccessLog(ctx, e); lerr != nil {
		// Best effort (audit-actions §1.9): the email is out; the job succeeds.
		s.cfg.Logger.WarnContext(ctx, "notification.sent not recorded", "invitation_id", inv.ID, "error", redact.String(lerr.Error()))
	}
	return nil
}
