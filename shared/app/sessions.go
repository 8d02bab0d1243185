package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/identity"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Sessions are the sign-in use cases: a completed OIDC login becomes a
// mirrored user, a replaced group set, the redemption of the invitations
// waiting for the user's verified email and a fresh server-side session,
// in one transaction; sign-out ends it. Login, logout, failed login and
// step-up go to the access log.
type Sessions struct {
	db         *postgres.DB
	adminGroup string
	idle       time.Duration
}

// SessionsConfig wires Sessions.
type SessionsConfig struct {
	DB          *postgres.DB
	AdminGroup  string        // OIDC_ADMIN_GROUP
	IdleTimeout time.Duration // expired sessions are swept at sign-in
}

// NewSessions builds the sign-in use cases.
func NewSessions(cfg SessionsConfig) (*Sessions, error) {
	var errs []error
	if cfg.DB == nil {
		errs = append(errs, errors.New("sessions: DB is required"))
	}
	if cfg.AdminGroup == "" {
		errs = append(errs, errors.New("sessions: AdminGroup is required"))
	}
	if cfg.IdleTimeout <= 0 {
		errs = append(errs, errors.New("sessions: IdleTimeout is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Sessions{db: cfg.DB, adminGroup: cfg.AdminGroup, idle: cfg.IdleTimeout}, nil
}

// ErrAccountDisabled refuses the login of a banned (inactive) account
// (INV-AUTH-8).
var ErrAccountDisabled = apperr.New(apperr.Unauthenticated, "this account is disabled")

// SignInInput is a login the identity provider vouched for.
type SignInInput struct {
	Identity postgres.LoginIdentity
	// Groups are the bare group names parsed from the claim
	// (identity.GroupNamesFromClaim); they replace the mirror (INV-OIDC-1).
	Groups []string
	// Session is the new session (IDHash, CreatedAt, ExpiresAt, AuthTime,
	// IDToken); UserID and the step-up fields are filled in here.
	Session postgres.Session
	// Previous is the hash of the session this browser had, if any: it is
	// ended (the id rotates at every login).
	Previous []byte
	// StepUpFresh: this was a step-up round trip (prompt=login&max_age=0)
	// and the ID token's auth_time is within the maximum age. The stamp
	// also needs the previous session of the same user to have asked for
	// it (step_up_pending); the marker alone never counts.
	StepUpFresh bool
	IP          string
	UserAgent   string
}

// SignInResult is a completed sign-in.
type SignInResult struct {
	User   identity.User
	Groups []identity.Group
	// StepUp: step_up_auth_at was stamped; Next is where the step-up was
	// asked from.
	StepUp bool
	Next   string
	// Redeemed counts the invitations redeemed by this sign-in.
	Redeemed int
}

// SignIn mirrors the user and groups, redeems the pending invitations for
// the login's email when the provider verified it (case-insensitive match,
// unexpired only: INV-ACCESS-2/3, INV-OIDC-6; each audited
// invitation.redeemed) and opens the session. A refused
// login (banned account, unverified email) is recorded as auth.login_failed
// and returned as an Unauthenticated error.
func (s *Sessions) SignIn(ctx context.Context, in SignInInput) (SignInResult, error) {
	var res SignInResult
	sctx := postgres.AsSystem(ctx) // nobody is signed in yet; sign-in is trusted plumbing
	err := s.db.InTx(sctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		res = SignInResult{}
		lr, err := tx.UpsertUserFromLogin(ctx, in.Identity)
		if err != nil {
			return err
		}
		if !lr.User.IsActive {
			return ErrAccountDisabled
		}
		groups, err := tx.ReplaceUserGroups(ctx, lr.User.ID, in.Groups, s.adminGroup)
		if err != nil {
			return err
		}
		if lr.ShadowLinked {
			if err := tx.InsertAudit(ctx, audit.Entry{ActorID: lr.User.ID, Action: audit.RosterShadowLinked,
				Metadata: map[string]any{"user_id": lr.User.ID}, IP: in.IP, UserAgent: in.UserAgent}); err != nil {
				return err
			}
		}
		c := Caller{UserID: lr.User.ID, IP: in.IP, UserAgent: in.UserAgent}
		if res.Redeemed, err = RedeemInvitationsForUser(ctx, tx, c, in.Identity.Email, in.Identity.EmailVerified, in.Session.CreatedAt); err != nil {
			return err
		}
		sess := in.Session
		sess.UserID = lr.User.ID
		sess.StepUpAuthAt, sess.StepUpPending, sess.StepUpNext = nil, false, ""
		if len(in.Previous) > 0 && !bytes.Equal(in.Previous, sess.IDHash) {
			prev, err := tx.DeleteSession(ctx, in.Previous)
			if err != nil {
				return err
			}
			if prev.UserID == lr.User.ID {
				if in.StepUpFresh && prev.StepUpPending {
					at := sess.CreatedAt
					sess.StepUpAuthAt = &at
					res.StepUp, res.Next = true, prev.StepUpNext
				} else if prev.StepUpPending {
					// Still waiting for a real step-up: keep asking.
					sess.StepUpPending, sess.StepUpNext = true, prev.StepUpNext
				}
			}
		}
		if _, err := tx.DeleteExpiredSessions(ctx, sess.CreatedAt, s.idle); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, sess); err != nil {
			return err
		}
		action := audit.AuthLogin
		if res.StepUp {
			action = audit.AuthStepUpCompleted
		}
		if err := tx.InsertAudit(ctx, audit.Entry{ActorID: lr.User.ID, Action: action,
			Metadata: map[string]any{"user_id": lr.User.ID}, IP: in.IP, UserAgent: in.UserAgent}); err != nil {
			return err
		}
		res.User, res.Groups = lr.User, groups
		return nil
	})
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.Unauthenticated || k == apperr.Conflict || k == apperr.Invalid {
			s.RecordLoginFailure(ctx, reasonOf(err), in.IP, in.UserAgent)
			return SignInResult{}, apperr.Wrap(apperr.Unauthenticated, "sign-in refused", err)
		}
		return SignInResult{}, fmt.Errorf("sign in: %w", err)
	}
	return res, nil
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrAccountDisabled):
		return "account_disabled"
	case errors.Is(err, postgres.ErrUnverifiedEmail):
		return "email_not_verified"
	}
	return "rejected_claims"
}

