package access

import "slices"

// Can decides whether s may exercise c on t. Order of checks:
//
//  1. unknown capability → forbidden;
//  2. CapSubmitTriageReport → allowed for everyone (can_submit_triage_report);
//  3. anonymous, banned or shadow subject → unauthenticated (INV-AUTH-8,
//     INV-OIDC-5);
//  4. a switched-off feature behind the surface → not found (INV-SIM-2, GF);
//  5. an advisory-scoped capability on a target with an unknown state, kind
//     or review status → forbidden (fail closed);
//  6. the capability's rule (permissions.md §5 + §6). A refusal of an
//     advisory-scoped capability to a subject with no role on the advisory
//     is reported as not found (§13: invisible answers like missing).
func Can(s Subject, c Capability, t Target) Decision {
	deny := func(k DenialKind, r Reason) Decision {
		return Decision{Capability: c, Kind: k, Reason: r}
	}
	scope := c.Scope()
	switch {
	case scope == "":
		return deny(DeniedForbidden, ReasonUnknownCapability)
	case c == CapSubmitTriageReport:
		return Decision{Capability: c, Allowed: true}
	case s.UserID <= 0:
		return deny(DeniedUnauthenticated, ReasonAnonymous)
	case s.Banned:
		return deny(DeniedUnauthenticated, ReasonBanned)
	case s.Provisioned:
		return deny(DeniedUnauthenticated, ReasonShadowUser)
	}
	if !featureOn(c, t.Features) {
		return deny(DeniedNotFound, ReasonFeatureDisabled)
	}
	e := eval{s: s, t: t, adm: s.Admin(), team: s.InGroup(t.ProjectTeamGroupID)}
	e.mat = e.team && t.ProjectIsMature
	if scope == ScopeAdvisory {
		if !t.State.Valid() || !t.Kind.Valid() || !t.ReviewStatus.Valid() ||
			(t.DismissedFromState != "" && !t.DismissedFromState.Valid()) {
			return deny(DeniedForbidden, ReasonInvalidTarget)
		}
		e.role = Resolve(s, t)
	}
	r := e.rule(c)
	if r == "" {
		return Decision{Capability: c, Allowed: true}
	}
	if scope == ScopeAdvisory && e.role == RoleNone {
		return deny(DeniedNotFound, ReasonNotVisible)
	}
	return deny(DeniedForbidden, r)
}

// Allowed is Can(s, c, t).Allowed.
func Allowed(s Subject, c Capability, t Target) bool { return Can(s, c, t).Allowed }

// Check is Can(s, c, t).Err().
func Check(s Subject, c Capability, t Target) error { return Can(s, c, t).Err() }

// featureOn reports whether the deployment switch behind c (if any) is on.
func featureOn(c Capability, f Features) bool {
	switch c {
	case CapViewSimilarity, CapRunSimilarity: // INV-SIM-2: 404 while off
		return f.Similarity
	case CapMoveToGHSA, CapSyncProjectGHSAs, CapGHSAOrgSync: // GF routes
		return f.GHSA
	}
	return true
}

type eval struct {
	s    Subject
	t    Target
	role Role // advisory-scoped only
	adm  bool // ADM(u)
	team bool // TEAM(u, a.project) / TEAM(u, p)
	mat  bool // MAT(u, a.project)
}

// first returns the first non-empty reason: rules are written as ordered
// lists of checks, each check yielding "" when it passes. All arguments are
// evaluated, so every check must be safe on any Target (nil pointers
// included).
func first(rs ...Reason) Reason {
	for _, r := range rs {
		if r != "" {
			return r
		}
	}
	return ""
}

func when(fail bool, r Reason) Reason {
	if fail {
		return r
	}
	return ""
}

