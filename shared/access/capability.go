package access

import "slices"

// Capability is one authorizable action. The set covers every row of the
// capability matrix (permissions.md §4), every predicate of §5 and every
// "Who" of the route map (operations.md §2). Comments name the predicate
// and the routes.
type Capability string

// Advisory-scoped capabilities (need the advisory's facts in Target).
const (
	// CapView: can_view (R ≠ none). Detail, versions, diffs, history,
	// timeline, comments list, publication status and artifacts.
	CapView Capability = "view"
	// CapAdvisoryNotificationPrefs: per-advisory notification override
	// panel (viewer+).
	CapAdvisoryNotificationPrefs Capability = "advisory_notification_prefs"
	// CapViewInternalComments: can_see_internal_comment (R ≥ collaborator).
	CapViewInternalComments Capability = "view_internal_comments"
	// CapSeeUserEmails: can_see_user_emails (R = owner, INV-PRIVACY-4).
	CapSeeUserEmails Capability = "see_user_emails"
	// CapComment: can_comment — post a public comment.
	CapComment Capability = "comment"
	// CapCommentInternal: can_post_internal_comment, plus the lock rule.
	CapCommentInternal Capability = "comment_internal"
	// CapEditComment: edit one's own comment (note ᵈ). Needs Target.Comment.
	CapEditComment Capability = "edit_comment"
	// CapRedactComment: redact a comment — author or admin (note ᵈ,
	// INV-COMMENT-4). Needs Target.Comment.
	CapRedactComment Capability = "redact_comment"
	// CapLockComments: can_lock_comments — lock and unlock.
	CapLockComments Capability = "lock_comments"
	// CapViewSimilarity: duplicate-check panel (INV-SIM-1/2).
	CapViewSimilarity Capability = "view_similarity"
	// CapRunSimilarity: re-run the duplicate check (INV-SIM-1/2).
	CapRunSimilarity Capability = "run_similarity"
	// CapEdit: can_edit, plus the handler's refusal of GHSA-linked rows.
	CapEdit Capability = "edit"
	// CapChangeProject: project change through the edit form
	// (can_change_project; in triage reassign_triage_project's rule).
	// Needs Target.Destination.
	CapChangeProject Capability = "change_project"
	// CapManageAccess: can_grant_access — grants, invitations, access panel.
	CapManageAccess Capability = "manage_access"
	// CapDismissAccessReview: acknowledge the access-review banner
	// (can_grant_access).
	CapDismissAccessReview Capability = "dismiss_access_review"
	// CapDismiss: can_dismiss (draft/published), can_triage (triage).
	CapDismiss Capability = "dismiss"
	// CapReopen: can_reopen for a dismissal from triage/draft (L13).
	CapReopen Capability = "reopen"
	// CapUnwithdraw: can_reopen for a withdrawal (L14, INV-WITHDRAW).
	CapUnwithdraw Capability = "unwithdraw"
	// CapSubmitReview: can_submit_for_review (R1).
	CapSubmitReview Capability = "submit_review"
	// CapWithdrawReview: can_withdraw_review (R4).
	CapWithdrawReview Capability = "withdraw_review"
	// CapReopenReview: reopen_review gate (R5).
	CapReopenReview Capability = "reopen_review"
	// CapDecideReview: can_review — approve / request changes (R2, R3).
	CapDecideReview Capability = "decide_review"
	// CapRevokeApproval: can_revoke_approval (R6).
	CapRevokeApproval Capability = "revoke_approval"
	// CapPublish: can_publish — publish and re-publish (P1).
	CapPublish Capability = "publish"
	// CapRetryPublication: retry a failed publication (P3; can_publish).
	CapRetryPublication Capability = "retry_publication"
	// CapWithdraw: can_withdraw_published — direct withdrawal (L12).
	CapWithdraw Capability = "withdraw"
	// CapRequestWithdrawal: can_request_withdrawal (Q1).
	CapRequestWithdrawal Capability = "request_withdrawal"
	// CapCancelWithdrawalRequest: can_cancel_withdrawal_request (Q2).
	CapCancelWithdrawalRequest Capability = "cancel_withdrawal_request"
	// CapApproveWithdrawal: can_approve_withdrawal (Q3).
	CapApproveWithdrawal Capability = "approve_withdrawal"
	// CapRequestCVE: can_request_cve (C1).
	CapRequestCVE Capability = "request_cve"
	// CapUnassignCVE: can_unassign_cve (O1).
	CapUnassignCVE Capability = "unassign_cve"
	// CapRequestReassignment: can_request_reassignment (D1).
	CapRequestReassignment Capability = "request_reassignment"
	// CapWithdrawReassignmentRequest: can_withdraw_reassignment_request (D2).
	CapWithdrawReassignmentRequest Capability = "withdraw_reassignment_request"
	// CapAcceptReassignment: can_accept_reassignment_suggestion — one
	// click onto Target.SuggestedProject (D3). Needs no role on the
	// advisory: authority is checked at the destination.
	CapAcceptReassignment Capability = "accept_reassignment"
	// CapResolveReassignment: can_resolve_reassignment onto
	// Target.Destination (D3).
	CapResolveReassignment Capability = "resolve_reassignment"
	// CapPickReassignmentTarget: can_pick_reassignment_target (admin
	// picker, D3).
	CapPickReassignmentTarget Capability = "pick_reassignment_target"
	// CapPromote: can_triage — promote triage to draft (L4).
	CapPromote Capability = "promote"
	// CapFlagRouting: can_flag_for_admin_routing (F1).
	CapFlagRouting Capability = "flag_routing"
	// CapClearRouting: can_clear_admin_routing_flag (F2).
	CapClearRouting Capability = "clear_routing"
	// CapReassignTriage: can_reassign_triage — the admin banner picker
	// (POST /advisories/<id>/reassign/). Non-admin triage moves go through
	// CapChangeProject.
	CapReassignTriage Capability = "reassign_triage"
	// CapMoveToGHSA: can_move_to_ghsa (L15, INV-GHSA-4).
	CapMoveToGHSA Capability = "move_to_ghsa"
	// CapRefreshGHSA: can_sync_ghsa — refresh one GHSA-linked advisory.
	CapRefreshGHSA Capability = "refresh_ghsa"
)

