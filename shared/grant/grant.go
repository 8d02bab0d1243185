// Package grant is the pure domain of per-advisory access grants and email
// invitations: the Grant and Invitation types, what may be granted, the
// single-use invitation token (only its SHA-256 is ever stored), the
// 14-day expiry and the redemption rules.
//
// Rules: one grant per (advisory, principal); re-granting updates it in
// place (INV-ACCESS-1). Only viewer and collaborator are grantable — owner
// is structural (INV-AUTH-3, INV-ACCESS-4). An invitation is redeemed only
// by a verified email that matches case-insensitively (INV-ACCESS-2), once,
// and before it expires (INV-ACCESS-3). Every change is audited by the use
// case (INV-ACCESS-5).
//
// Sources: requirements §4.6, §6.7, data-model §5, permissions §3.
package grant

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/identity"
)

// Grant is one AdvisoryAccessGrant row.
type Grant struct {
	ID            int64
	AdvisoryID    int64 // internal advisories.id
	PrincipalType access.PrincipalType
	PrincipalID   int64
	Permission    access.Permission
	CreatedAt     time.Time
	CreatedByID   int64 // 0 = none
	// The principal as read now (a grant may outlive it): a user's email
	// and display name, or a group's name. Missing reports that the
	// principal no longer exists.
	PrincipalEmail string
	PrincipalName  string
	Missing        bool
}

// Access is the grant as package access resolves it.
func (g Grant) Access() access.Grant {
	return access.Grant{PrincipalType: g.PrincipalType, PrincipalID: g.PrincipalID, Permission: g.Permission}
}

// Invitation is one PendingInvitation row. The token itself is never
// stored, only TokenHash.
type Invitation struct {
	ID           int64
	AdvisoryID   int64
	Email        string
	Permission   access.Permission
	ExpiresAt    time.Time
	CreatedAt    time.Time
	CreatedByID  int64
	RedeemedAt   *time.Time
	RedeemedByID int64
}

// DefaultLifetime is how long an invitation stays redeemable (INV-ACCESS-3).
const DefaultLifetime = 14 * 24 * time.Hour

// ExpiresAt is the expiry of an invitation created (or re-sent) at now.
func ExpiresAt(now time.Time) time.Time { return now.Add(DefaultLifetime) }

// Expired reports whether inv is past its expiry at now (expired ⇔ now ≥
// expires_at).
func (inv Invitation) Expired(now time.Time) bool { return !now.Before(inv.ExpiresAt) }

// Redeemed reports whether inv was redeemed.
func (inv Invitation) Redeemed() bool { return inv.RedeemedAt != nil }

// Pending reports whether inv is neither redeemed nor expired at now.
func (inv Invitation) Pending(now time.Time) bool { return !inv.Redeemed() && !inv.Expired(now) }

// Errors of the grant and invitation rules.
var (
	// ErrExpired: the invitation's window has passed (INV-ACCESS-3).
	ErrExpired = apperr.New(apperr.Conflict, "this invitation has expired")
	// ErrAlreadyRedeemed: the single-use invitation was used.
	ErrAlreadyRedeemed = apperr.New(apperr.Conflict, "this invitation was already used")
	// ErrEmailMismatch: the signed-in user's email is not the invited one
	// (INV-ACCESS-2).
	ErrEmailMismatch = apperr.New(apperr.Forbidden, "this invitation is for another email address")
	// ErrUnverifiedEmail: only a verified email redeems (INV-OIDC-6).
	ErrUnverifiedEmail = apperr.New(apperr.Forbidden, "the email address is not verified")
	// ErrInvalidToken: no invitation has this token.
	ErrInvalidToken = apperr.New(apperr.NotFound, "unknown invitation")
	// ErrInvalidEmail: not an email address.
	ErrInvalidEmail = apperr.New(apperr.Invalid, "invalid email address")
	// ErrInvalidPrincipal: neither a user nor a group.
	ErrInvalidPrincipal = apperr.New(apperr.Invalid, "invalid principal")
	// ErrAlreadyInvited: a pending invitation for this email exists on
	// this advisory (revoke or re-send it instead).
	ErrAlreadyInvited = apperr.New(apperr.Conflict, "this email address already has a pending invitation")
	// ErrNotFound: no such grant or invitation on this advisory.
	ErrNotFound = apperr.New(apperr.NotFound, "not found")
)

// CheckRedeem decides whether a user whose (verified) email is email may
// redeem inv at now: unredeemed, unexpired, and for this address compared
// case-insensitively.
func (inv Invitation) CheckRedeem(email string, verified bool, now time.Time) error {
	switch {
	case !verified:
		return ErrUnverifiedEmail
	case !identity.EqualEmail(strings.TrimSpace(inv.Email), strings.TrimSpace(email)):
		return ErrEmailMismatch
	case inv.Redeemed():
		return ErrAlreadyRedeemed
	case inv.Expired(now):
		return ErrExpired
	}
	return nil
}

// ParsePermission parses a grant or invitation permission; "owner" and
// anything else but viewer/collaborator are refused (INV-ACCESS-4).
func ParsePermission(s string) (access.Permission, error) {
	return access.ParsePermission(strings.TrimSpace(s))
}

// ParsePrincipalType parses "user" or "group".
func ParsePrincipalType(s string) (access.PrincipalType, error) {
	t := access.PrincipalType(strings.TrimSpace(s))
	if !t.Valid() {
		return "", fmt.Errorf("%w: %q (choose user or group)", ErrInvalidPrincipal, s)
	}
	return t, nil
}

// NormalizeEmail trims an invited address and checks its form: one plain
// addr-spec (no display name), at most identity.MaxEmail characters. The
// case is kept as typed; matching ignores it.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > identity.MaxEmail || strings.ContainsAny(s, " <>\"\r\n\t") {
		return "", ErrInvalidEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", ErrInvalidEmail
	}
	return s, nil
}

// TokenBytes is the entropy of an invitation token.
const TokenBytes = 32

// NewToken returns a fresh single-use invitation token — 32 random bytes
// from rnd (crypto/rand when nil), URL-safe base64 without padding — and
// its SHA-256, which is all the store keeps.
func NewToken(rnd io.Reader) (token string, hash []byte, err error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, TokenBytes)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", nil, fmt.Errorf("invitation token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// ValidTokenForm reports whether s has the shape of a token (before any
// lookup).
func ValidTokenForm(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == TokenBytes
}

// SameHash compares two token hashes in constant time.
func SameHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
