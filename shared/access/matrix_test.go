package access

// THE AUTHORIZATION CONTRACT (INV-AUTH-1, INV-CONF-2 "endpoint × role
// authorization-matrix test").
//
// Every Capability × every role archetype × every lifecycle state × every
// flag scenario is evaluated, and the expected outcome is written out below
// as data transcribed from permissions.md §4–§7 and §13 (not computed from
// the implementation). Each row cites its sources.
//
// Notation. Archetypes (columns):
//
//	N anonymous                      B banned (admin + team member, INV-AUTH-8)
//	S shadow roster user (team group + direct collaborator grant, INV-OIDC-5)
//	U signed-in outsider (no role here; on the *suggested* project's team)
//	v viewer via a direct grant (the Reporter column)
//	g viewer via a group grant       C collaborator (group grant + direct viewer grant, INV-AUTH-4)
//	O project security-team owner (also on the destination project's team)
//	A global admin (on no team)
//
// States: T triage, D draft, P published, X dismissed. A cell lists the
// archetypes allowed; "-" means nobody. In an override, "" means "as base".
// The base scenario is permissions.md §4's baseline: native, review none,
// comments unlocked, not flagged, non-mature project, no CVE, features on.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

const (
	all  = "N B S U v g C O A"
	auth = "U v g C O A"
	vis  = "v g C O A"
	col  = "C O A"
	own  = "O A"
	adm  = "A"
	team = "O"
	none = "-"
)

type states struct{ T, D, P, X string }

func every(s string) states { return states{s, s, s, s} }

type row struct {
	cap   Capability
	scope string // a advisory, p project, g global
	ref   string
	base  states
	over  map[string]states
}