func (e *eval) atLeast(min Role) Reason { return when(!e.role.AtLeast(min), ReasonRole) }
func (e *eval) owner() Reason           { return e.atLeast(RoleOwner) }
func (e *eval) admin() Reason           { return when(!e.adm, ReasonAdminOnly) }
func (e *eval) notAdmin() Reason        { return when(e.adm, ReasonAdminExcluded) }
func (e *eval) native() Reason          { return when(e.t.Kind != KindNative, ReasonGHSALinked) }
func (e *eval) state(ok ...State) Reason {
	return when(!slices.Contains(ok, e.t.State), ReasonState)
}
func (e *eval) adminOrTeam() Reason { return when(!e.adm && !e.team, ReasonNotTeamMember) }
func (e *eval) flagged() bool       { return e.t.NeedsAdminRouting }
func (e *eval) unsorted() Reason    { return when(e.t.ProjectSlug == UnsortedProjectSlug, ReasonUnsorted) }

// rule evaluates capability c for an authenticated subject.
func (e *eval) rule(c Capability) Reason {
	t := e.t
	switch c {
	// --- reading and commenting (§5 can_view, can_comment, …) ---
	case CapView, CapAdvisoryNotificationPrefs:
		return e.atLeast(RoleViewer)
	case CapViewInternalComments:
		return e.atLeast(RoleCollaborator)
	case CapSeeUserEmails:
		return e.owner()
	case CapComment:
		return first(e.atLeast(RoleViewer), e.lock())
	case CapCommentInternal:
		return first(e.atLeast(RoleCollaborator), e.lock())
	case CapEditComment:
		return e.commentRule(false)
	case CapRedactComment:
		return e.commentRule(true)
	case CapLockComments: // any state
		return e.owner()
	case CapViewSimilarity, CapRunSimilarity: // INV-SIM-1
		return e.owner()

	// --- content ---
	case CapEdit:
		return e.canEdit()
	case CapChangeProject:
		return e.canChangeProject()
	case CapManageAccess, CapDismissAccessReview: // can_grant_access, any state
		return e.owner()

	// --- lifecycle ---
	case CapDismiss:
		if t.State == StateTriage {
			// §5: triage rows use can_triage; note ᵍ applied too (see
			// canDismissCVE).
			return first(e.canTriage(), e.canDismissCVE())
		}
		// can_dismiss; dismissed rows are frozen (§6 "only reopen").
		return first(e.owner(), e.state(StateDraft), e.canDismissCVE())
	case CapReopen:
		return first(e.state(StateDismissed),
			when(t.DismissedFromState == StatePublished, ReasonWithdrawalOrigin),
			e.owner())
	case CapUnwithdraw: // INV-WITHDRAW: publish authority, ADM ∨ MAT
		return first(e.state(StateDismissed),
			when(t.DismissedFromState != StatePublished, ReasonNotWithdrawalOrigin),
			when(!e.adm && !e.mat, e.matReason()))

	// --- review (§5, INV-REVIEW-3) ---
	case CapSubmitReview:
		return first(e.native(), e.owner(), e.notAdmin(), e.state(StateDraft),
			when(t.ReviewStatus == ReviewSubmitted, ReasonReviewSubmitted))
	case CapWithdrawReview:
		return first(e.native(), e.owner(), e.notAdmin(),
			when(t.ReviewStatus != ReviewSubmitted, ReasonReviewStatus))
	case CapReopenReview: // (ADM ∨ TEAM) = R = owner
		return first(e.owner(), when(t.ReviewStatus != ReviewChangesRequested, ReasonReviewStatus))
	case CapDecideReview: // can_review
		return e.admin()
	case CapRevokeApproval:
		return first(e.native(), e.admin(), when(t.ReviewStatus != ReviewApproved, ReasonReviewStatus))

	// --- publication (§5 can_publish, INV-PERM-1..3, §6 GHSA break-glass) ---
	case CapPublish, CapRetryPublication:
		return e.canPublish()
	case CapWithdraw: // can_withdraw_published
		return first(e.state(StatePublished), when(!e.adm && !e.mat, e.matReason()))
	case CapRequestWithdrawal:
		return first(e.state(StatePublished), e.notAdmin(),
			when(!e.team, e.roleOr(ReasonNotTeamMember)),
			when(e.mat, ReasonMaturePublisher),
			when(t.WithdrawalRequested, ReasonRequestPending))
	case CapCancelWithdrawalRequest:
		return first(when(!t.WithdrawalRequested, ReasonNoRequestPending), e.adminOrTeam())
	case CapApproveWithdrawal:
		return first(when(!t.WithdrawalRequested, ReasonNoRequestPending), e.admin())

	// --- CVE (§5 can_request_cve, INV-CVE-1..3) ---
	case CapRequestCVE:
		return first(e.owner(), e.state(StateDraft, StatePublished),
			when(t.CVERequestsBanned, ReasonCVERequestsBanned),
			when(t.CVEAssigned, ReasonCVEAssigned),
			when(t.CVERequestQueued, ReasonCVERequestQueued))
	case CapUnassignCVE:
		return e.admin()

	// --- draft reassignment requests (INV-AUTH-9) ---
	case CapRequestReassignment:
		return first(e.native(), e.owner(), e.notAdmin(), e.state(StateDraft),
			when(t.ReassignmentRequested, ReasonRequestPending))
	case CapWithdrawReassignmentRequest:
		return first(when(!t.ReassignmentRequested, ReasonNoRequestPending), e.owner())
	case CapAcceptReassignment:
		return first(when(!t.ReassignmentRequested, ReasonNoRequestPending),
			when(t.SuggestedProject == nil, ReasonNoSuggestion),
			e.adminOrDest(t.SuggestedProject))
	case CapResolveReassignment:
		return first(when(!t.ReassignmentRequested, ReasonNoRequestPending),
			when(t.Destination == nil, ReasonNoDestination),
			e.notSameProject(t.Destination),
			e.adminOrDest(t.Destination))
	case CapPickReassignmentTarget:
		return first(when(!t.ReassignmentRequested, ReasonNoRequestPending), e.admin())

	// --- triage (§5 can_triage & co., INV-AUTH-5/6, INV-INTAKE-4) ---
	case CapPromote:
		return e.canTriage()
	case CapFlagRouting:
		return first(e.state(StateTriage), e.native(), e.owner(), e.notAdmin(), e.unsorted(),
			when(e.flagged(), ReasonRoutingFlagged))
	case CapClearRouting:
		// §5 plus the service's "currently flagged" guard (F2).
		return first(e.state(StateTriage), e.owner(), e.unsorted(),
			when(!e.flagged(), ReasonNotFlagged))
	case CapReassignTriage:
		return first(e.state(StateTriage), e.native(), e.admin())

	// --- GHSA (§5, INV-GHSA-4) ---
	case CapMoveToGHSA: // feature switch checked in Can; not gated by the flag
		return first(e.native(), e.state(StateTriage, StateDraft), e.owner(),
			when(!t.ProjectHasPVRRepo, ReasonNoPVRRepo))
	case CapRefreshGHSA:
		return first(e.owner(), when(t.Kind != KindGHSALinked, ReasonNotGHSALinked))

	// --- project-scoped ---
	case CapCreateAdvisory, CapSyncProjectRepos, CapSyncProjectGHSAs:
		return e.adminOrTeam()

	// --- global ---
	case CapListAdvisories, CapManageOwnNotifications:
		return ""
	case CapAuthorAnyAdvisory:
		for _, g := range t.AllTeamGroupIDs {
			if e.s.InGroup(g) {
				return ""
			}
		}
		return e.admin()
	case CapBanUser: // an admin cannot ban themselves (INV-AUTH-8)
		return first(e.admin(), when(t.TargetUserID == e.s.UserID, ReasonSelf))
	case CapManageCVERequests, CapManageOrphanCVEs, CapGHSAOrgSync, CapConfigureGitHubApp,
		CapRetryCVEPush, CapAdminConsole, CapForgetUser, CapToggleMaintenance, CapManageProjects:
		return e.admin()
	}
	return ReasonUnknownCapability
}

