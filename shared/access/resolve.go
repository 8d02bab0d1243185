package access

import "slices"

// UnsortedProjectSlug is the sentinel project for reports whose project is
// unknown (INV-PROJECT-2, INV-INTAKE-4).
const UnsortedProjectSlug = "unsorted"

// Subject is the caller, as loaded from the user row and the stored OIDC
// group mirror (INV-OIDC-2) — never from request input.
type Subject struct {
	// UserID is the user's primary key; 0 means anonymous.
	UserID int64
	// IsAdmin is membership of OIDC_ADMIN_GROUP, derived from the group
	// mirror (INV-OIDC-3: never a stale stored flag).
	IsAdmin bool
	// Banned is is_active=false (INV-AUTH-8): treated as anonymous.
	Banned bool
	// Provisioned marks a shadow roster user (INV-OIDC-5): no authority.
	Provisioned bool
	// GroupIDs is the user's mirrored group set (cache once per request).
	GroupIDs []int64
}

// Authenticated reports whether s may act as a signed-in user at all: a
// real user that is neither banned (INV-AUTH-8) nor a shadow (INV-OIDC-5).
func (s Subject) Authenticated() bool {
	return s.UserID > 0 && !s.Banned && !s.Provisioned
}

// Admin reports whether s is an effective global admin (ADM). A banned
// admin is not one.
func (s Subject) Admin() bool { return s.Authenticated() && s.IsAdmin }

// InGroup reports whether an authenticated s belongs to group id. Group 0
// (no group configured) never matches.
func (s Subject) InGroup(id int64) bool {
	return id != 0 && s.Authenticated() && slices.Contains(s.GroupIDs, id)
}

// ProjectRef names a project other than the target advisory's own: a
// destination of a project move or a suggested reassignment target.
type ProjectRef struct {
	Slug        string
	TeamGroupID int64 // Project.security_team group; 0 = none
}

// Comment is the comment an edit/redact capability acts on.
type Comment struct {
	AuthorID int64 // 0 for system comments
	Internal bool  // fixed at creation (INV-COMMENT-1)
	Redacted bool  // redaction is one-way (INV-COMMENT-4)
}

// Features are the deployment switches some predicates consult.
type Features struct {
	GHSA       bool // GHSA_FEATURE_ENABLED
	Similarity bool // SIMILARITY_CHECK_ENABLED (INV-SIM-2)
}

// Target holds the facts about what is acted on. Advisory-scoped
// capabilities read the advisory fields (State, Kind and ReviewStatus must be
// valid); project-scoped ones read only the Project* fields; global ones read
// none except where noted. Zero values are the restrictive ones.
type Target struct {
	// The advisory's project (or, for project-scoped capabilities, the
	// project acted on).
	ProjectTeamGroupID int64
	ProjectSlug        string
	ProjectIsMature    bool // Project.is_mature_publisher (INV-PERM-2)
	// ProjectHasPVRRepo: the project has an active GitHub repo with private
	// vulnerability reporting enabled (cached flag; re-checked live at move).
	ProjectHasPVRRepo bool

	State              State
	Kind               Kind
	ReviewStatus       ReviewStatus
	DismissedFromState State // "" treated as draft (lifecycle L13)

	// NeedsAdminRouting: the intake sidecar exists with needs_admin_routing.
	NeedsAdminRouting bool
	// Grants are the advisory's AdvisoryAccessGrant rows (all of them, or
	// at least those naming the subject or one of its groups).
	Grants []Grant

	CVEAssigned       bool // assigned_cve_id set
	CVERequestQueued  bool // a CveRequestTask is queued
	CVERequestsBanned bool // cve_requests_banned
	CommentsLocked    bool

	WithdrawalRequested   bool        // a withdrawal request is pending
	ReassignmentRequested bool        // a draft-reassignment request is pending
	SuggestedProject      *ProjectRef // the pending request's suggestion, if any

	// Destination is the project a move would land on (change_project,
	// resolve_reassignment). Required by those capabilities.
	Destination *ProjectRef

	// Comment is the comment acted on (edit_comment, redact_comment).
	Comment *Comment

	// TargetUserID is the user an admin user action applies to (ban_user).
	TargetUserID int64

	// AllTeamGroupIDs are the security-team groups of every project; only
	// author_any_advisory reads it.
	AllTeamGroupIDs []int64

	Features Features
}

// Resolve returns the subject's role on the target advisory
// (resolved_permission, permissions.md §3). The advisory's state is never
// consulted (INV-AUTH-7).
//
//  1. anonymous, banned (INV-AUTH-8) or shadow (INV-OIDC-5) → none;
//  2. global admin → owner;
//  3. member of the project's security team → owner (INV-AUTH-3);
//  4. the highest grant naming the user or one of its groups (INV-AUTH-4);
//     a row whose permission is not storable (e.g. "owner") is ignored;
//  5. otherwise none.
func Resolve(s Subject, t Target) Role {
	if !s.Authenticated() {
		return RoleNone
	}
	if s.IsAdmin || s.InGroup(t.ProjectTeamGroupID) {
		return RoleOwner
	}
	best := RoleNone
	for _, g := range t.Grants {
		if !g.Permission.Valid() {
			continue
		}
		var match bool
		switch g.PrincipalType {
		case PrincipalUser:
			match = g.PrincipalID == s.UserID
		case PrincipalGroup:
			match = s.InGroup(g.PrincipalID)
		}
		if match && g.Permission.Role().Rank() > best.Rank() {
			best = g.Permission.Role()
		}
	}
	return best
}

// Visible reports whether s may see the target advisory at all (can_view).
//
// The store's visibility query and row-level-security policy (INV-CONF-2)
// must mirror it exactly, in every state (INV-AUTH-7, INV-PRIVACY-1):
//
//	subject authenticated (user id > 0, is_active, not is_provisioned) AND (
//	    subject is admin
//	 OR project.security_team_group_id IN (subject's groups)
//	 OR EXISTS grant (principal_type='user'  AND principal_id = user id
//	                  AND permission IN ('viewer','collaborator'))
//	 OR EXISTS grant (principal_type='group' AND principal_id IN (subject's groups)
//	                  AND permission IN ('viewer','collaborator')))
func Visible(s Subject, t Target) bool { return Resolve(s, t) != RoleNone }

// MaintenanceBlocks reports whether maintenance mode refuses s's unsafe
// requests: everyone but an effective global admin, anonymous callers
// included (INV-MAINT-1, permissions.md §9). Method and path exemptions are
// the middleware's business.
func MaintenanceBlocks(s Subject) bool { return !s.Admin() }