var matrix = []row{
	// ---- reading and commenting ----
	{CapView, "a", "§4 View; §5 can_view; §6 dismissed; INV-AUTH-7, INV-AUTH-8, INV-OIDC-5, INV-INTAKE-3",
		every(vis), nil},
	{CapAdvisoryNotificationPrefs, "a", "operations §2.4 per-advisory preferences: viewer+",
		every(vis), nil},
	{CapViewInternalComments, "a", "§4 See internal comments; §5 can_see_internal_comment; INV-COMMENT-2",
		every(col), nil},
	{CapSeeUserEmails, "a", "§4 See other users' emails; §5 can_see_user_emails; §11; INV-PRIVACY-4",
		every(own), nil},
	{CapComment, "a", "§4 Post public comment, note ᶜ; §5 can_comment; §6 comments locked; §13 (triage grantees and dismissed rows may comment)",
		every(vis), map[string]states{"locked": every(own)}},
	{CapCommentInternal, "a", "§4 Post internal comment, note ᶜ; §5 can_post_internal_comment; §6 comments locked",
		every(col), map[string]states{"locked": every(own)}},
	{CapEditComment, "a", "§4 Edit own comment, note ᵈ; INV-COMMENT-3/4",
		every(none), map[string]states{
			"own_comment":          every(vis),
			"own_internal_comment": every(col),
		}},
	{CapRedactComment, "a", "§4 redact comment, note ᵈ (author or global admin); INV-COMMENT-4",
		every(adm), map[string]states{
			"own_comment":          every(vis),
			"own_internal_comment": every(col),
			"own_redacted_comment": every(none),
			"no_comment":           every(none),
		}},
	{CapLockComments, "a", "§4 Lock / unlock comments; §5 can_lock_comments (any state); lifecycle K1/K2",
		every(own), nil},
	{CapViewSimilarity, "a", "§4 Duplicate-check panel, note ᵉ; §10; INV-SIM-1, INV-SIM-2",
		every(own), map[string]states{"features_off": every(none)}},
	{CapRunSimilarity, "a", "§4 Duplicate-check re-run, note ᵉ; INV-SIM-1, INV-SIM-2",
		every(own), map[string]states{"features_off": every(none)}},

	// ---- content ----
	{CapEdit, "a", "§4 Edit content; §5 can_edit; §6 triage, triage∧flag, submitted, dismissed, ghsa_linked; INV-AUTH-5, INV-AUTH-6, INV-REVIEW-2, INV-GHSA-1, INV-LIFECYCLE-4",
		states{T: own, D: col, P: col, X: none}, map[string]states{
			"flagged":          {T: adm},
			"unsorted":         {T: adm},
			"ghsa":             every(none),
			"ghsa_mature":      every(none),
			"submitted":        {T: adm, D: adm, P: adm},
			"mature_submitted": {T: adm, D: adm, P: adm},
		}},
	{CapChangeProject, "a", "§4 Change project, note ᶠ; §5 can_change_project; §6 triage∧flag (non-admin moves admin-only), ghsa_linked; lifecycle F3; INV-AUTH-6, INV-GHSA-1",
		states{T: own, D: own, P: own, X: none}, map[string]states{
			"flagged":          {T: adm},
			"unsorted":         {T: adm},
			"ghsa":             every(none),
			"ghsa_mature":      every(none),
			"submitted":        {T: adm, D: adm, P: adm},
			"mature_submitted": {T: adm, D: adm, P: adm},
			"dest_foreign":     {T: adm, D: adm, P: adm},
			"no_dest":          every(none),
		}},
	{CapManageAccess, "a", "§4 Manage grants / invitations; §5 can_grant_access; §6 dismissed; INV-AUTH-3, INV-ACCESS-4",
		every(own), nil},
	{CapDismissAccessReview, "a", "§4 acknowledge access review; lifecycle §8 flags (can_grant_access)",
		every(own), nil},

	// ---- lifecycle ----
	{CapDismiss, "a", "§4 Dismiss, note ᵍ; §5 can_dismiss / can_triage; §6 triage∧flag, submitted (still allowed), published, dismissed, ghsa_linked triage; §13; INV-AUTH-5/6",
		states{T: own, D: own, P: none, X: none}, map[string]states{
			"flagged":      {T: adm},
			"unsorted":     {T: adm},
			"ghsa":         {T: none},
			"ghsa_mature":  {T: none},
			"cve_assigned": {T: adm, D: adm},
		}},
	{CapReopen, "a", "§4 Reopen (triage/draft origin); §5 can_reopen; lifecycle L13; INV-LIFECYCLE-4",
		states{T: none, D: none, P: none, X: own}, map[string]states{
			"withdrawn_origin":        {X: none},
			"withdrawn_origin_mature": {X: none},
		}},
	{CapUnwithdraw, "a", "§4 Reopen a withdrawal, note ʰ; §5 can_reopen; §7; lifecycle L14; INV-WITHDRAW",
		every(none), map[string]states{
			"withdrawn_origin":        {X: adm},
			"withdrawn_origin_mature": {X: own},
		}},

	// ---- review ----
	{CapSubmitReview, "a", "§4 Submit for review, note ⁱ; §5 can_submit_for_review; §6 triage, published, dismissed, ghsa_linked; INV-REVIEW-3, INV-AUTH-5",
		states{T: none, D: team, P: none, X: none}, map[string]states{
			"submitted":        {D: none},
			"mature_submitted": {D: none},
			"ghsa":             {D: none},
			"ghsa_mature":      {D: none},
		}},
	{CapWithdrawReview, "a", "§4 Withdraw pending review, note ⁱ; §5 can_withdraw_review; lifecycle R4; INV-REVIEW-3",
		every(none), map[string]states{
			"submitted":        every(team),
			"mature_submitted": every(team),
		}},
	{CapReopenReview, "a", "§4 Reopen review; §5 reopen_review gate; lifecycle R5 (no state/kind check)",
		every(none), map[string]states{"changes_requested": every(own)}},
	{CapDecideReview, "a", "§4 Approve / request changes; §5 can_review; lifecycle R2/R3",
		every(adm), nil},
	{CapRevokeApproval, "a", "§4 revoke approval; §5 can_revoke_approval; §6 dismissed (admin revoke still allowed); lifecycle R6",
		every(none), map[string]states{"approved": every(adm)}},

	// ---- publication ----
	{CapPublish, "a", "§4 Publish, notes ʰ ʲ; §5 can_publish; §6 triage, submitted, dismissed, ghsa_linked (admin break-glass); §7; INV-PERM-1/2/3, INV-AUTH-5",
		states{T: none, D: adm, P: adm, X: none}, map[string]states{
			"approved":                {D: own, P: own},
			"mature":                  {D: own, P: own},
			"withdrawn_origin_mature": {D: own, P: own},
			"submitted":               {D: none, P: none},
			"mature_submitted":        {D: none, P: none},
		}},
	{CapRetryPublication, "a", "§4 Publish / re-publish / retry; lifecycle P3 (retry re-runs can_publish); INV-PERM-1/2/3",
		states{T: none, D: adm, P: adm, X: none}, map[string]states{
			"approved":                {D: own, P: own},
			"mature":                  {D: own, P: own},
			"withdrawn_origin_mature": {D: own, P: own},
			"submitted":               {D: none, P: none},
			"mature_submitted":        {D: none, P: none},
		}},
	{CapWithdraw, "a", "§4 Withdraw published directly, note ʰ; §5 can_withdraw_published; §6 published, ghsa_linked; §7; INV-WITHDRAW",
		states{T: none, D: none, P: adm, X: none}, map[string]states{
			"mature":                  {P: own},
			"mature_submitted":        {P: own},
			"ghsa_mature":             {P: own},
			"withdrawn_origin_mature": {P: own},
		}},
	{CapRequestWithdrawal, "a", "§4 Request withdrawal, note ᵏ; §5 can_request_withdrawal; §7; lifecycle Q1; INV-WITHDRAW",
		states{T: none, D: none, P: team, X: none}, map[string]states{
			"mature":                  {P: none},
			"mature_submitted":        {P: none},
			"ghsa_mature":             {P: none},
			"withdrawn_origin_mature": {P: none},
			"withdrawal_pending":      {P: none},
		}},
	{CapCancelWithdrawalRequest, "a", "§4 Cancel withdrawal request; §5 can_cancel_withdrawal_request; lifecycle Q2",
		every(none), map[string]states{"withdrawal_pending": every(own)}},
	{CapApproveWithdrawal, "a", "§4 Approve withdrawal request; §5 can_approve_withdrawal; lifecycle Q3",
		every(none), map[string]states{"withdrawal_pending": every(adm)}},

	// ---- CVE ----
	{CapRequestCVE, "a", "§4 Request a CVE, note ˡ; §5 can_request_cve; §6 triage, published, dismissed; INV-CVE-1/2/3, INV-AUTH-5",
		states{T: none, D: own, P: own, X: none}, map[string]states{
			"cve_assigned": {D: none, P: none},
			"cve_queued":   {D: none, P: none},
			"cve_banned":   {D: none, P: none},
		}},
	{CapUnassignCVE, "a", "§4 unassign CVE; §5 can_unassign_cve; §6 dismissed (admin CVE actions allowed)",
		every(adm), nil},

	// ---- draft reassignment (INV-AUTH-9) ----
	{CapRequestReassignment, "a", "§4 Request admin reassignment, note ᵐ; §5 can_request_reassignment; §6 triage, published, ghsa_linked; INV-AUTH-9",
		states{T: none, D: team, P: none, X: none}, map[string]states{
			"ghsa":                       {D: none},
			"ghsa_mature":                {D: none},
			"reassign_pending":           {D: none},
			"reassign_pending_nosugg":    {D: none},
			"reassign_pending_dest_same": {D: none},
		}},
	{CapWithdrawReassignmentRequest, "a", "§4 Withdraw reassignment request; §5 can_withdraw_reassignment_request; lifecycle D2",
		every(none), map[string]states{
			"reassign_pending":           every(own),
			"reassign_pending_nosugg":    every(own),
			"reassign_pending_dest_same": every(own),
		}},
	{CapAcceptReassignment, "a", "§4 Accept suggested project, note ⁿ (no role needed on the advisory); §5 can_accept_reassignment_suggestion; INV-AUTH-9",
		every(none), map[string]states{
			"reassign_pending":           every("U A"),
			"reassign_pending_dest_same": every("U A"),
		}},
	{CapResolveReassignment, "a", "§5 can_resolve_reassignment(u,a,p); lifecycle D3",
		every(none), map[string]states{
			"reassign_pending":        every(own),
			"reassign_pending_nosugg": every(own),
		}},
	{CapPickReassignmentTarget, "a", "§4 Resolve request onto any project (picker); §5 can_pick_reassignment_target",
		every(none), map[string]states{
			"reassign_pending":           every(adm),
			"reassign_pending_nosugg":    every(adm),
			"reassign_pending_dest_same": every(adm),
		}},

	// ---- triage ----
	{CapPromote, "a", "§5 can_triage; §6 triage, triage∧flag, unsorted, GHSA-linked triage; INV-AUTH-5, INV-AUTH-6, INV-INTAKE-4",
		states{T: own, D: none, P: none, X: none}, map[string]states{
			"flagged":     {T: adm},
			"unsorted":    {T: adm},
			"ghsa":        {T: none},
			"ghsa_mature": {T: none},
		}},
	{CapFlagRouting, "a", "§5 can_flag_for_admin_routing; §6 triage (owner, not admin), unsorted, GHSA-linked triage; INV-AUTH-6, INV-INTAKE-4",
		states{T: team, D: none, P: none, X: none}, map[string]states{
			"flagged":     {T: none},
			"unsorted":    {T: none},
			"ghsa":        {T: none},
			"ghsa_mature": {T: none},
		}},
	{CapClearRouting, "a", "§5 can_clear_admin_routing_flag (+ service: flagged); §6 triage∧flag, unsorted; lifecycle F2; INV-AUTH-6, INV-INTAKE-4",
		every(none), map[string]states{"flagged": {T: own}}},
	{CapReassignTriage, "a", "§5 can_reassign_triage (banner picker); operations §2.2 /reassign/ admin",
		states{T: adm, D: none, P: none, X: none}, map[string]states{
			"ghsa":        {T: none},
			"ghsa_mature": {T: none},
		}},

	// ---- GHSA ----
	{CapMoveToGHSA, "a", "§4 Move native triage/draft to GHSA, note ᵒ; §5 can_move_to_ghsa; §6 triage (allowed), published; INV-AUTH-6 (not gated by the flag), INV-GHSA-4",
		states{T: own, D: own, P: none, X: none}, map[string]states{
			"ghsa":         {T: none, D: none},
			"ghsa_mature":  {T: none, D: none},
			"features_off": {T: none, D: none},
			"no_pvr":       {T: none, D: none},
		}},
	{CapRefreshGHSA, "a", "§4 Refresh one GHSA-linked advisory; §5 can_sync_ghsa (+ handler: ghsa_linked)",
		every(none), map[string]states{
			"ghsa":        every(own),
			"ghsa_mature": every(own),
		}},

	// ---- project-scoped ----
	{CapCreateAdvisory, "p", "§4 Create advisory; §5 can_create_advisory_for_project; lifecycle L2",
		every(own), nil},
	{CapSyncProjectRepos, "p", "§4 Sync PMI repos for one project; §5 can_sync_project_ghsas",
		every(own), nil},
	{CapSyncProjectGHSAs, "p", "§4 Sync GHSAs for one project; §5 can_sync_project_ghsas; operations §2.6 GF",
		every(own), map[string]states{"features_off": every(none)}},

	// ---- global ----
	{CapSubmitTriageReport, "g", "§4 Submit a public triage report; §5 can_submit_triage_report (always); lifecycle L1",
		every(all), nil},
	{CapListAdvisories, "g", "§4 List advisories (login; rows filtered by can_view); INV-PRIVACY-1",
		every(auth), nil},
	{CapManageOwnNotifications, "g", "§4 Manage own notification preferences; operations §2.4",
		every(auth), nil},
	{CapAuthorAnyAdvisory, "g", "§5 can_author_any_advisory (ADM ∨ on any project's team)",
		every("U O A"), nil},
	{CapManageCVERequests, "g", "§4 Reserve / reject CVE request (+ ban), lift ban; §5 can_review; INV-CVE-3",
		every(adm), nil},
	{CapManageOrphanCVEs, "g", "§4 mark orphan rejected, resolve orphan task; §5 can_manage_orphan_cves",
		every(adm), nil},
	{CapGHSAOrgSync, "g", "§4 Org-wide GHSA sync, PMI mirror refresh, reconcile, discovery, catch-up; §5 can_sync_all_ghsas; operations §2.6 GF",
		every(adm), map[string]states{"features_off": every(none)}},
	{CapConfigureGitHubApp, "g", "§4 GitHub App config / rescan; §5 can_configure_github_app",
		every(adm), nil},
	{CapRetryCVEPush, "g", "§4 retry CVE push (single, bulk); §5 can_retry_cve_push",
		every(adm), nil},
	{CapAdminConsole, "g", "§4 Admin console; §5 can_review; §10 admin console",
		every(adm), nil},
	{CapBanUser, "g", "§4 Ban / unban; §1 Ban (no self-ban); INV-AUTH-8",
		every(adm), map[string]states{"self_target_user": every(none)}},
	{CapForgetUser, "g", "§4 forget user",
		every(adm), nil},
	{CapToggleMaintenance, "g", "§4 toggle maintenance; §9; INV-MAINT-1",
		every(adm), nil},
	{CapManageProjects, "g", "§4 edit project (incl. is_mature_publisher); INV-PERM-2",
		every(adm), nil},
}