// roleOr reports ReasonRole when the subject has no owner rank, else r.
func (e *eval) roleOr(r Reason) Reason {
	if e.role != RoleOwner {
		return ReasonRole
	}
	return r
}

// matReason explains a failed ADM ∨ MAT check.
func (e *eval) matReason() Reason {
	if !e.team {
		return e.roleOr(ReasonNotTeamMember)
	}
	return ReasonNotMature
}

// lock: while comments are locked only owners post (note ᶜ).
func (e *eval) lock() Reason {
	return when(e.t.CommentsLocked && e.role != RoleOwner, ReasonCommentsLocked)
}

// commentRule is note ᵈ: edit — author only; redact — author or admin; both
// need an unredacted comment the caller can still see.
func (e *eval) commentRule(redact bool) Reason {
	cm := e.t.Comment
	if cm == nil {
		return first(e.atLeast(RoleViewer), ReasonNoComment)
	}
	author := cm.AuthorID != 0 && cm.AuthorID == e.s.UserID
	min := RoleViewer
	if cm.Internal {
		min = RoleCollaborator
	}
	return first(e.atLeast(min),
		when(cm.Redacted, ReasonCommentRedacted),
		when(!author && !(redact && e.adm), ReasonNotAuthor))
}

// canEdit is can_edit (§5) plus the handler's refusal of GHSA-linked rows
// (§6, INV-GHSA-1).
func (e *eval) canEdit() Reason {
	t := e.t
	return first(
		e.atLeast(RoleCollaborator),
		e.native(),
		when(t.State == StateDismissed, ReasonState),
		when(t.State == StateTriage && e.role != RoleOwner, ReasonRole),             // INV-AUTH-5
		when(t.State == StateTriage && e.flagged() && !e.adm, ReasonRoutingFlagged), // INV-AUTH-6
		when(t.ReviewStatus == ReviewSubmitted && !e.adm, ReasonReviewSubmitted),    // INV-REVIEW-2
	)
}