// Project-scoped capabilities (read only the Project* fields of Target).
const (
	// CapCreateAdvisory: can_create_advisory_for_project (L2).
	CapCreateAdvisory Capability = "create_advisory"
	// CapSyncProjectRepos: refresh one project's PMI repo mirror
	// (can_sync_project_ghsas).
	CapSyncProjectRepos Capability = "sync_project_repos"
	// CapSyncProjectGHSAs: discover GHSAs for one project
	// (can_sync_project_ghsas; GF).
	CapSyncProjectGHSAs Capability = "sync_project_ghsas"
)

// Global capabilities (no advisory or project).
const (
	// CapSubmitTriageReport: can_submit_triage_report — always (L1).
	CapSubmitTriageReport Capability = "submit_triage_report"
	// CapListAdvisories: the (visibility-filtered) advisory list; any
	// signed-in user.
	CapListAdvisories Capability = "list_advisories"
	// CapManageOwnNotifications: inbox and global notification preferences.
	CapManageOwnNotifications Capability = "manage_own_notifications"
	// CapAuthorAnyAdvisory: can_author_any_advisory — show "New advisory".
	// Reads Target.AllTeamGroupIDs.
	CapAuthorAnyAdvisory Capability = "author_any_advisory"
	// CapManageCVERequests: reserve / reject CVE requests (+ ban), lift a
	// ban (can_review; INV-CVE-3).
	CapManageCVERequests Capability = "manage_cve_requests"
	// CapManageOrphanCVEs: can_manage_orphan_cves — mark an orphan rejected,
	// resolve an orphan reassignment task.
	CapManageOrphanCVEs Capability = "manage_orphan_cves"
	// CapGHSAOrgSync: can_sync_all_ghsas — org-wide GHSA sync, PMI mirror
	// refresh, reconcile, discovery, webhook catch-up (GF).
	CapGHSAOrgSync Capability = "ghsa_org_sync"
	// CapConfigureGitHubApp: can_configure_github_app — App status page and
	// rescan installations.
	CapConfigureGitHubApp Capability = "configure_github_app"
	// CapRetryCVEPush: can_retry_cve_push (single and bulk).
	CapRetryCVEPush Capability = "retry_cve_push"
	// CapAdminConsole: every /admin/ page and the admin actions without a
	// capability of their own (invitations, roster sync, …) (can_review).
	CapAdminConsole Capability = "admin_console"
	// CapBanUser: ban and unban (INV-AUTH-8). Reads Target.TargetUserID.
	CapBanUser Capability = "ban_user"
	// CapForgetUser: GDPR erasure.
	CapForgetUser Capability = "forget_user"
	// CapToggleMaintenance: switch maintenance mode (INV-MAINT-1).
	CapToggleMaintenance Capability = "toggle_maintenance"
	// CapManageProjects: create and edit projects, incl. is_mature_publisher
	// (INV-PERM-2).
	CapManageProjects Capability = "manage_projects"
)