// ---- fixtures ----

const (
	gAdmin     = 1
	gViewers   = 50
	gCollabs   = 60
	gTeam      = 100 // the advisory's project security team
	gDest      = 200 // destination project's team (O is a member)
	gForeign   = 300 // a team nobody here belongs to
	gSuggested = 900 // suggested project's team (U is a member)
)

type archetype struct {
	code string
	s    Subject
}

var archetypes = []archetype{
	{"N", Subject{}},
	{"B", Subject{UserID: 2, IsAdmin: true, Banned: true, GroupIDs: []int64{gAdmin, gTeam, gDest}}},
	{"S", Subject{UserID: 3, Provisioned: true, GroupIDs: []int64{gTeam}}},
	{"U", Subject{UserID: 4, GroupIDs: []int64{gSuggested}}},
	{"v", Subject{UserID: 5}},
	{"g", Subject{UserID: 6, GroupIDs: []int64{gViewers}}},
	{"C", Subject{UserID: 7, GroupIDs: []int64{gCollabs}}},
	{"O", Subject{UserID: 8, GroupIDs: []int64{gTeam, gDest}}},
	{"A", Subject{UserID: 9, IsAdmin: true, GroupIDs: []int64{gAdmin}}},
}

var archetypeOrder = func() string {
	var b strings.Builder
	for _, a := range archetypes {
		b.WriteString(a.code)
	}
	return b.String()
}()

