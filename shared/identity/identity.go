// Package identity is the pure domain of users and of the group mirror: the
// User and Group types, the user's display label, and the parsing of the
// OIDC group claim into the bare group names the mirror stores.
//
// Email is the login identity and is compared case-insensitively. Group
// membership is a mirror of the identity provider's claim, replaced
// wholesale at every login (INV-OIDC-1); authorization reads only that
// mirror (INV-OIDC-2). A global admin is a member of the group named by
// OIDC_ADMIN_GROUP; the stored is_staff/is_superuser flags merely follow it
// (INV-OIDC-3) and gate nothing.
//
// Sources: data-model §2, INV-OIDC-1..5.
package identity

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account (data-model §2.1).
type User struct {
	ID          int64
	Email       string
	DisplayName string
	OIDCSubject string
	// IsProvisioned marks a roster "shadow" user: no authority at all,
	// cleared at the person's first login (INV-OIDC-5).
	IsProvisioned bool
	BannedAt      *time.Time // non-nil ⇔ banned
	BannedByID    int64      // 0 = none
	BanReason     string
	// IsActive false refuses login and drops live sessions (ban
	// enforcement, forget-user).
	IsActive    bool
	IsStaff     bool // = admin-group membership at the last login
	IsSuperuser bool // same as IsStaff
	LastLogin   *time.Time
	DateJoined  time.Time
}

// Label is how a user is shown: the trimmed display name, else the email.
func (u User) Label() string { return Label(u.DisplayName, u.Email) }

// Label is the display label of a user with this display name and email.
func Label(displayName, email string) string {
	if s := strings.TrimSpace(displayName); s != "" {
		return s
	}
	return email
}

// IsBanned reports whether the user is banned (banned_at set).
func (u User) IsBanned() bool { return u.BannedAt != nil }

// Group is a mirrored identity-provider group (data-model §2.2).
type Group struct {
	ID   int64
	Name string
}

// MaxGroupName is the stored length of a group name.
const MaxGroupName = 150

// MaxEmail is the stored length of an email address.
const MaxEmail = 254

// EqualEmail compares two emails the way the login identity is compared:
// case-insensitively.
func EqualEmail(a, b string) bool { return strings.EqualFold(a, b) }

// GroupNamesFromClaim turns the values of the OIDC group claim into the
// bare group names the mirror stores (INV-OIDC-4): only values containing
// "@" (SPN form) are kept, each as its part before the first "@";
// Kanidm-internal names starting "idm_" are dropped, as are empty names and
// names too long to store. The result is sorted and free of duplicates.
func GroupNamesFromClaim(values []string) []string {
	var out []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		at := strings.IndexByte(v, '@')
		if at < 0 {
			continue // UUIDs and bare names are other aliases of the same group
		}
		name := strings.TrimSpace(v[:at])
		if name == "" || strings.HasPrefix(name, "idm_") ||
			!utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxGroupName ||
			strings.ContainsRune(name, 0) {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IsAdmin reports whether the mirrored group names include adminGroup (the
// OIDC_ADMIN_GROUP). An empty adminGroup matches nothing.
func IsAdmin(groupNames []string, adminGroup string) bool {
	return adminGroup != "" && slices.Contains(groupNames, adminGroup)
}
