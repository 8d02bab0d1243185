package app_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newGrantWorld(t *testing.T) (*advFixture, *app.Grants, *fakeClock) {
	t.Helper()
	f := newAdvFixture(t)
	clk := &fakeClock{t: time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)}
	g, err := app.NewGrants(app.GrantsConfig{DB: f.db, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f, g, clk
}

func (f *advFixture) grantRows(t *testing.T, a *advisory.Advisory) []string {
	t.Helper()
	var out []string
	f.exec(t, func(tx *postgres.DB) error {
		gs, err := tx.GrantsOfAdvisory(f.sys, a.ID)
		for _, g := range gs {
			out = append(out, string(g.PrincipalType)+":"+itoa(g.PrincipalID)+":"+string(g.Permission))
		}
		return err
	})
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (f *advFixture) actions(t *testing.T, a *advisory.Advisory, prefixes ...string) []string {
	t.Helper()
	var out []string
	for _, r := range f.audits(t, a) {
		for _, p := range prefixes {
			if strings.HasPrefix(r.Action, p) {
				out = append(out, r.Action)
			}
		}
	}
	return out
}

// INV-ACCESS-1 (one row per principal, updated in place), INV-ACCESS-4
// (owner refused, nothing written), INV-ACCESS-5 (every change audited).
func TestGrantUniquenessAndAudit(t *testing.T) {
	t.Parallel()
	f, gs, _ := newGrantWorld(t)
	ctx := context.Background()
	a := f.lanternDraft(t) // fixture grants: collab (user, collaborator), viewer group (viewer)
	stranger := app.GrantRequest{PrincipalType: access.PrincipalUser, UserID: f.stranger.UserID}
	type step struct {
		name    string
		caller  app.Caller
		req     app.GrantRequest
		perm    string
		kind    apperr.Kind
		created bool
		changed bool
		audited []string
	}
	with := func(r app.GrantRequest, p string) app.GrantRequest { r.Permission = p; return r }
	steps := []step{
		{name: "create", caller: f.owner, req: with(stranger, "viewer"), created: true, audited: []string{"access.granted"}},
		{name: "same again: no change, no audit", caller: f.owner, req: with(stranger, "viewer")},
		{name: "upgrade in place", caller: f.owner, req: with(stranger, "collaborator"), changed: true, audited: []string{"access.granted"}},
		{name: "by email, any case, same row", caller: f.owner, req: app.GrantRequest{PrincipalType: access.PrincipalUser, Email: "USER6@example.org", Permission: "viewer"}, changed: true, audited: []string{"access.granted"}},
		{name: "owner refused", caller: f.owner, req: with(stranger, "owner"), kind: apperr.Invalid},
		{name: "Owner refused", caller: f.admin, req: with(stranger, "Owner"), kind: apperr.Invalid},
		{name: "unknown permission", caller: f.owner, req: with(stranger, "admin"), kind: apperr.Invalid},
		{name: "collaborator may not grant", caller: f.collab, req: with(stranger, "viewer"), kind: apperr.Forbidden},
		{name: "viewer may not grant", caller: f.viewer, req: with(stranger, "viewer"), kind: apperr.Forbidden},
		{name: "no role: not found", caller: f.jettyOwner, req: with(stranger, "viewer"), kind: apperr.NotFound},
		{name: "group the owner belongs to", caller: f.owner, req: app.GrantRequest{PrincipalType: access.PrincipalGroup, GroupName: "lantern-security", Permission: "viewer"}, created: true, audited: []string{"access.granted"}},
		{name: "group the owner is not in", caller: f.owner, req: app.GrantRequest{PrincipalType: access.PrincipalGroup, GroupName: "jetty-security", Permission: "viewer"}, kind: apperr.Forbidden},
		{name: "admin grants any group", caller: f.admin, req: app.GrantRequest{PrincipalType: access.PrincipalGroup, GroupName: "jetty-security", Permission: "collaborator"}, created: true, audited: []string{"access.granted"}},
		{name: "unknown group", caller: f.admin, req: app.GrantRequest{PrincipalType: access.PrincipalGroup, GroupName: "nope", Permission: "viewer"}, kind: apperr.NotFound},
		{name: "bad principal", caller: f.owner, req: app.GrantRequest{PrincipalType: "owner", UserID: 1, Permission: "viewer"}, kind: apperr.Invalid},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			beforeRows, beforeAudit := f.grantRows(t, a), f.actions(t, a, "access.", "invitation.")
			res, err := gs.Grant(ctx, st.caller, a.AdvisoryID, st.req)
			afterRows, afterAudit := f.grantRows(t, a), f.actions(t, a, "access.", "invitation.")
			if apperr.KindOf(err) != st.kind {
				t.Fatalf("Grant: %v (kind %v), want kind %v", err, apperr.KindOf(err), st.kind)
			}
			if st.kind == apperr.Invalid && st.req.Permission != "" && strings.EqualFold(st.req.Permission, "owner") && !errors.Is(err, access.ErrInvalidPermission) {
				t.Errorf("owner refused with %v, want access.ErrInvalidPermission", err)
			}
			if st.kind != 0 {
				if !cmp.Equal(beforeRows, afterRows) || len(afterAudit) != len(beforeAudit) {
					t.Errorf("a refused grant changed something: rows %v → %v, audit %d → %d", beforeRows, afterRows, len(beforeAudit), len(afterAudit))
				}
				return
			}
			if res.Created != st.created || res.Changed != st.changed {
				t.Errorf("created %v changed %v, want %v %v", res.Created, res.Changed, st.created, st.changed)
			}
			if got := afterAudit[len(beforeAudit):]; strings.Join(got, ",") != strings.Join(st.audited, ",") {
				t.Errorf("audit %v, want %v", got, st.audited)
			}
			if wantRows := len(beforeRows); st.created {
				if len(afterRows) != wantRows+1 {
					t.Errorf("rows %d → %d", wantRows, len(afterRows))
				}
			} else if len(afterRows) != wantRows {
				t.Errorf("rows %d → %d: a re-grant must update in place", wantRows, len(afterRows))
			}
		})
	}
	// The database refuses a second row and an owner row whatever the
	// application does.
	for _, stmt := range []string{
		`INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission) VALUES ($1, 'user', ` + itoa(f.stranger.UserID) + `, 'viewer')`,
		`INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission) VALUES ($1, 'user', 999999, 'owner')`,
	} {
		err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error { _, err := tx.Exec(f.sys, stmt, a.ID); return err })
		if err == nil {
			t.Errorf("database accepted %s", stmt)
		}
	}
	// Revocation is audited too.
	p, err := gs.List(ctx, f.owner, a.AdvisoryID)
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.actions(t, a, "access.revoked"))
	if _, err := gs.Revoke(ctx, f.owner, a.AdvisoryID, p.Grants[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := gs.Revoke(ctx, f.owner, a.AdvisoryID, p.Grants[0].ID); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("second revoke: %v", err)
	}
	if n := len(f.actions(t, a, "access.revoked")); n != before+1 {
		t.Errorf("%d access.revoked rows, want %d", n, before+1)
	}
	if _, err := gs.List(ctx, f.collab, a.AdvisoryID); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("collaborator lists grants: %v", err)
	}
}