func baseTarget(st State) Target {
	return Target{
		ProjectTeamGroupID: gTeam,
		ProjectSlug:        "proj",
		ProjectHasPVRRepo:  true,
		State:              st,
		Kind:               KindNative,
		ReviewStatus:       ReviewNone,
		DismissedFromState: StateDraft,
		Grants: []Grant{
			{PrincipalUser, 5, PermissionViewer},
			{PrincipalGroup, gViewers, PermissionViewer},
			{PrincipalGroup, gCollabs, PermissionCollaborator},
			{PrincipalUser, 7, PermissionViewer}, // must not demote C (INV-AUTH-4)
			{PrincipalUser, 3, PermissionCollaborator},
		},
		Destination:     &ProjectRef{Slug: "dest", TeamGroupID: gDest},
		Comment:         &Comment{AuthorID: 999},
		TargetUserID:    999,
		AllTeamGroupIDs: []int64{gTeam, gDest, gSuggested},
		Features:        Features{GHSA: true, Similarity: true},
	}
}

type scenario struct {
	name  string
	apply func(t *Target, s Subject)
}

var scenarios = []scenario{
	{"base", func(*Target, Subject) {}},
	{"flagged", func(t *Target, _ Subject) { t.NeedsAdminRouting = true }},
	{"unsorted", func(t *Target, _ Subject) { t.ProjectSlug = UnsortedProjectSlug; t.NeedsAdminRouting = true }},
	{"ghsa", func(t *Target, _ Subject) { t.Kind = KindGHSALinked }},
	{"ghsa_mature", func(t *Target, _ Subject) { t.Kind = KindGHSALinked; t.ProjectIsMature = true }},
	{"submitted", func(t *Target, _ Subject) { t.ReviewStatus = ReviewSubmitted }},
	{"approved", func(t *Target, _ Subject) { t.ReviewStatus = ReviewApproved }},
	{"changes_requested", func(t *Target, _ Subject) { t.ReviewStatus = ReviewChangesRequested }},
	{"mature", func(t *Target, _ Subject) { t.ProjectIsMature = true }},
	{"mature_submitted", func(t *Target, _ Subject) { t.ProjectIsMature = true; t.ReviewStatus = ReviewSubmitted }},
	{"cve_assigned", func(t *Target, _ Subject) { t.CVEAssigned = true }},
	{"cve_queued", func(t *Target, _ Subject) { t.CVERequestQueued = true }},
	{"cve_banned", func(t *Target, _ Subject) { t.CVERequestsBanned = true }},
	{"locked", func(t *Target, _ Subject) { t.CommentsLocked = true }},
	{"withdrawal_pending", func(t *Target, _ Subject) { t.WithdrawalRequested = true }},
	{"reassign_pending", func(t *Target, _ Subject) {
		t.ReassignmentRequested = true
		t.SuggestedProject = &ProjectRef{Slug: "suggested", TeamGroupID: gSuggested}
	}},
	{"reassign_pending_nosugg", func(t *Target, _ Subject) { t.ReassignmentRequested = true }},
	{"reassign_pending_dest_same", func(t *Target, _ Subject) {
		t.ReassignmentRequested = true
		t.SuggestedProject = &ProjectRef{Slug: "suggested", TeamGroupID: gSuggested}
		t.Destination = &ProjectRef{Slug: "proj", TeamGroupID: gTeam}
	}},
	{"withdrawn_origin", func(t *Target, _ Subject) { t.DismissedFromState = StatePublished }},
	{"withdrawn_origin_mature", func(t *Target, _ Subject) { t.DismissedFromState = StatePublished; t.ProjectIsMature = true }},
	{"origin_empty", func(t *Target, _ Subject) { t.DismissedFromState = "" }},
	{"origin_triage", func(t *Target, _ Subject) { t.DismissedFromState = StateTriage }},
	{"dest_foreign", func(t *Target, _ Subject) { t.Destination = &ProjectRef{Slug: "foreign", TeamGroupID: gForeign} }},
	{"dest_same", func(t *Target, _ Subject) { t.Destination = &ProjectRef{Slug: "proj", TeamGroupID: gTeam} }},
	{"no_dest", func(t *Target, _ Subject) { t.Destination = nil }},
	{"features_off", func(t *Target, _ Subject) { t.Features = Features{} }},
	{"no_pvr", func(t *Target, _ Subject) { t.ProjectHasPVRRepo = false }},
	{"own_comment", func(t *Target, s Subject) { t.Comment = &Comment{AuthorID: s.UserID} }},
	{"own_internal_comment", func(t *Target, s Subject) { t.Comment = &Comment{AuthorID: s.UserID, Internal: true} }},
	{"own_redacted_comment", func(t *Target, s Subject) { t.Comment = &Comment{AuthorID: s.UserID, Redacted: true} }},
	{"foreign_internal_comment", func(t *Target, _ Subject) { t.Comment = &Comment{AuthorID: 999, Internal: true} }},
	{"no_comment", func(t *Target, _ Subject) { t.Comment = nil }},
	{"self_target_user", func(t *Target, s Subject) { t.TargetUserID = s.UserID }},
}

