package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/identity"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

const adminGroup = "advisoryhub-security"

// login runs the store half of a login: upsert, then replace the groups.
func login(t *testing.T, db *postgres.DB, li postgres.LoginIdentity, claim ...string) (postgres.LoginResult, []identity.Group, error) {
	t.Helper()
	ctx := postgres.AsSystem(context.Background())
	var (
		res    postgres.LoginResult
		groups []identity.Group
	)
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		var err error
		if res, err = tx.UpsertUserFromLogin(ctx, li); err != nil {
			return err
		}
		if groups, err = tx.ReplaceUserGroups(ctx, res.User.ID, identity.GroupNamesFromClaim(claim), adminGroup); err != nil {
			return err
		}
		res.User, err = tx.UserByID(ctx, res.User.ID)
		return err
	})
	return res, groups, err
}

func groupNames(gs []identity.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func TestLoginCreatesAndRefreshesUser(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()

	// First login: account created from a verified email, groups mirrored.
	res, groups, err := login(t, db, postgres.LoginIdentity{Subject: "sub-1", Email: "Alice@Example.org", DisplayName: " Alice ", EmailVerified: true},
		"lantern-security@idm.example.org", "advisoryhub-security@idm.example.org", "idm_all_persons@idm.example.org", "3f1c-uuid")
	if err != nil {
		t.Fatal(err)
	}
	u := res.User
	if !res.Created || u.Email != "Alice@Example.org" || u.DisplayName != "Alice" || u.OIDCSubject != "sub-1" ||
		!u.IsActive || u.LastLogin == nil || !u.IsStaff || !u.IsSuperuser {
		t.Errorf("created user = %+v (created %v)", u, res.Created)
	}
	if diff := cmp.Diff([]string{"advisoryhub-security", "lantern-security"}, groupNames(groups)); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}

	// Email lookup is case-insensitive.
	byEmail, err := db.UserByEmail(ctx, "alice@EXAMPLE.org")
	if err != nil || byEmail.ID != u.ID {
		t.Fatalf("UserByEmail = %+v, %v", byEmail, err)
	}
	if got, err := db.UserByID(ctx, u.ID); err != nil || got.Label() != "Alice" {
		t.Errorf("UserByID = %+v, %v", got, err)
	}

	// Second login: matched by subject; the mirror is replaced wholesale
	// (INV-OIDC-1) and the admin flags follow membership (INV-OIDC-3).
	res, groups, err = login(t, db, postgres.LoginIdentity{Subject: "sub-1", Email: "alice@new.example.org", EmailVerified: true},
		"marigold-security@idm.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.User.ID != u.ID || res.User.Email != "alice@new.example.org" || res.User.DisplayName != "Alice" ||
		res.User.IsStaff || res.User.IsSuperuser {
		t.Errorf("refreshed user = %+v", res.User)
	}
	if diff := cmp.Diff([]string{"marigold-security"}, groupNames(groups)); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	ids, err := db.GroupIDsOfUser(ctx, u.ID)
	if err != nil || len(ids) != 1 || ids[0] != groups[0].ID {
		t.Errorf("GroupIDsOfUser = %v, %v", ids, err)
	}
	if ok, err := db.IsGroupMember(ctx, u.ID, adminGroup); err != nil || ok {
		t.Errorf("still an admin after demotion: %v, %v", ok, err)
	}
	// Groups that lost their last member stay (projects may bind them).
	if _, err := db.GroupByName(ctx, "lantern-security"); err != nil {
		t.Errorf("GroupByName: %v", err)
	}

	// A login with no groups empties the mirror.
	if _, groups, err = login(t, db, postgres.LoginIdentity{Subject: "sub-1"}); err != nil || len(groups) != 0 {
		t.Errorf("empty claim left groups %v, %v", groups, err)
	}
}

// INV-OIDC-6: an unverified email never finds, creates or rewrites an
// account.
func TestLoginWithUnverifiedEmail(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, _, err := login(t, db, postgres.LoginIdentity{Subject: "sub-x", Email: "mallory@example.org"}); !errors.Is(err, postgres.ErrUnverifiedEmail) ||
		!errors.Is(err, apperr.Unauthenticated) {
		t.Fatalf("unverified first login = %v, want ErrUnverifiedEmail", err)
	}
	if _, err := db.UserByEmail(ctx, "mallory@example.org"); !errors.Is(err, apperr.NotFound) {
		t.Fatalf("a user row was created: %v", err)
	}

	// An existing account is not taken over by email without verification…
	victim, _, err := login(t, db, postgres.LoginIdentity{Subject: "sub-v", Email: "victim@example.org", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := login(t, db, postgres.LoginIdentity{Subject: "sub-attacker", Email: "VICTIM@example.org"}); !errors.Is(err, postgres.ErrUnverifiedEmail) {
		t.Errorf("unverified email fallback = %v, want ErrUnverifiedEmail", err)
	}
	// …and a subject match never writes an unverified email.
	res, _, err := login(t, db, postgres.LoginIdentity{Subject: "sub-v", Email: "other@example.org"})
	if err != nil || res.User.ID != victim.User.ID || res.User.Email != "victim@example.org" {
		t.Errorf("subject login with unverified email = %+v, %v", res.User, err)
	}
}

func TestLoginLinksShadowAndKeepsBans(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	var shadowID, bannedID int64
	if err := db.QueryRow(ctx, `INSERT INTO users (email, is_provisioned) VALUES ('shadow@example.org', true) RETURNING id`).Scan(&shadowID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO users (email, is_active, banned_at) VALUES ('banned@example.org', false, now()) RETURNING id`).Scan(&bannedID); err != nil {
		t.Fatal(err)
	}

	res, _, err := login(t, db, postgres.LoginIdentity{Subject: "s-shadow", Email: "Shadow@example.org", DisplayName: "Sam", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.User.ID != shadowID || !res.ShadowLinked || res.User.IsProvisioned || res.User.OIDCSubject != "s-shadow" || res.Created {
		t.Errorf("shadow login = %+v", res)
	}
	res, _, err = login(t, db, postgres.LoginIdentity{Subject: "s-shadow"})
	if err != nil || res.ShadowLinked {
		t.Errorf("second login linked again: %+v, %v", res, err)
	}

	res, _, err = login(t, db, postgres.LoginIdentity{Subject: "s-banned", Email: "banned@example.org", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.User.ID != bannedID || res.User.IsActive || !res.User.IsBanned() || res.User.LastLogin != nil {
		t.Errorf("banned login = %+v; want the inactive account, last_login untouched", res.User)
	}
}

func TestLoginEmailTakenByAnotherAccount(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	a, _, err := login(t, db, postgres.LoginIdentity{Subject: "a", Email: "a@example.org", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := login(t, db, postgres.LoginIdentity{Subject: "b", Email: "b@example.org", EmailVerified: true}); err != nil {
		t.Fatal(err)
	}
	res, _, err := login(t, db, postgres.LoginIdentity{Subject: "a", Email: "B@example.org", EmailVerified: true})
	if err != nil || res.User.ID != a.User.ID || res.User.Email != "a@example.org" {
		t.Errorf("login claiming another account's email = %+v, %v; want the email kept", res.User, err)
	}
}

func TestGroupsStore(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	g1, err := db.EnsureGroup(ctx, " lantern-security ")
	if err != nil {
		t.Fatal(err)
	}
	g2, err := db.EnsureGroup(ctx, "lantern-security")
	if err != nil || g2 != g1 || g1.Name != "lantern-security" {
		t.Errorf("EnsureGroup twice = %+v then %+v, %v", g1, g2, err)
	}
	if _, err := db.EnsureGroup(ctx, "  "); !errors.Is(err, apperr.Invalid) {
		t.Errorf("EnsureGroup(blank) = %v", err)
	}
	if _, err := db.GroupByName(ctx, "nope"); !errors.Is(err, apperr.NotFound) {
		t.Errorf("GroupByName(unknown) = %v", err)
	}
	if _, err := db.UserByID(ctx, 12345); !errors.Is(err, apperr.NotFound) {
		t.Errorf("UserByID(unknown) = %v", err)
	}
	if _, err := db.UserByEmail(ctx, ""); !errors.Is(err, apperr.NotFound) {
		t.Errorf("UserByEmail(\"\") = %v", err)
	}
	if _, err := db.ReplaceUserGroups(ctx, 1, nil, adminGroup); err == nil {
		t.Error("ReplaceUserGroups outside a transaction accepted")
	}
	if _, err := db.UpsertUserFromLogin(ctx, postgres.LoginIdentity{Subject: "x"}); err == nil {
		t.Error("UpsertUserFromLogin outside a transaction accepted")
	}
	all, err := db.ListGroups(ctx)
	if err != nil || !slices.Contains(groupNames(all), "lantern-security") {
		t.Errorf("ListGroups = %v, %v", all, err)
	}
}
