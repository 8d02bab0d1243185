package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/identity"
)

// Users and the OIDC group mirror (data-model §2, INV-OIDC-1..5). The login
// flow is the only writer of group membership: UpsertUserFromLogin then
// ReplaceUserGroups, in one transaction.

const userColumns = `u.id, u.email, u.display_name, u.oidc_subject, u.is_provisioned, u.banned_at,
	coalesce(u.banned_by_id, 0), u.ban_reason, u.is_active, u.is_staff, u.is_superuser, u.last_login, u.date_joined`

func scanUser(row pgx.Row) (identity.User, error) {
	var u identity.User
	err := row.Scan(&u.ID, &u.Email, &u.DisplayName, &u.OIDCSubject, &u.IsProvisioned, &u.BannedAt,
		&u.BannedByID, &u.BanReason, &u.IsActive, &u.IsStaff, &u.IsSuperuser, &u.LastLogin, &u.DateJoined)
	return u, err
}

// ErrUserNotFound is returned when no user matches.
var ErrUserNotFound = apperr.New(apperr.NotFound, "user not found")

// ErrGroupNotFound is returned when no group matches.
var ErrGroupNotFound = apperr.New(apperr.NotFound, "group not found")

func userErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound
	}
	return err
}

// UserByID returns the user with this id.
func (db *DB) UserByID(ctx context.Context, id int64) (identity.User, error) {
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if err != nil {
		return identity.User{}, fmt.Errorf("user %d: %w", id, userErr(err))
	}
	return u, nil
}

// UserByEmail returns the user with this email, compared case-insensitively.
func (db *DB) UserByEmail(ctx context.Context, email string) (identity.User, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return identity.User{}, ErrUserNotFound
	}
	// email is UNIQUE case-sensitively; should two rows differ only in case,
	// the exact match wins, then the oldest.
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u
		WHERE lower(u.email) = lower($1) ORDER BY (u.email = $1) DESC, u.id LIMIT 1`, email))
	if err != nil {
		return identity.User{}, fmt.Errorf("user by email: %w", userErr(err))
	}
	return u, nil
}

// UserBySubject returns the user with this OIDC subject.
func (db *DB) UserBySubject(ctx context.Context, subject string) (identity.User, error) {
	if subject == "" {
		return identity.User{}, ErrUserNotFound
	}
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u
		WHERE u.oidc_subject = $1 ORDER BY u.id LIMIT 1`, subject))
	if err != nil {
		return identity.User{}, fmt.Errorf("user by subject: %w", userErr(err))
	}
	return u, nil
}

// LoginIdentity is what a successful OIDC login asserts about the user.
type LoginIdentity struct {
	Subject     string // OIDC sub; authoritative when it matches
	Email       string
	DisplayName string // the name claim
	// EmailVerified: the email may establish identity (link by email,
	// create an account, be written onto the user). The auth layer decides
	// it from email_verified and OIDC_REQUIRE_EMAIL_VERIFIED (INV-OIDC-6).
	EmailVerified bool
}

// ErrUnverifiedEmail refuses a login that would need an unverified email to
// find or create the account (INV-OIDC-6).
var ErrUnverifiedEmail = apperr.New(apperr.Unauthenticated, "the identity provider did not verify this email address")

// LoginResult is the outcome of UpsertUserFromLogin.
type LoginResult struct {
	User    identity.User
	Created bool // a new account was created
	// ShadowLinked: the account was a roster shadow (is_provisioned) and
	// is now a real user; the caller records roster.shadow_linked.
	ShadowLinked bool
}