// RecordLoginFailure writes auth.login_failed (IdP error, rejected claims,
// refused account). It is best effort: a failure to record is logged, never
// shown. reason is a short code, never a token or an email.
func (s *Sessions) RecordLoginFailure(ctx context.Context, reason, ip, userAgent string) {
	err := s.db.InsertAccessLog(ctx, audit.Entry{Action: audit.AuthLoginFailed,
		Metadata: map[string]any{"reason": reason}, IP: ip, UserAgent: userAgent})
	if err != nil {
		obs.Logger(ctx).WarnContext(ctx, "login failure not recorded", "error", err.Error())
	}
}

// SignOut ends the session with this id hash and records auth.logout. It
// returns the ended session (zero when there was none).
func (s *Sessions) SignOut(ctx context.Context, idHash []byte, ip, userAgent string) (postgres.Session, error) {
	var ended postgres.Session
	err := s.db.InTx(postgres.AsSystem(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		var err error
		if ended, err = tx.DeleteSession(ctx, idHash); err != nil || ended.UserID == 0 {
			return err
		}
		return tx.InsertAudit(ctx, audit.Entry{ActorID: ended.UserID, Action: audit.AuthLogout,
			Metadata: map[string]any{"user_id": ended.UserID}, IP: ip, UserAgent: userAgent})
	})
	if err != nil {
		return postgres.Session{}, fmt.Errorf("sign out: %w", err)
	}
	return ended, nil
}