// canon normalises a cell to archetype order; it rejects unknown codes.
func canon(t *testing.T, cell string) string {
	t.Helper()
	if cell == none {
		return none
	}
	fields := strings.Fields(cell)
	for _, f := range fields {
		if len(f) != 1 || !strings.Contains(archetypeOrder, f) {
			t.Fatalf("bad archetype %q in cell %q", f, cell)
		}
	}
	var out []string
	for _, a := range archetypes {
		if slices.Contains(fields, a.code) {
			out = append(out, a.code)
		}
	}
	if len(out) == 0 {
		t.Fatalf("empty cell %q (write %q for nobody)", cell, none)
	}
	return strings.Join(out, " ")
}

func pick(s states, st State) string {
	switch st {
	case StateTriage:
		return s.T
	case StateDraft:
		return s.D
	case StatePublished:
		return s.P
	}
	return s.X
}

func set(s *states, st State, v string) {
	switch st {
	case StateTriage:
		s.T = v
	case StateDraft:
		s.D = v
	case StatePublished:
		s.P = v
	default:
		s.X = v
	}
}

// wantKind is the denial-kind contract: unauthenticated callers first,
// then switched-off features (404), then advisory-scoped refusals to a
// caller without a role (404, permissions.md §13), else 403.
func wantKind(r row, sc string, a archetype) DenialKind {
	switch {
	case strings.Contains("NBS", a.code):
		return DeniedUnauthenticated
	case sc == "features_off" && slices.Contains([]Capability{
		CapViewSimilarity, CapRunSimilarity, CapMoveToGHSA, CapSyncProjectGHSAs, CapGHSAOrgSync}, r.cap):
		return DeniedNotFound
	case r.scope == "a" && a.code == "U":
		return DeniedNotFound
	}
	return DeniedForbidden
}

