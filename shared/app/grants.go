package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Grants are the access-management use cases (requirements §4.6, §6.7):
// per-advisory grants to users and groups, and email invitations
// (invitations.go). Every mutation needs can_grant_access (owner, any
// state), runs on the locked advisory row and is audited in the same
// transaction (INV-ACCESS-5). Only viewer and collaborator can be granted;
// "owner" is refused before anything is written (INV-ACCESS-4).
type Grants struct {
	db   *postgres.DB
	now  func() time.Time
	rand io.Reader
}

// GrantsConfig wires Grants.
type GrantsConfig struct {
	DB   *postgres.DB
	Now  func() time.Time // nil: time.Now
	Rand io.Reader        // invitation tokens; nil: crypto/rand
}

// NewGrants builds the access-management use cases.
func NewGrants(cfg GrantsConfig) (*Grants, error) {
	if cfg.DB == nil {
		return nil, errors.New("grants: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Grants{db: cfg.DB, now: cfg.Now, rand: cfg.Rand}, nil
}

// AccessPanel is an advisory's grants and pending invitations.
type AccessPanel struct {
	Grants  []grant.Grant
	Pending []grant.Invitation
}

// List returns the access panel of advisory id (owners only).
func (s *Grants) List(ctx context.Context, c Caller, id advisory.ID) (AccessPanel, error) {
	var p AccessPanel
	err := readVisible(ctx, s.db, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		err := access.Check(c.Subject(), access.CapManageAccess, t)
		if err != nil {
			return err
		}
		if p.Grants, err = tx.GrantsOfAdvisory(ctx, a.ID); err != nil {
			return err
		}
		p.Pending, err = tx.PendingInvitations(ctx, a.ID, s.now())
		return err
	})
	return p, err
}

// GrantRequest names whom to grant what. Exactly one principal: a user by
// UserID or Email, or a group by GroupName. A user email with no account
// becomes an invitation.
type GrantRequest struct {
	PrincipalType access.PrincipalType
	UserID        int64
	Email         string
	GroupName     string
	// Permission is the raw choice; anything but viewer or collaborator —
	// "owner" in particular — is refused (INV-ACCESS-4).
	Permission string
}

// GrantResult is what Grant did: a grant created or changed in place, or
// an invitation created (with its token, for the caller that delivers it).
type GrantResult struct {
	Grant      *grant.Grant
	Created    bool // a new grant row
	Changed    bool // an existing grant's permission changed
	Invitation *grant.Invitation
	Token      string
}

// ErrUnknownGroup: the named group does not exist (API 404 unknown_group).
var ErrUnknownGroup = apperr.New(apperr.NotFound, "unknown group")

// Grant grants access on advisory id. Re-granting a principal updates its
// one row in place (INV-ACCESS-1); re-granting the same permission changes
// and records nothing. A non-admin owner may grant only to groups they
// belong to (permissions §3: group pickers). Audited as access.granted
// (metadata updated=true for an in-place change) or invitation.created.
func (s *Grants) Grant(ctx context.Context, c Caller, id advisory.ID, req GrantRequest) (GrantResult, error) {
	var res GrantResult
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		res = GrantResult{}
		a, _, err := s.manage(ctx, tx, c, id)
		if err != nil {
			return err
		}
		perm, err := grant.ParsePermission(req.Permission)
		if err != nil {
			return err
		}
		var principalID int64
		switch req.PrincipalType {
		case access.PrincipalUser:
			switch {
			case req.UserID > 0:
				u, err := tx.UserByID(ctx, req.UserID)
				if err != nil {
					return fmt.Errorf("%w: unknown user", grant.ErrInvalidPrincipal)
				}
				principalID = u.ID
			case strings.TrimSpace(req.Email) != "":
				email, err := grant.NormalizeEmail(req.Email)
				if err != nil {
					return err
				}
				u, err := tx.UserByEmail(ctx, email)
				if errors.Is(err, postgres.ErrUserNotFound) {
					inv, token, err := s.invite(ctx, tx, c, a, email, perm)
					if err != nil {
						return err
					}
					res.Invitation, res.Token = &inv, token
					return nil
				}
				if err != nil {
					return err
				}
				principalID = u.ID
			default:
				return fmt.Errorf("%w: a user id or email is required", grant.ErrInvalidPrincipal)
			}
		case access.PrincipalGroup:
			name := strings.TrimSpace(req.GroupName)
			if name == "" {
				return fmt.Errorf("%w: a group is required", grant.ErrInvalidPrincipal)
			}
			g, err := tx.GroupByName(ctx, name)
			if errors.Is(err, postgres.ErrGroupNotFound) {
				return ErrUnknownGroup
			}
			if err != nil {
				return err
			}
			if !c.Subject().Admin() && !slices.Contains(c.GroupIDs, g.ID) {
				return apperr.New(apperr.Forbidden, "you can grant access only to groups you belong to")
			}
			principalID = g.ID
		default:
			return grant.ErrInvalidPrincipal
		}
		up, err := tx.UpsertGrant(ctx, a.ID, req.PrincipalType, principalID, perm, c.UserID, s.now())
		if err != nil {
			return err
		}
		g := up.Grant
		res.Grant, res.Created, res.Changed = &g, up.Created, !up.Created && up.Previous != perm
		if !res.Created && !res.Changed {
			return nil
		}
		return tx.InsertAudit(ctx, grantAudit(c, a, g, up))
	})
	if err != nil {
		return GrantResult{}, fmt.Errorf("grant access: %w", err)
	}
	return res, nil
}