// Scope says which Target facts a capability reads.
type Scope string

// Scopes.
const (
	ScopeAdvisory Scope = "advisory"
	ScopeProject  Scope = "project"
	ScopeGlobal   Scope = "global"
)

var advisoryCaps = []Capability{
	CapView, CapAdvisoryNotificationPrefs, CapViewInternalComments, CapSeeUserEmails,
	CapComment, CapCommentInternal, CapEditComment, CapRedactComment, CapLockComments,
	CapViewSimilarity, CapRunSimilarity, CapEdit, CapChangeProject, CapManageAccess,
	CapDismissAccessReview, CapDismiss, CapReopen, CapUnwithdraw, CapSubmitReview,
	CapWithdrawReview, CapReopenReview, CapDecideReview, CapRevokeApproval, CapPublish,
	CapRetryPublication, CapWithdraw, CapRequestWithdrawal, CapCancelWithdrawalRequest,
	CapApproveWithdrawal, CapRequestCVE, CapUnassignCVE, CapRequestReassignment,
	CapWithdrawReassignmentRequest, CapAcceptReassignment, CapResolveReassignment,
	CapPickReassignmentTarget, CapPromote, CapFlagRouting, CapClearRouting,
	CapReassignTriage, CapMoveToGHSA, CapRefreshGHSA,
}

var projectCaps = []Capability{CapCreateAdvisory, CapSyncProjectRepos, CapSyncProjectGHSAs}

var globalCaps = []Capability{
	CapSubmitTriageReport, CapListAdvisories, CapManageOwnNotifications, CapAuthorAnyAdvisory,
	CapManageCVERequests, CapManageOrphanCVEs, CapGHSAOrgSync, CapConfigureGitHubApp,
	CapRetryCVEPush, CapAdminConsole, CapBanUser, CapForgetUser, CapToggleMaintenance,
	CapManageProjects,
}

// Capabilities returns every capability, advisory-scoped first.
func Capabilities() []Capability {
	return slices.Concat(advisoryCaps, projectCaps, globalCaps)
}

// Valid reports whether c is a known capability.
func (c Capability) Valid() bool { return c.Scope() != "" }

// Scope returns c's scope, or "" for an unknown capability.
func (c Capability) Scope() Scope {
	switch {
	case slices.Contains(advisoryCaps, c):
		return ScopeAdvisory
	case slices.Contains(projectCaps, c):
		return ScopeProject
	case slices.Contains(globalCaps, c):
		return ScopeGlobal
	}
	return ""
}

// NeedsStepUp reports whether c requires a fresh step-up re-authentication
// on top of Can (permissions.md §8, §13; operations.md "SU"). Handlers check
// Can first, then step-up (§13: permission first everywhere). For
// CapToggleMaintenance only the POST is gated; viewing the page is
// CapAdminConsole. CapConfigureGitHubApp gates the page view too.
func NeedsStepUp(c Capability) bool {
	switch c {
	case CapPublish, CapRetryPublication, // publish and retry push to the public repo
		CapWithdraw, CapApproveWithdrawal, // same public-repo push
		CapUnwithdraw,         // §13: un-withdraw republishes
		CapMoveToGHSA,         // outbound create on GitHub (§13)
		CapConfigureGitHubApp, // App page view and rescan (§13)
		CapGHSAOrgSync,        // org-wide GHSA operations
		CapRetryCVEPush,
		CapBanUser, CapForgetUser, // account lock-out / irreversible
		CapToggleMaintenance:
		return true
	}
	return false
}

// ReopenCapability picks the capability that guards reopening t: unwithdraw
// when the dismissal was a withdrawal, reopen otherwise.
func ReopenCapability(t Target) Capability {
	if t.DismissedFromState == StatePublished {
		return CapUnwithdraw
	}
	return CapReopen
}