func TestMatrix(t *testing.T) {
	cells := 0
	for _, r := range matrix {
		t.Run(string(r.cap), func(t *testing.T) {
			if got := string(r.cap.Scope())[:1]; got != r.scope {
				t.Errorf("Scope() = %q, table says %q", r.cap.Scope(), r.scope)
			}
			for _, sc := range scenarios {
				var want, got states
				for _, st := range States() {
					w := pick(r.base, st)
					if o, ok := r.over[sc.name]; ok && pick(o, st) != "" {
						w = pick(o, st)
					}
					set(&want, st, canon(t, w))

					var allowed []string
					for _, a := range archetypes {
						tg := baseTarget(st)
						sc.apply(&tg, a.s)
						d := Can(a.s, r.cap, tg)
						cells++
						if d.Allowed {
							allowed = append(allowed, a.code)
							if d.Kind != "" || d.Reason != "" || d.Err() != nil {
								t.Errorf("%s/%s/%s: allowed decision carries denial %+v", sc.name, st, a.code, d)
							}
							continue
						}
						if k := wantKind(r, sc.name, a); d.Kind != k {
							t.Errorf("%s/%s/%s: denial kind = %q (%s), want %q", sc.name, st, a.code, d.Kind, d.Reason, k)
						}
						if d.Reason == "" || d.Capability != r.cap {
							t.Errorf("%s/%s/%s: incomplete denial %+v", sc.name, st, a.code, d)
						}
					}
					if len(allowed) == 0 {
						set(&got, st, none)
					} else {
						set(&got, st, strings.Join(allowed, " "))
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("scenario %s (%s) mismatch (-want +got):\n%s", sc.name, r.ref, diff)
				}
			}
		})
	}
	t.Logf("%d capabilities × %d scenarios × %d states × %d archetypes = %d matrix cells",
		len(matrix), len(scenarios), len(States()), len(archetypes), cells)
}

// TestMatrixComplete: every Capability has exactly one row, every override
// names a known scenario, and every base cell is written out.
func TestMatrixComplete(t *testing.T) {
	seen := map[Capability]bool{}
	known := map[string]bool{}
	for _, sc := range scenarios {
		if known[sc.name] {
			t.Errorf("duplicate scenario %q", sc.name)
		}
		known[sc.name] = true
	}
	for _, r := range matrix {
		if seen[r.cap] {
			t.Errorf("duplicate row for %q", r.cap)
		}
		seen[r.cap] = true
		if !r.cap.Valid() {
			t.Errorf("row for unknown capability %q", r.cap)
		}
		if r.ref == "" {
			t.Errorf("%s: row cites no source", r.cap)
		}
		for _, st := range States() {
			if pick(r.base, st) == "" {
				t.Errorf("%s: base cell for %s is blank", r.cap, st)
			}
		}
		for name := range r.over {
			if !known[name] || name == "base" {
				t.Errorf("%s: override for unknown scenario %q", r.cap, name)
			}
		}
	}
	for _, c := range Capabilities() {
		if !seen[c] {
			t.Errorf("capability %q missing from the contract matrix", c)
		}
	}
	if got, want := len(Capabilities()), len(seen); got != want {
		t.Errorf("Capabilities() has %d entries, matrix %d", got, want)
	}
	var dup []Capability
	for i, c := range Capabilities() {
		if slices.Contains(Capabilities()[:i], c) {
			dup = append(dup, c)
		}
	}
	if len(dup) > 0 {
		t.Errorf("duplicate capabilities: %v", dup)
	}
}

// TestNeedsStepUp: permissions.md §8 gated actions and §13 (un-withdraw,
// Move to GHSA, App page view); everything else is not gated (§8 "Not
// gated": request/cancel withdrawal, reopen, dismiss, CVE workflow, project
// sync, single-advisory refresh).
func TestNeedsStepUp(t *testing.T) {
	gated := []Capability{
		CapPublish, CapRetryPublication, CapWithdraw, CapApproveWithdrawal, CapUnwithdraw,
		CapMoveToGHSA, CapConfigureGitHubApp, CapGHSAOrgSync, CapRetryCVEPush,
		CapForgetUser, CapBanUser, CapToggleMaintenance,
	}
	for _, c := range Capabilities() {
		if got, want := NeedsStepUp(c), slices.Contains(gated, c); got != want {
			t.Errorf("NeedsStepUp(%s) = %v, want %v", c, got, want)
		}
	}
	if NeedsStepUp("nonsense") {
		t.Error("NeedsStepUp(unknown) = true")
	}
}

func TestResolve(t *testing.T) {
	grants := func(gs ...Grant) Target {
		return Target{ProjectTeamGroupID: gTeam, State: StatePublished, Kind: KindNative, ReviewStatus: ReviewNone, Grants: gs}
	}
	u := func(id int64, p Permission) Grant { return Grant{PrincipalUser, id, p} }
	g := func(id int64, p Permission) Grant { return Grant{PrincipalGroup, id, p} }
	tests := []struct {
		name string
		s    Subject
		t    Target
		want Role
	}{
		{"anonymous", Subject{}, grants(), RoleNone},
		{"anonymous claiming admin and team (malformed) → none", Subject{IsAdmin: true, GroupIDs: []int64{gTeam}}, grants(), RoleNone},
		{"negative user id → none", Subject{UserID: -1, IsAdmin: true}, grants(), RoleNone},
		{"banned admin → none (INV-AUTH-8)", Subject{UserID: 1, IsAdmin: true, Banned: true}, grants(), RoleNone},
		{"banned team member → none", Subject{UserID: 1, Banned: true, GroupIDs: []int64{gTeam}}, grants(), RoleNone},
		{"banned grantee → none", Subject{UserID: 1, Banned: true}, grants(u(1, PermissionCollaborator)), RoleNone},
		{"shadow in team with grant → none (INV-OIDC-5)", Subject{UserID: 1, Provisioned: true, GroupIDs: []int64{gTeam}}, grants(u(1, PermissionCollaborator)), RoleNone},
		{"admin → owner", Subject{UserID: 1, IsAdmin: true}, grants(), RoleOwner},
		{"team member → owner (INV-AUTH-3)", Subject{UserID: 1, GroupIDs: []int64{gTeam}}, grants(), RoleOwner},
		{"team member with viewer grant → owner", Subject{UserID: 1, GroupIDs: []int64{gTeam}}, grants(u(1, PermissionViewer)), RoleOwner},
		{"direct viewer", Subject{UserID: 1}, grants(u(1, PermissionViewer)), RoleViewer},
		{"group viewer", Subject{UserID: 1, GroupIDs: []int64{7}}, grants(g(7, PermissionViewer)), RoleViewer},
		{"direct viewer + group collaborator → collaborator (INV-AUTH-4)", Subject{UserID: 1, GroupIDs: []int64{7}}, grants(u(1, PermissionViewer), g(7, PermissionCollaborator)), RoleCollaborator},
		{"group viewer + direct collaborator → collaborator", Subject{UserID: 1, GroupIDs: []int64{7}}, grants(u(1, PermissionCollaborator), g(7, PermissionViewer)), RoleCollaborator},
		{"grant for another user", Subject{UserID: 1}, grants(u(2, PermissionCollaborator)), RoleNone},
		{"grant for another group", Subject{UserID: 1, GroupIDs: []int64{7}}, grants(g(8, PermissionCollaborator)), RoleNone},
		{"user grant id equal to a group id does not match", Subject{UserID: 1, GroupIDs: []int64{7}}, grants(u(7, PermissionCollaborator)), RoleNone},
		{"group grant id equal to the user id does not match", Subject{UserID: 7}, grants(g(7, PermissionCollaborator)), RoleNone},
		{"stored owner grant ignored (INV-AUTH-3)", Subject{UserID: 1}, grants(u(1, "owner")), RoleNone},
		{"stored owner group grant ignored", Subject{UserID: 1, GroupIDs: []int64{7}}, grants(g(7, "owner"), u(1, PermissionViewer)), RoleViewer},
		{"unknown principal type ignored", Subject{UserID: 1}, grants(Grant{"role", 1, PermissionCollaborator}), RoleNone},
		{"project without team: group 0 never matches", Subject{UserID: 1, GroupIDs: []int64{0}}, Target{}, RoleNone},
		{"group grant to id 0 never matches", Subject{UserID: 1, GroupIDs: []int64{0}}, grants(g(0, PermissionCollaborator)), RoleNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Resolve(tc.s, tc.t); got != tc.want {
				t.Errorf("Resolve = %v, want %v", got, tc.want)
			}
			// INV-AUTH-7: the state is never consulted.
			for _, st := range States() {
				tg := tc.t
				tg.State = st
				if got := Resolve(tc.s, tg); got != tc.want {
					t.Errorf("state %s: Resolve = %v, want %v", st, got, tc.want)
				}
				if got, want := Visible(tc.s, tg), tc.want != RoleNone; got != want {
					t.Errorf("state %s: Visible = %v, want %v", st, got, want)
				}
			}
			if !slices.Contains(VisibleRoles, tc.want) && tc.want != RoleNone {
				t.Errorf("role %v missing from VisibleRoles", tc.want)
			}
		})
	}
}