func (f *advFixture) newUser(t *testing.T, email string) app.Caller {
	t.Helper()
	var id int64
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `INSERT INTO users (email) VALUES ($1) RETURNING id`, email).Scan(&id)
	})
	return app.Caller{UserID: id, IP: "198.51.100.4", UserAgent: "invitee"}
}

// Invitation redemption (INV-ACCESS-2 case, INV-ACCESS-3 expiry, single
// use, another email), by link token and at sign-in.
func TestInvitationRedemption(t *testing.T) {
	t.Parallel()
	f, gs, clk := newGrantWorld(t)
	ctx := context.Background()
	invite := func(t *testing.T, email, perm string) (*advisory.Advisory, string) {
		t.Helper()
		a := f.lanternDraft(t)
		inv, token, err := gs.Invite(ctx, f.owner, a.AdvisoryID, email, perm)
		if err != nil {
			t.Fatal(err)
		}
		if !inv.Pending(clk.Now()) || !grant.ValidTokenForm(token) || inv.ExpiresAt.Sub(clk.Now()) != 14*24*time.Hour {
			t.Fatalf("invitation %+v token %q", inv, token)
		}
		return a, token
	}
	cases := []struct {
		name string
		run  func(t *testing.T) (*advisory.Advisory, app.Caller, error)
		want error             // nil: redeemed
		role access.Permission // the user's grant afterwards ("" none)
	}{
		{"token, same case", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, tok := invite(t, "alice1@example.org", "collaborator")
			u := f.newUser(t, "alice1@example.org")
			_, err := gs.RedeemToken(ctx, u, tok)
			return a, u, err
		}, nil, access.PermissionCollaborator},
		{"token, other case", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, tok := invite(t, "Alice2@Example.ORG", "viewer")
			u := f.newUser(t, "alice2@example.org")
			_, err := gs.RedeemToken(ctx, u, tok)
			return a, u, err
		}, nil, access.PermissionViewer},
		{"token, another email", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, tok := invite(t, "alice3@example.org", "viewer")
			u := f.newUser(t, "mallory3@example.org")
			_, err := gs.RedeemToken(ctx, u, tok)
			return a, u, err
		}, grant.ErrEmailMismatch, ""},
		{"token, reused", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, tok := invite(t, "alice4@example.org", "viewer")
			u := f.newUser(t, "alice4@example.org")
			if _, err := gs.RedeemToken(ctx, u, tok); err != nil {
				t.Fatal(err)
			}
			// The redeemer following the link again (the sign-in it led
			// through already redeemed it) lands without a second effect.
			if _, err := gs.RedeemToken(ctx, u, tok); err != nil {
				t.Fatalf("the redeemer again: %v", err)
			}
			var n int
			f.exec(t, func(tx *postgres.DB) error {
				return tx.QueryRow(f.sys, `SELECT count(*) FROM audit_log WHERE advisory_id = $1 AND action = 'invitation.redeemed'`, a.ID).Scan(&n)
			})
			if n != 1 {
				t.Errorf("%d invitation.redeemed rows, want 1", n)
			}
			// Anyone else is refused: single use (INV-ACCESS-2).
			other := f.newUser(t, "alice4.other@example.org")
			_, err := gs.RedeemToken(ctx, other, tok)
			return a, u, err
		}, grant.ErrEmailMismatch, access.PermissionViewer},
		{"token, expired", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, tok := invite(t, "alice5@example.org", "viewer")
			u := f.newUser(t, "alice5@example.org")
			clk.Add(14 * 24 * time.Hour)
			defer clk.Add(-14 * 24 * time.Hour)
			_, err := gs.RedeemToken(ctx, u, tok)
			return a, u, err
		}, grant.ErrExpired, ""},
		{"token, unknown", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, _ := invite(t, "alice6@example.org", "viewer")
			u := f.newUser(t, "alice6@example.org")
			tok, _, _ := grant.NewToken(nil)
			_, err := gs.RedeemToken(ctx, u, tok)
			return a, u, err
		}, grant.ErrInvalidToken, ""},
		{"token, anonymous", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, tok := invite(t, "alice7@example.org", "viewer")
			_, err := gs.RedeemToken(ctx, app.Caller{}, tok)
			return a, app.Caller{}, err
		}, access.ErrUnauthenticated, ""},
		{"sign-in, other case, verified", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, _ := invite(t, "BOB8@example.org", "collaborator")
			u := f.newUser(t, "bob8@EXAMPLE.org")
			k, err := gs.RedeemForUser(ctx, u, "bob8@EXAMPLE.org", true)
			if err == nil && k != 1 {
				t.Errorf("redeemed %d", k)
			}
			return a, u, err
		}, nil, access.PermissionCollaborator},
		{"sign-in, unverified email", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, _ := invite(t, "bob9@example.org", "viewer")
			u := f.newUser(t, "bob9@example.org")
			k, err := gs.RedeemForUser(ctx, u, "bob9@example.org", false)
			if k != 0 {
				t.Errorf("redeemed %d", k)
			}
			return a, u, err
		}, nil, ""},
		{"sign-in, expired", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, _ := invite(t, "bob10@example.org", "viewer")
			u := f.newUser(t, "bob10@example.org")
			clk.Add(15 * 24 * time.Hour)
			defer clk.Add(-15 * 24 * time.Hour)
			k, err := gs.RedeemForUser(ctx, u, "bob10@example.org", true)
			if k != 0 {
				t.Errorf("redeemed %d", k)
			}
			return a, u, err
		}, nil, ""},
		{"sign-in, another email", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, _ := invite(t, "bob11@example.org", "viewer")
			u := f.newUser(t, "bob11@example.com")
			k, err := gs.RedeemForUser(ctx, u, "bob11@example.com", true)
			if k != 0 {
				t.Errorf("redeemed %d", k)
			}
			return a, u, err
		}, nil, ""},
		{"sign-in, never demotes", func(t *testing.T) (*advisory.Advisory, app.Caller, error) {
			a, _ := invite(t, "bob12@example.org", "viewer")
			u := f.newUser(t, "bob12@example.org")
			if _, err := gs.Grant(ctx, f.owner, a.AdvisoryID, app.GrantRequest{PrincipalType: access.PrincipalUser, UserID: u.UserID, Permission: "collaborator"}); err != nil {
				t.Fatal(err)
			}
			_, err := gs.RedeemForUser(ctx, u, "bob12@example.org", true)
			return a, u, err
		}, nil, access.PermissionCollaborator},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, u, err := tc.run(t)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var got access.Permission
			f.exec(t, func(tx *postgres.DB) error {
				gs, err := tx.GrantsOfAdvisory(f.sys, a.ID)
				for _, g := range gs {
					if g.PrincipalType == access.PrincipalUser && u.UserID != 0 && g.PrincipalID == u.UserID {
						got = g.Permission
					}
				}
				return err
			})
			if got != tc.role {
				t.Errorf("grant afterwards %q, want %q", got, tc.role)
			}
			redeemed := len(f.actions(t, a, "invitation.redeemed"))
			want := 0
			if tc.role != "" {
				want = 1 // every case that ends with a grant redeemed exactly once
			}
			if redeemed != want {
				t.Errorf("%d invitation.redeemed rows, want %d", redeemed, want)
			}
		})
	}
}