// Revoke removes a grant (access.revoked).
func (s *Grants) Revoke(ctx context.Context, c Caller, id advisory.ID, grantID int64) (grant.Grant, error) {
	var g grant.Grant
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, _, err := s.manage(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if g, err = tx.DeleteGrant(ctx, a.ID, grantID); err != nil {
			return err
		}
		e := advisoryAudit(c, a, audit.AccessRevoked, map[string]any{
			"grant_id": g.ID, "principal_type": g.PrincipalType, "principal_id": g.PrincipalID, "permission": g.Permission})
		e.Previous = map[string]any{"principal_type": g.PrincipalType, "principal_id": g.PrincipalID, "permission": g.Permission}
		return tx.InsertAudit(ctx, e)
	})
	if err != nil {
		return grant.Grant{}, fmt.Errorf("revoke access: %w", err)
	}
	return g, nil
}

// manage locks advisory id and checks that c may manage its access.
func (s *Grants) manage(ctx context.Context, tx *postgres.DB, c Caller, id advisory.ID) (*advisory.Advisory, access.Target, error) {
	a, err := tx.AdvisoryByIDForUpdate(ctx, id)
	if err != nil {
		return nil, access.Target{}, err
	}
	t, err := visible(ctx, tx, c, a)
	if err != nil {
		return nil, access.Target{}, err
	}
	if err := access.Check(c.Subject(), access.CapManageAccess, t); err != nil {
		return nil, access.Target{}, err
	}
	return a, t, nil
}

// grantAudit is the access.granted row of an upsert.
func grantAudit(c Caller, a *advisory.Advisory, g grant.Grant, up postgres.GrantUpsert) audit.Entry {
	e := advisoryAudit(c, a, audit.AccessGranted, map[string]any{
		"grant_id": g.ID, "principal_type": g.PrincipalType, "principal_id": g.PrincipalID,
		"permission": g.Permission, "updated": !up.Created})
	e.New = map[string]any{"principal_type": g.PrincipalType, "principal_id": g.PrincipalID, "permission": g.Permission}
	if !up.Created {
		e.Previous = map[string]any{"principal_type": g.PrincipalType, "principal_id": g.PrincipalID, "permission": up.Previous}
	}
	return e
}
