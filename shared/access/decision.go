package access

import (
	"fmt"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// Error sentinels, each classified by an apperr kind. A denial's error wraps
// exactly one of the first three, so errors.Is (or apperr.KindOf) selects
// the answer: 401 or the login redirect (Unauthenticated), 404 (NotFound:
// missing or invisible give the same answer, permissions.md §13,
// INV-PRIVACY-1) or 403 (Forbidden).
var (
	ErrUnauthenticated   = apperr.New(apperr.Unauthenticated, "not authenticated")
	ErrNotFound          = apperr.New(apperr.NotFound, "not found")
	ErrForbidden         = apperr.New(apperr.Forbidden, "forbidden")
	ErrInvalidPermission = apperr.New(apperr.Invalid, "invalid permission")
)

// DenialKind classifies a refusal.
type DenialKind string

// Denial kinds.
const (
	// DeniedUnauthenticated: anonymous, banned or shadow caller.
	DeniedUnauthenticated DenialKind = "unauthenticated"
	// DeniedNotFound: the caller cannot see the advisory (so must not learn
	// it exists), or the feature behind the surface is switched off.
	DeniedNotFound DenialKind = "not_found"
	// DeniedForbidden: the caller sees the advisory (or the capability is
	// not advisory-scoped) but the matrix refuses the action.
	DeniedForbidden DenialKind = "forbidden"
)

// Reason says why a capability was refused. It is for logs, tests and UI
// hints; callers branch on the kind (via errors.Is), not on the reason.
type Reason string

// Reasons.
const (
	ReasonAnonymous           Reason = "anonymous"
	ReasonBanned              Reason = "banned"             // INV-AUTH-8
	ReasonShadowUser          Reason = "shadow_user"        // INV-OIDC-5
	ReasonUnknownCapability   Reason = "unknown_capability" // fail closed
	ReasonInvalidTarget       Reason = "invalid_target"     // unknown state/kind/review status
	ReasonFeatureDisabled     Reason = "feature_disabled"   // GHSA / similarity switched off
	ReasonNotVisible          Reason = "not_visible"        // R = none
	ReasonRole                Reason = "insufficient_role"
	ReasonAdminOnly           Reason = "admin_only"
	ReasonAdminExcluded       Reason = "admin_excluded" // admins review / reassign / withdraw directly
	ReasonNotTeamMember       Reason = "not_team_member"
	ReasonState               Reason = "state"
	ReasonGHSALinked          Reason = "ghsa_linked" // INV-GHSA-1/3
	ReasonNotGHSALinked       Reason = "not_ghsa_linked"
	ReasonRoutingFlagged      Reason = "routing_flagged" // INV-AUTH-6
	ReasonNotFlagged          Reason = "not_flagged"
	ReasonUnsorted            Reason = "unsorted_project" // INV-INTAKE-4
	ReasonReviewSubmitted     Reason = "review_submitted" // INV-REVIEW-2, INV-PERM-3
	ReasonReviewStatus        Reason = "review_status"
	ReasonApprovalRequired    Reason = "approval_required" // INV-PERM-1
	ReasonNotMature           Reason = "not_mature_publisher"
	ReasonMaturePublisher     Reason = "mature_publisher" // withdraw directly instead
	ReasonCVEAssigned         Reason = "cve_assigned"     // INV-CVE-2
	ReasonCVERequestQueued    Reason = "cve_request_queued"
	ReasonCVERequestsBanned   Reason = "cve_requests_banned" // INV-CVE-3
	ReasonCommentsLocked      Reason = "comments_locked"
	ReasonRequestPending      Reason = "request_pending"
	ReasonNoRequestPending    Reason = "no_request_pending"
	ReasonNoSuggestion        Reason = "no_suggestion"
	ReasonNoDestination       Reason = "no_destination"
	ReasonSameProject         Reason = "same_project"
	ReasonNotDestinationTeam  Reason = "not_destination_team"
	ReasonNoPVRRepo           Reason = "no_pvr_repo"
	ReasonNoComment           Reason = "no_comment"
	ReasonNotAuthor           Reason = "not_author"
	ReasonCommentRedacted     Reason = "comment_redacted"
	ReasonSelf                Reason = "self"
	ReasonWithdrawalOrigin    Reason = "withdrawal_origin"     // reopen of a withdrawal: use unwithdraw
	ReasonNotWithdrawalOrigin Reason = "not_withdrawal_origin" // unwithdraw of a plain dismissal
)

// Decision is the outcome of Can.
type Decision struct {
	Capability Capability
	Allowed    bool
	Kind       DenialKind // "" when allowed
	Reason     Reason     // "" when allowed
}

// Err returns nil when d allows, else a *DenialError.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &DenialError{Capability: d.Capability, Kind: d.Kind, Reason: d.Reason}
}

// DenialError is a refused capability. It unwraps to ErrUnauthenticated,
// ErrNotFound or ErrForbidden according to Kind.
type DenialError struct {
	Capability Capability
	Kind       DenialKind
	Reason     Reason
}

func (e *DenialError) Error() string {
	return fmt.Sprintf("%s: %s (%s)", e.Capability, e.Unwrap(), e.Reason)
}

// Unwrap returns the sentinel for e.Kind; ErrForbidden for anything unknown.
func (e *DenialError) Unwrap() error {
	switch e.Kind {
	case DeniedUnauthenticated:
		return ErrUnauthenticated
	case DeniedNotFound:
		return ErrNotFound
	}
	return ErrForbidden
}