func TestRoleRank(t *testing.T) {
	order := []Role{RoleNone, RoleViewer, RoleCollaborator, RoleOwner}
	for i, r := range order {
		if r.Rank() != i || !r.Valid() {
			t.Errorf("%v: Rank = %d, Valid = %v", r, r.Rank(), r.Valid())
		}
		for j, o := range order {
			if got, want := r.AtLeast(o), i >= j; got != want {
				t.Errorf("%v.AtLeast(%v) = %v, want %v", r, o, got, want)
			}
		}
	}
	if Role("admin").Valid() || Role("admin").Rank() != 0 {
		t.Error("unknown role must be invalid and rank 0")
	}
	if RoleNone.String() != "none" || RoleOwner.String() != "owner" {
		t.Error("String")
	}
}

func TestParsePermission(t *testing.T) {
	for _, in := range []string{"viewer", "collaborator"} {
		p, err := ParsePermission(in)
		if err != nil || string(p) != in || p.Role() == RoleNone {
			t.Errorf("ParsePermission(%q) = %q, %v", in, p, err)
		}
	}
	// INV-AUTH-3, INV-ACCESS-4: owner is never storable.
	for _, in := range []string{"owner", "OWNER", "Viewer", "", "admin", " viewer"} {
		if p, err := ParsePermission(in); !errors.Is(err, ErrInvalidPermission) || apperr.KindOf(err) != apperr.Invalid || p != "" {
			t.Errorf("ParsePermission(%q) = %q, %v; want ErrInvalidPermission", in, p, err)
		}
	}
	if Permission("owner").Valid() || Permission("owner").Role() != RoleNone {
		t.Error(`Permission("owner") must be invalid and confer nothing`)
	}
}

