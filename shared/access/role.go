package access

import (
	"fmt"
	"slices"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// Role is a resolved per-advisory role: none < viewer < collaborator < owner
// (INV-AUTH-2). Owner is never stored; it is derived from global-admin or
// security-team membership (INV-AUTH-3).
type Role string

// Roles. RoleNone is the zero value: no access at all.
const (
	RoleNone         Role = ""
	RoleViewer       Role = "viewer"
	RoleCollaborator Role = "collaborator"
	RoleOwner        Role = "owner"
)

// Valid reports whether r is one of the four roles (RoleNone included).
func (r Role) Valid() bool {
	switch r {
	case RoleNone, RoleViewer, RoleCollaborator, RoleOwner:
		return true
	}
	return false
}

// Rank orders roles: none 0, viewer 1, collaborator 2, owner 3. An unknown
// value ranks 0, like none.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleCollaborator:
		return 2
	case RoleOwner:
		return 3
	}
	return 0
}

// AtLeast reports whether r ranks at or above min. Every role is at least
// RoleNone; use r != RoleNone (or AtLeast(RoleViewer)) for "has access".
func (r Role) AtLeast(min Role) bool { return r.Rank() >= min.Rank() }

// String returns the stored spelling, or "none" for RoleNone.
func (r Role) String() string {
	if r == RoleNone {
		return "none"
	}
	return string(r)
}

// VisibleRoles are the roles that may see an advisory at all (can_view:
// R ≠ none). The store's SQL visibility filter and row-level-security
// policy must select exactly the advisories for which Resolve returns one
// of these (INV-PRIVACY-1, INV-CONF-2); see Visible.
var VisibleRoles = []Role{RoleViewer, RoleCollaborator, RoleOwner}

// Permission is what an AdvisoryAccessGrant or PendingInvitation may store.
// Owner is deliberately absent (INV-AUTH-3, INV-ACCESS-4).
type Permission string

// Storable permissions.
const (
	PermissionViewer       Permission = "viewer"
	PermissionCollaborator Permission = "collaborator"
)

// Permissions lists the storable permissions in rank order.
func Permissions() []Permission {
	return []Permission{PermissionViewer, PermissionCollaborator}
}

// Valid reports whether p may be stored. "owner" is not valid.
func (p Permission) Valid() bool { return slices.Contains(Permissions(), p) }

// Role is the role a grant of p confers; RoleNone for an invalid p.
func (p Permission) Role() Role {
	switch p {
	case PermissionViewer:
		return RoleViewer
	case PermissionCollaborator:
		return RoleCollaborator
	}
	return RoleNone
}

// ParsePermission parses a grant or invitation permission from user input.
// Anything but "viewer" or "collaborator" — "owner" in particular — fails
// with an error wrapping ErrInvalidPermission (INV-ACCESS-4).
func ParsePermission(s string) (Permission, error) {
	p := Permission(s)
	if !p.Valid() {
		return "", fmt.Errorf("%w: %q (choose viewer or collaborator)", ErrInvalidPermission, s)
	}
	return p, nil
}

// PrincipalType says whom a grant names.
type PrincipalType string

// Principal types.
const (
	PrincipalUser  PrincipalType = "user"
	PrincipalGroup PrincipalType = "group"
)

// Valid reports whether t is user or group.
func (t PrincipalType) Valid() bool { return t == PrincipalUser || t == PrincipalGroup }

// Grant is one AdvisoryAccessGrant row of the target advisory. A group grant
// covers every current member of the group (INV-ACCESS-1).
type Grant struct {
	PrincipalType PrincipalType
	PrincipalID   int64
	Permission    Permission
}

// State is Advisory.state (INV-LIFECYCLE-1), shared with package advisory.
type State = advisory.State

// Lifecycle states.
const (
	StateTriage    = advisory.StateTriage
	StateDraft     = advisory.StateDraft
	StatePublished = advisory.StatePublished
	StateDismissed = advisory.StateDismissed
)

// States lists the four lifecycle states.
func States() []State { return advisory.States() }

// Kind is Advisory.kind.
type Kind = advisory.Kind

// Advisory kinds.
const (
	KindNative     = advisory.KindNative
	KindGHSALinked = advisory.KindGHSALinked
)

// ReviewStatus is Advisory.review_status (INV-REVIEW-1).
type ReviewStatus = advisory.ReviewStatus

// Review statuses.
const (
	ReviewNone             = advisory.ReviewNone
	ReviewSubmitted        = advisory.ReviewSubmitted
	ReviewChangesRequested = advisory.ReviewChangesRequested
	ReviewApproved         = advisory.ReviewApproved
)