// canChangeProject: the edit form's project field. Requires can_edit; then
// in triage reassign_triage_project's rule (ADM, or can_triage and member of
// the destination team — F3), elsewhere can_change_project (R = owner ∧
// (ADM ∨ TEAM(u, p))). Native only (note ᶠ, INV-GHSA-1).
func (e *eval) canChangeProject() Reason {
	t := e.t
	if r := first(e.canEdit(), e.owner(), when(t.Destination == nil, ReasonNoDestination)); r != "" {
		return r
	}
	if t.State == StateTriage && !e.adm {
		if r := e.canTriage(); r != "" {
			return r
		}
	}
	return e.adminOrDest(t.Destination)
}

// canTriage is can_triage: triage ∧ native ∧ (¬flagged ∨ ADM) ∧ R = owner.
// GHSA-linked triage rows are read-only mirrors (§6).
func (e *eval) canTriage() Reason {
	return first(e.owner(), e.state(StateTriage), e.native(),
		when(e.flagged() && !e.adm, ReasonRoutingFlagged))
}

// canDismissCVE is note ᵍ: pulling an assigned CVE is admin-only.
func (e *eval) canDismissCVE() Reason {
	return when(e.t.CVEAssigned && !e.adm, ReasonCVEAssigned)
}

// canPublish follows INV-PERM-1's order: not dismissed/triage; not while
// submitted (INV-PERM-3, admins included); admin (GHSA-linked break-glass
// included); native only; team member; approved or mature.
func (e *eval) canPublish() Reason {
	t := e.t
	if r := first(e.owner(), e.state(StateDraft, StatePublished),
		when(t.ReviewStatus == ReviewSubmitted, ReasonReviewSubmitted)); r != "" {
		return r
	}
	if e.adm {
		return ""
	}
	return first(e.native(), when(!e.team, ReasonNotTeamMember),
		when(t.ReviewStatus != ReviewApproved && !t.ProjectIsMature, ReasonApprovalRequired))
}

func (e *eval) notSameProject(p *ProjectRef) Reason {
	return when(p == nil || p.Slug == e.t.ProjectSlug, ReasonSameProject)
}

// adminOrDest is ADM ∨ TEAM(u, p); p must be set.
func (e *eval) adminOrDest(p *ProjectRef) Reason {
	if p == nil {
		return ReasonNoDestination
	}
	if e.adm || e.s.InGroup(p.TeamGroupID) {
		return ""
	}
	return ReasonNotDestinationTeam
}