func TestMaintenanceBlocks(t *testing.T) {
	tests := []struct {
		name string
		s    Subject
		want bool
	}{
		{"anonymous (public intake paused too)", Subject{}, true},
		{"anonymous claiming admin", Subject{IsAdmin: true}, true},
		{"signed-in user", Subject{UserID: 1}, true},
		{"team owner", Subject{UserID: 1, GroupIDs: []int64{gTeam}}, true},
		{"banned admin", Subject{UserID: 1, IsAdmin: true, Banned: true}, true},
		{"shadow admin", Subject{UserID: 1, IsAdmin: true, Provisioned: true}, true},
		{"admin", Subject{UserID: 1, IsAdmin: true}, false},
	}
	for _, tc := range tests {
		if got := MaintenanceBlocks(tc.s); got != tc.want {
			t.Errorf("%s: MaintenanceBlocks = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecisionErr(t *testing.T) {
	admin := Subject{UserID: 9, IsAdmin: true}
	viewer := Subject{UserID: 5}
	tg := baseTarget(StateDraft)
	tests := []struct {
		name string
		s    Subject
		c    Capability
		t    Target
		want error
	}{
		{"allowed", admin, CapEdit, tg, nil},
		{"anonymous", Subject{}, CapView, tg, ErrUnauthenticated},
		{"invisible", Subject{UserID: 4}, CapView, tg, ErrNotFound},
		{"insufficient role", viewer, CapEdit, tg, ErrForbidden},
		{"global cap", viewer, CapAdminConsole, tg, ErrForbidden},
		{"feature off", admin, CapViewSimilarity, Target{State: StateDraft, Kind: KindNative, ReviewStatus: ReviewNone}, ErrNotFound},
		{"unknown capability", admin, "teleport", tg, ErrForbidden},
		{"invalid state fails closed", admin, CapView, Target{Kind: KindNative, ReviewStatus: ReviewNone}, ErrForbidden},
		{"invalid kind fails closed", admin, CapView, Target{State: StateDraft, ReviewStatus: ReviewNone}, ErrForbidden},
		{"invalid review status fails closed", admin, CapView, Target{State: StateDraft, Kind: KindNative}, ErrForbidden},
		{"invalid dismissal origin fails closed", admin, CapView, Target{State: StateDraft, Kind: KindNative, ReviewStatus: ReviewNone, DismissedFromState: "x"}, ErrForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.s, tc.c, tc.t)
			if tc.want == nil {
				if err != nil || !Allowed(tc.s, tc.c, tc.t) {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v, want errors.Is %v", err, tc.want)
			}
			kinds := map[error]apperr.Kind{ErrUnauthenticated: apperr.Unauthenticated, ErrNotFound: apperr.NotFound, ErrForbidden: apperr.Forbidden}
			if k := apperr.KindOf(err); k != kinds[tc.want] || !errors.Is(err, kinds[tc.want]) {
				t.Errorf("apperr.KindOf = %v, want %v", k, kinds[tc.want])
			}
			for _, other := range []error{ErrUnauthenticated, ErrNotFound, ErrForbidden} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
			var de *DenialError
			if !errors.As(err, &de) || de.Capability != tc.c || de.Reason == "" {
				t.Errorf("errors.As DenialError = %+v", de)
			}
			if msg := err.Error(); !strings.Contains(msg, string(tc.c)) {
				t.Errorf("Error() = %q lacks the capability", msg)
			}
		})
	}
}

func TestReopenCapability(t *testing.T) {
	for origin, want := range map[State]Capability{
		"": CapReopen, StateTriage: CapReopen, StateDraft: CapReopen, StatePublished: CapUnwithdraw,
	} {
		if got := ReopenCapability(Target{DismissedFromState: origin}); got != want {
			t.Errorf("ReopenCapability(%q) = %s, want %s", origin, got, want)
		}
	}
}

// Selected reasons, so UI hints and logs stay meaningful.
func TestReasons(t *testing.T) {
	owner := Subject{UserID: 8, GroupIDs: []int64{gTeam}}
	admin := Subject{UserID: 9, IsAdmin: true}
	mut := func(st State, f func(*Target)) Target { tg := baseTarget(st); f(&tg); return tg }
	tests := []struct {
		s    Subject
		c    Capability
		t    Target
		want Reason
	}{
		{Subject{UserID: 1, Banned: true}, CapView, baseTarget(StateDraft), ReasonBanned},
		{Subject{UserID: 1, Provisioned: true}, CapView, baseTarget(StateDraft), ReasonShadowUser},
		{Subject{}, CapView, baseTarget(StateDraft), ReasonAnonymous},
		{owner, CapEdit, mut(StateTriage, func(t *Target) { t.NeedsAdminRouting = true }), ReasonRoutingFlagged},
		{owner, CapEdit, mut(StateDraft, func(t *Target) { t.ReviewStatus = ReviewSubmitted }), ReasonReviewSubmitted},
		{admin, CapEdit, mut(StateDraft, func(t *Target) { t.Kind = KindGHSALinked }), ReasonGHSALinked},
		{admin, CapPublish, mut(StateDraft, func(t *Target) { t.ReviewStatus = ReviewSubmitted }), ReasonReviewSubmitted},
		{owner, CapPublish, baseTarget(StateDraft), ReasonApprovalRequired},
		{admin, CapSubmitReview, baseTarget(StateDraft), ReasonAdminExcluded},
		{owner, CapDismiss, mut(StateDraft, func(t *Target) { t.CVEAssigned = true }), ReasonCVEAssigned},
		{owner, CapWithdraw, baseTarget(StatePublished), ReasonNotMature},
		{owner, CapRequestWithdrawal, mut(StatePublished, func(t *Target) { t.ProjectIsMature = true }), ReasonMaturePublisher},
		{owner, CapFlagRouting, mut(StateTriage, func(t *Target) { t.ProjectSlug = UnsortedProjectSlug }), ReasonUnsorted},
		{owner, CapReopen, mut(StateDismissed, func(t *Target) { t.DismissedFromState = StatePublished }), ReasonWithdrawalOrigin},
		{admin, CapUnwithdraw, baseTarget(StateDismissed), ReasonNotWithdrawalOrigin},
		{owner, CapChangeProject, mut(StateDraft, func(t *Target) { t.Destination.TeamGroupID = gForeign }), ReasonNotDestinationTeam},
		{admin, CapBanUser, Target{TargetUserID: 9}, ReasonSelf},
		{owner, CapMoveToGHSA, mut(StateDraft, func(t *Target) { t.ProjectHasPVRRepo = false }), ReasonNoPVRRepo},
		{owner, CapComment, mut(StateDraft, func(t *Target) { t.CommentsLocked = true }), ""},
		{Subject{UserID: 5}, CapComment, mut(StateDraft, func(t *Target) { t.CommentsLocked = true }), ReasonCommentsLocked},
		{owner, CapRequestCVE, mut(StateDraft, func(t *Target) { t.CVERequestsBanned = true }), ReasonCVERequestsBanned},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d_%s", i, tc.c), func(t *testing.T) {
			if got := Can(tc.s, tc.c, tc.t).Reason; got != tc.want {
				t.Errorf("Reason = %q, want %q", got, tc.want)
			}
		})
	}
}