// UpsertUserFromLogin finds or creates the account of a login and refreshes
// it from the claims. It must be called inside InTx (then ReplaceUserGroups
// in the same transaction). The match is by subject first, then, only with
// a verified email, by email case-insensitively; failing both, an account is
// created, again only with a verified email (otherwise ErrUnverifiedEmail).
//
// On the matched row the subject is recorded, the display name refreshed
// (when the claim has one), the email replaced by a verified claim email
// that no other account holds, and the shadow flag cleared (INV-OIDC-5).
// last_login is stamped only on an active account: the caller refuses the
// login of an inactive (banned) one (INV-AUTH-8).
func (db *DB) UpsertUserFromLogin(ctx context.Context, li LoginIdentity) (LoginResult, error) {
	if db.tx == nil {
		return LoginResult{}, errors.New("postgres: UpsertUserFromLogin outside a transaction")
	}
	li.Subject = strings.TrimSpace(li.Subject)
	li.Email = strings.TrimSpace(li.Email)
	li.DisplayName = truncateRunes(strings.TrimSpace(li.DisplayName), 200)
	if li.Subject == "" && !li.EmailVerified {
		return LoginResult{}, ErrUnverifiedEmail
	}
	if len(li.Email) > identity.MaxEmail || (li.EmailVerified && !strings.Contains(li.Email, "@")) {
		return LoginResult{}, apperr.New(apperr.Unauthenticated, "the identity provider sent an unusable email address")
	}

	var (
		u   identity.User
		err error
	)
	found := false
	if li.Subject != "" {
		u, err = scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u
			WHERE u.oidc_subject = $1 ORDER BY u.id LIMIT 1 FOR UPDATE`, li.Subject))
		if err == nil {
			found = true
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return LoginResult{}, fmt.Errorf("login: %w", err)
		}
	}
	if !found && li.EmailVerified && li.Email != "" {
		u, err = scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u
			WHERE lower(u.email) = lower($1) ORDER BY (u.email = $1) DESC, u.id LIMIT 1 FOR UPDATE`, li.Email))
		if err == nil {
			found = true
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return LoginResult{}, fmt.Errorf("login: %w", err)
		}
	}

	if !found {
		if !li.EmailVerified || li.Email == "" {
			return LoginResult{}, ErrUnverifiedEmail
		}
		u, err = scanUser(db.QueryRow(ctx, `INSERT INTO users AS u (email, display_name, oidc_subject, last_login)
			VALUES ($1, $2, $3, now()) RETURNING `+userColumns, li.Email, li.DisplayName, li.Subject))
		if err != nil {
			return LoginResult{}, fmt.Errorf("login: create user: %w", conflictOnField(err, "email"))
		}
		return LoginResult{User: u, Created: true}, nil
	}

	email := u.Email
	if li.EmailVerified && li.Email != "" && li.Email != u.Email {
		var taken bool
		if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2)`,
			li.Email, u.ID).Scan(&taken); err != nil {
			return LoginResult{}, fmt.Errorf("login: %w", err)
		}
		if !taken {
			email = li.Email
		}
	}
	display := u.DisplayName
	if li.DisplayName != "" {
		display = li.DisplayName
	}
	subject := u.OIDCSubject
	if li.Subject != "" {
		subject = li.Subject
	}
	wasShadow := u.IsProvisioned
	u, err = scanUser(db.QueryRow(ctx, `UPDATE users AS u SET email = $2, display_name = $3, oidc_subject = $4,
			is_provisioned = false,
			last_login = CASE WHEN u.is_active THEN now() ELSE u.last_login END
		WHERE u.id = $1 RETURNING `+userColumns, u.ID, email, display, subject))
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: update user %d: %w", u.ID, conflictOnField(err, "email"))
	}
	return LoginResult{User: u, ShadowLinked: wasShadow}, nil
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// EnsureGroup returns the group with this name, creating it if it does not
// exist (group names from the claim and project team bindings are created
// on the fly).
func (db *DB) EnsureGroup(ctx context.Context, name string) (identity.Group, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return identity.Group{}, apperr.New(apperr.Invalid, "group name is required")
	}
	g, err := db.GroupByName(ctx, name)
	if !errors.Is(err, ErrGroupNotFound) {
		return g, err
	}
	err = db.QueryRow(ctx, `INSERT INTO groups (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id, name`,
		name).Scan(&g.ID, &g.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		// A concurrent writer created it between the two statements.
		return db.GroupByName(ctx, name)
	}
	if err != nil {
		return identity.Group{}, fmt.Errorf("ensure group: %w", err)
	}
	return g, nil
}

// GroupByName returns the group with this exact name.
func (db *DB) GroupByName(ctx context.Context, name string) (identity.Group, error) {
	var g identity.Group
	err := db.QueryRow(ctx, `SELECT id, name FROM groups WHERE name = $1`, name).Scan(&g.ID, &g.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Group{}, ErrGroupNotFound
	}
	if err != nil {
		return identity.Group{}, fmt.Errorf("group by name: %w", err)
	}
	return g, nil
}

// ListGroups returns every group, by name.
func (db *DB) ListGroups(ctx context.Context) ([]identity.Group, error) {
	rows, err := db.Query(ctx, `SELECT id, name FROM groups ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (identity.Group, error) {
		var g identity.Group
		return g, r.Scan(&g.ID, &g.Name)
	})
}