func TestInvitationLifecycle(t *testing.T) {
	t.Parallel()
	f, gs, clk := newGrantWorld(t)
	ctx := context.Background()
	a := f.lanternDraft(t)
	// A grant by email with no account becomes an invitation.
	res, err := gs.Grant(ctx, f.owner, a.AdvisoryID, app.GrantRequest{PrincipalType: access.PrincipalUser, Email: "New@Example.org", Permission: "collaborator"})
	if err != nil || res.Invitation == nil || res.Grant != nil || res.Token == "" {
		t.Fatalf("grant by unknown email: %+v %v", res, err)
	}
	// Only the hash is stored.
	f.exec(t, func(tx *postgres.DB) error {
		var n int
		err := tx.QueryRow(f.sys, `SELECT count(*) FROM invitations WHERE token_hash = $1 AND email = 'New@Example.org'`, grant.HashToken(res.Token)).Scan(&n)
		if n != 1 {
			t.Errorf("stored hash rows %d", n)
		}
		var leaked int
		_ = tx.QueryRow(f.sys, `SELECT count(*) FROM outbox WHERE payload::text LIKE '%' || $1 || '%'`, res.Token).Scan(&leaked)
		if leaked != 0 {
			t.Error("the token reached the outbox")
		}
		return err
	})
	if _, _, err := gs.Invite(ctx, f.owner, a.AdvisoryID, "new@example.ORG", "viewer"); !errors.Is(err, grant.ErrAlreadyInvited) {
		t.Errorf("second invitation: %v", err)
	}
	for _, bad := range []struct{ email, perm string }{{"x@example.org", "owner"}, {"not-an-email", "viewer"}} {
		if _, _, err := gs.Invite(ctx, f.owner, a.AdvisoryID, bad.email, bad.perm); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("Invite(%q, %q): %v", bad.email, bad.perm, err)
		}
	}
	if _, _, err := gs.Invite(ctx, f.collab, a.AdvisoryID, "y@example.org", "viewer"); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("collaborator invites: %v", err)
	}
	// Lapsed: re-send revives it with a new token; the old one is dead.
	clk.Add(20 * 24 * time.Hour)
	p, _ := gs.List(ctx, f.owner, a.AdvisoryID)
	if len(p.Pending) != 0 {
		t.Errorf("expired invitation still pending: %+v", p.Pending)
	}
	inv, tok2, err := gs.ResendInvitation(ctx, f.owner, a.AdvisoryID, res.Invitation.ID)
	if err != nil || !inv.Pending(clk.Now()) {
		t.Fatalf("resend: %+v %v", inv, err)
	}
	u := f.newUser(t, "new@example.org")
	if _, err := gs.RedeemToken(ctx, u, res.Token); !errors.Is(err, grant.ErrInvalidToken) {
		t.Errorf("old token after resend: %v", err)
	}
	if id, err := gs.RedeemToken(ctx, u, tok2); err != nil || id != a.AdvisoryID {
		t.Fatalf("redeem: %v %v", id, err)
	}
	// Revocation of a pending invitation.
	inv2, tok4, err := gs.Invite(ctx, f.owner, a.AdvisoryID, "gone@example.org", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.RevokeInvitation(ctx, f.owner, a.AdvisoryID, inv2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := gs.RedeemToken(ctx, f.newUser(t, "gone@example.org"), tok4); !errors.Is(err, grant.ErrInvalidToken) {
		t.Errorf("revoked invitation: %v", err)
	}
	if err := gs.RevokeInvitation(ctx, f.owner, a.AdvisoryID, res.Invitation.ID); !errors.Is(err, grant.ErrAlreadyRedeemed) {
		t.Errorf("revoke a redeemed invitation: %v", err)
	}
	want := []string{"invitation.created", "invitation.resent", "invitation.redeemed", "invitation.created", "invitation.revoked"}
	if got := f.actions(t, a, "invitation."); !cmp.Equal(got, want) {
		t.Errorf("audit %v, want %v", got, want)
	}
}
