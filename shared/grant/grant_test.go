package grant_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
)

func TestNewToken(t *testing.T) {
	tok, hash, err := grant.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || !grant.ValidTokenForm(tok) {
		t.Errorf("token %q: want 43 URL-safe base64 characters of 32 bytes", tok)
	}
	want := sha256.Sum256([]byte(tok))
	if !bytes.Equal(hash, want[:]) || !bytes.Equal(grant.HashToken(tok), hash) {
		t.Error("hash is not the token's SHA-256")
	}
	tok2, _, _ := grant.NewToken(nil)
	if tok == tok2 {
		t.Error("two tokens are equal")
	}
	fixed := bytes.Repeat([]byte{0xfb}, 32)
	tok3, _, err := grant.NewToken(bytes.NewReader(fixed))
	if err != nil || tok3 != "-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s" {
		t.Errorf("deterministic token = %q, %v", tok3, err)
	}
	if _, _, err := grant.NewToken(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("short randomness accepted")
	}
	for _, bad := range []string{"", "abc", tok + "x", "+/+/"} {
		if grant.ValidTokenForm(bad) {
			t.Errorf("ValidTokenForm(%q) = true", bad)
		}
	}
}

// INV-ACCESS-4: owner is never grantable.
func TestParsePermission(t *testing.T) {
	for in, want := range map[string]access.Permission{"viewer": access.PermissionViewer, " collaborator ": access.PermissionCollaborator} {
		got, err := grant.ParsePermission(in)
		if err != nil || got != want {
			t.Errorf("ParsePermission(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"owner", "Owner", "admin", "", "VIEWER"} {
		_, err := grant.ParsePermission(bad)
		if !errors.Is(err, access.ErrInvalidPermission) || apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("ParsePermission(%q): %v, want invalid permission", bad, err)
		}
	}
}

func TestParsePrincipalType(t *testing.T) {
	if p, err := grant.ParsePrincipalType("group"); err != nil || p != access.PrincipalGroup {
		t.Errorf("group: %q %v", p, err)
	}
	if _, err := grant.ParsePrincipalType("owner"); !errors.Is(err, grant.ErrInvalidPrincipal) {
		t.Errorf("owner principal: %v", err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{" Alice@Example.org ": "Alice@Example.org", "a.b+c@x.io": "a.b+c@x.io"} {
		if got, err := grant.NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "alice", "Alice <a@b.org>", "a@b.org, c@d.org", "a @b.org", "@b.org"} {
		if _, err := grant.NormalizeEmail(bad); !errors.Is(err, grant.ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q): %v", bad, err)
		}
	}
}

// INV-ACCESS-2 (case-insensitive), INV-ACCESS-3 (expiry), single use,
// another email.
func TestCheckRedeem(t *testing.T) {
	now := time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	inv := grant.Invitation{Email: "Alice@Example.org", ExpiresAt: grant.ExpiresAt(created)}
	redeemedAt := now.Add(-time.Minute)
	used := inv
	used.RedeemedAt = &redeemedAt
	cases := []struct {
		name     string
		inv      grant.Invitation
		email    string
		verified bool
		at       time.Time
		want     error
	}{
		{"same case", inv, "Alice@Example.org", true, now, nil},
		{"other case", inv, "alice@EXAMPLE.ORG", true, now, nil},
		{"padded", inv, " alice@example.org ", true, now, nil},
		{"other email", inv, "mallory@example.org", true, now, grant.ErrEmailMismatch},
		{"unverified", inv, "alice@example.org", false, now, grant.ErrUnverifiedEmail},
		{"reuse", used, "alice@example.org", true, now, grant.ErrAlreadyRedeemed},
		{"just before expiry", inv, "alice@example.org", true, inv.ExpiresAt.Add(-time.Nanosecond), nil},
		{"at expiry", inv, "alice@example.org", true, inv.ExpiresAt, grant.ErrExpired},
		{"after expiry", inv, "alice@example.org", true, created.Add(15 * 24 * time.Hour), grant.ErrExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.inv.CheckRedeem(tc.email, tc.verified, tc.at); !errors.Is(err, tc.want) {
				t.Errorf("CheckRedeem = %v, want %v", err, tc.want)
			}
		})
	}
	if got := grant.ExpiresAt(created).Sub(created); got != 14*24*time.Hour {
		t.Errorf("lifetime %v, want 14 days", got)
	}
	if !inv.Pending(now) || used.Pending(now) || inv.Pending(inv.ExpiresAt) {
		t.Error("Pending disagrees with the rules")
	}
}