// ReplaceUserGroups makes the user's group memberships exactly names
// (INV-OIDC-1: the mirror is replaced wholesale at every login), creating
// unknown groups on the fly, and sets is_staff and is_superuser to
// membership of adminGroup (INV-OIDC-3). names are bare group names, as
// identity.GroupNamesFromClaim returns them. It must be called inside InTx,
// and returns the user's groups by name. (A User read before this call
// still carries the previous is_staff/is_superuser.)
func (db *DB) ReplaceUserGroups(ctx context.Context, userID int64, names []string, adminGroup string) ([]identity.Group, error) {
	if db.tx == nil {
		return nil, errors.New("postgres: ReplaceUserGroups outside a transaction")
	}
	// Never nil: a NULL array would match nothing and remove nothing.
	clean := []string{}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			clean = append(clean, n)
		}
	}
	slices.Sort(clean)
	clean = slices.Compact(clean)

	// Lock the user row: concurrent logins of one user replace in turn.
	var isActive bool
	if err := db.QueryRow(ctx, `SELECT is_active FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&isActive); err != nil {
		return nil, fmt.Errorf("replace groups of user %d: %w", userID, userErr(err))
	}
	if _, err := db.Exec(ctx, `INSERT INTO groups (name) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (name) DO NOTHING`, clean); err != nil {
		return nil, fmt.Errorf("replace groups of user %d: create groups: %w", userID, err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM user_groups ug USING groups g
		WHERE ug.group_id = g.id AND ug.user_id = $1 AND NOT (g.name = ANY($2::text[]))`, userID, clean); err != nil {
		return nil, fmt.Errorf("replace groups of user %d: remove: %w", userID, err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO user_groups (user_id, group_id)
		SELECT $1, g.id FROM groups g WHERE g.name = ANY($2::text[])
		ON CONFLICT (user_id, group_id) DO NOTHING`, userID, clean); err != nil {
		return nil, fmt.Errorf("replace groups of user %d: add: %w", userID, err)
	}
	admin := identity.IsAdmin(clean, adminGroup)
	if _, err := db.Exec(ctx, `UPDATE users SET is_staff = $2, is_superuser = $2 WHERE id = $1`, userID, admin); err != nil {
		return nil, fmt.Errorf("replace groups of user %d: flags: %w", userID, err)
	}
	return db.GroupsOfUser(ctx, userID)
}

// GroupsOfUser returns the user's mirrored groups, by name.
func (db *DB) GroupsOfUser(ctx context.Context, userID int64) ([]identity.Group, error) {
	rows, err := db.Query(ctx, `SELECT g.id, g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id
		WHERE ug.user_id = $1 ORDER BY g.name`, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of user %d: %w", userID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (identity.Group, error) {
		var g identity.Group
		return g, r.Scan(&g.ID, &g.Name)
	})
}

// GroupIDsOfUser returns the ids of the user's mirrored groups, ascending
// (access.Subject.GroupIDs).
func (db *DB) GroupIDsOfUser(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := db.Query(ctx, `SELECT group_id::bigint FROM user_groups WHERE user_id = $1 ORDER BY group_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("group ids of user %d: %w", userID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("group ids of user %d: %w", userID, err)
	}
	return ids, nil
}

// IsGroupMember reports whether the user belongs to the named group (e.g.
// OIDC_ADMIN_GROUP: global admin is derived from the mirror each time,
// INV-OIDC-2/3).
func (db *DB) IsGroupMember(ctx context.Context, userID int64, groupName string) (bool, error) {
	if groupName == "" {
		return false, nil
	}
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM user_groups ug JOIN groups g ON g.id = ug.group_id
		WHERE ug.user_id = $1 AND g.name = $2)`, userID, groupName).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("group membership of user %d: %w", userID, err)
	}
	return ok, nil
}
