package audit

// The 97 recordable actions (audit-actions.md §1), grouped as in the
// catalogue. Their store and timeline tier are in catalogue below.
const (
	// Advisory lifecycle and content.
	AdvisoryCreated               Action = "advisory.created"
	AdvisoryEdited                Action = "advisory.edited"
	AdvisoryStateChanged          Action = "advisory.state_changed"
	AdvisoryProjectChanged        Action = "advisory.project_changed"
	AdvisoryAccessReviewDismissed Action = "advisory.access_review_dismissed"
	AdvisoryPublished             Action = "advisory.published"
	AdvisoryDismissed             Action = "advisory.dismissed"
	AdvisoryReopened              Action = "advisory.reopened"
	AdvisoryMovedToGHSA           Action = "advisory.moved_to_ghsa"
	AdvisoryViewed                Action = "advisory.viewed"
	AdvisoryFirstSeen             Action = "advisory.first_seen"

	// Triage, routing, requests, comment lock.
	AdvisoryTriageSubmitted            Action = "advisory.triage_submitted"
	AdvisoryTriagePromoted             Action = "advisory.triage_promoted"
	AdvisoryFlaggedForRouting          Action = "advisory.flagged_for_routing"
	AdvisoryRoutingFlagCleared         Action = "advisory.routing_flag_cleared"
	AdvisoryReassignmentRequested      Action = "advisory.reassignment_requested"
	AdvisoryReassignmentRequestCleared Action = "advisory.reassignment_request_cleared"
	AdvisoryWithdrawalRequested        Action = "advisory.withdrawal_requested"
	AdvisoryWithdrawalRequestCleared   Action = "advisory.withdrawal_request_cleared"
	AdvisoryCommentsLocked             Action = "advisory.comments_locked"
	AdvisoryCommentsUnlocked           Action = "advisory.comments_unlocked"

	// Review.
	AdvisorySubmittedForReview        Action = "advisory.submitted_for_review"
	AdvisoryReviewApproved            Action = "advisory.review_approved"
	AdvisoryReviewChangesRequested    Action = "advisory.review_changes_requested"
	AdvisoryReviewApprovalInvalidated Action = "advisory.review_approval_invalidated"
	AdvisoryReviewApprovalRevoked     Action = "advisory.review_approval_revoked"
	AdvisoryReviewWithdrawn           Action = "advisory.review_withdrawn"
	ReviewTaskStatusChanged           Action = "review.task_status_changed"

	// Access and invitations.
	AccessGranted      Action = "access.granted"
	AccessRevoked      Action = "access.revoked"
	InvitationCreated  Action = "invitation.created"
	InvitationRedeemed Action = "invitation.redeemed"
	InvitationRevoked  Action = "invitation.revoked"
	InvitationResent   Action = "invitation.resent"

	// Comments.
	CommentCreated  Action = "comment.created"
	CommentEdited   Action = "comment.edited"
	CommentRedacted Action = "comment.redacted"

	// CVE workflow.
	CVERequested                   Action = "cve.requested"
	CVETaskStatusChanged           Action = "cve.task_status_changed"
	CVERequestBanned               Action = "cve.request_banned"
	CVERequestUnbanned             Action = "cve.request_unbanned"
	CVERequestCancelled            Action = "cve.request_cancelled"
	CVEUnassigned                  Action = "cve.unassigned"
	CVEMarkedRejectedAtCVEOrg      Action = "cve.marked_rejected_at_cve_org"
	CVEReassignedFromOrphan        Action = "cve.reassigned_from_orphan"
	CVEOrphanReassignmentRequested Action = "cve.orphan_reassignment_requested"
	CVEOrphanReassignmentResolved  Action = "cve.orphan_reassignment_resolved"

	// Publication pipeline.
	PublicationExportStarted   Action = "publication.export_started"
	PublicationOSVGenerated    Action = "publication.osv_generated"
	PublicationCSAFGenerated   Action = "publication.csaf_generated"
	PublicationCVEGenerated    Action = "publication.cve_generated"
	PublicationGitCommit       Action = "publication.git_commit"
	PublicationGitPush         Action = "publication.git_push"
	PublicationGitPushFailed   Action = "publication.git_push_failed"
	PublicationExportCompleted Action = "publication.export_completed"
	PublicationExportFailed    Action = "publication.export_failed"
	PublicationTaskReaped      Action = "publication.task_reaped"

	// Duplicate detection (similarity).
	SimilarityCheckStarted   Action = "similarity.check_started"
	SimilarityCheckCompleted Action = "similarity.check_completed"
	SimilarityCheckFailed    Action = "similarity.check_failed"
	SimilarityCheckReaped    Action = "similarity.check_reaped"

	// Notifications.
	NotificationPrefsChanged Action = "notification.prefs_changed"
	NotificationSent         Action = "notification.sent"

	// GHSA integration.
	GHSAMetadataFetched        Action = "ghsa.metadata_fetched"
	GHSALinkedAdvisoryCreated  Action = "ghsa.linked_advisory_created"
	GHSACVEPushRequested       Action = "ghsa.cve_push_requested"
	GHSACVEPushSucceeded       Action = "ghsa.cve_push_succeeded"
	GHSACVEPushFailed          Action = "ghsa.cve_push_failed"
	GHSACVEPushReaped          Action = "ghsa.cve_push_reaped"
	GHSACVEConflictDetected    Action = "ghsa.cve_conflict_detected"
	GHSASyncRunStarted         Action = "ghsa.sync_run_started"
	GHSASyncRunFinished        Action = "ghsa.sync_run_finished"
	GHSAInstallationRegistered Action = "ghsa.installation_registered"
	GHSAInstallationSuspended  Action = "ghsa.installation_suspended"
	GHSAInstallationRemoved    Action = "ghsa.installation_removed"
	GHSAWebhookReceived        Action = "ghsa.webhook_received"
	GHSAWebhookRejected        Action = "ghsa.webhook_rejected"

	// PMI and roster.
	PMIProjectReposSynced Action = "pmi.project_repos_synced"
	RosterSynced          Action = "roster.synced"
	RosterShadowLinked    Action = "roster.shadow_linked"

	// Authentication (all access-log, all carry IP/UA).
	AuthLogin           Action = "auth.login"
	AuthLogout          Action = "auth.logout"
	AuthLoginFailed     Action = "auth.login_failed"
	AuthStepUpCompleted Action = "auth.step_up_completed"

	// Administrative governance.
	MaintenanceEnabled  Action = "maintenance.enabled"
	MaintenanceDisabled Action = "maintenance.disabled"
	UserBanned          Action = "user.banned"
	UserUnbanned        Action = "user.unbanned"
	ProjectCreated      Action = "project.created"
	ProjectUpdated      Action = "project.updated"
	UserForgotten       Action = "user.forgotten"
	AuditPruned         Action = "audit.pruned"

	// Legacy (readable, never emitted by new code).
	ReportSubmitted           Action = "report.submitted"
	ReportTriagedIntoAdvisory Action = "report.triaged_into_advisory"
	ReportDismissed           Action = "report.dismissed"
	ReportProjectReassigned   Action = "report.project_reassigned"
	ReportFlaggedForRouting   Action = "report.flagged_for_routing"
)

// catalogue lists every action, in catalogue order, with its timeline tier
// and whether it belongs to the ephemeral (access-log) allowlist. A new
// action goes here with ephemeral=false: it stays on the ledger until
// someone deliberately adds it to the allowlist (audit-actions.md intro).
func catalogue() []actionInfo {
	return []actionInfo{
		{AdvisoryCreated, TierViewer, false},
		{AdvisoryEdited, TierCollaborator, false},
		{AdvisoryStateChanged, TierViewer, false},
		{AdvisoryProjectChanged, TierViewer, false},
		{AdvisoryAccessReviewDismissed, TierOwner, false},
		{AdvisoryPublished, TierViewer, false},
		{AdvisoryDismissed, TierViewer, false},
		{AdvisoryReopened, TierNone, false},
		{AdvisoryMovedToGHSA, TierNone, false},
		{AdvisoryViewed, TierNone, true},
		{AdvisoryFirstSeen, TierNone, false},
		{AdvisoryTriageSubmitted, TierOwner, false},
		{AdvisoryTriagePromoted, TierViewer, false},
		{AdvisoryFlaggedForRouting, TierOwner, false},
		{AdvisoryRoutingFlagCleared, TierOwner, false},
		{AdvisoryReassignmentRequested, TierViewer, false},
		{AdvisoryReassignmentRequestCleared, TierViewer, false},
		{AdvisoryWithdrawalRequested, TierNone, false},
		{AdvisoryWithdrawalRequestCleared, TierNone, false},
		{AdvisoryCommentsLocked, TierViewer, false},
		{AdvisoryCommentsUnlocked, TierViewer, false},
		{AdvisorySubmittedForReview, TierViewer, false},
		{AdvisoryReviewApproved, TierViewer, false},
		{AdvisoryReviewChangesRequested, TierViewer, false},
		{AdvisoryReviewApprovalInvalidated, TierViewer, false},
		{AdvisoryReviewApprovalRevoked, TierViewer, false},
		{AdvisoryReviewWithdrawn, TierViewer, false},
		{ReviewTaskStatusChanged, TierNone, false},
		{AccessGranted, TierCollaborator, false},
		{AccessRevoked, TierCollaborator, false},
		{InvitationCreated, TierCollaborator, false},
		{InvitationRedeemed, TierCollaborator, false},
		{InvitationRevoked, TierCollaborator, false},
		{InvitationResent, TierNone, false},
		{CommentCreated, TierNone, false},
		{CommentEdited, TierNone, false},
		{CommentRedacted, TierNone, false},
		{CVERequested, TierViewer, false},
		{CVETaskStatusChanged, TierViewer, false},
		{CVERequestBanned, TierCollaborator, false},
		{CVERequestUnbanned, TierNone, false},
		{CVERequestCancelled, TierCollaborator, false},
		{CVEUnassigned, TierCollaborator, false},
		{CVEMarkedRejectedAtCVEOrg, TierViewer, false},
		{CVEReassignedFromOrphan, TierNone, false},
		{CVEOrphanReassignmentRequested, TierNone, false},
		{CVEOrphanReassignmentResolved, TierNone, false},
		{PublicationExportStarted, TierCollaborator, false},
		{PublicationOSVGenerated, TierNone, false},
		{PublicationCSAFGenerated, TierNone, false},
		{PublicationCVEGenerated, TierNone, false},
		{PublicationGitCommit, TierNone, false},
		{PublicationGitPush, TierCollaborator, false},
		{PublicationGitPushFailed, TierCollaborator, false},
		{PublicationExportCompleted, TierCollaborator, false},
		{PublicationExportFailed, TierCollaborator, false},
		{PublicationTaskReaped, TierNone, false},
		{SimilarityCheckStarted, TierNone, false},
		{SimilarityCheckCompleted, TierNone, false},
		{SimilarityCheckFailed, TierNone, false},
		{SimilarityCheckReaped, TierNone, false},
		{NotificationPrefsChanged, TierNone, false},
		{NotificationSent, TierNone, true},
		{GHSAMetadataFetched, TierNone, true},
		{GHSALinkedAdvisoryCreated, TierOwner, false},
		{GHSACVEPushRequested, TierOwner, false},
		{GHSACVEPushSucceeded, TierOwner, false},
		{GHSACVEPushFailed, TierOwner, false},
		{GHSACVEPushReaped, TierNone, false},
		{GHSACVEConflictDetected, TierOwner, false},
		{GHSASyncRunStarted, TierNone, true},
		{GHSASyncRunFinished, TierNone, true},
		{GHSAInstallationRegistered, TierNone, false},
		{GHSAInstallationSuspended, TierNone, false},
		{GHSAInstallationRemoved, TierNone, false},
		{GHSAWebhookReceived, TierNone, true},
		{GHSAWebhookRejected, TierNone, true},
		{PMIProjectReposSynced, TierNone, true},
		{RosterSynced, TierNone, true},
		{RosterShadowLinked, TierNone, false},
		{AuthLogin, TierNone, true},
		{AuthLogout, TierNone, true},
		{AuthLoginFailed, TierNone, true},
		{AuthStepUpCompleted, TierNone, true},
		{MaintenanceEnabled, TierNone, false},
		{MaintenanceDisabled, TierNone, false},
		{UserBanned, TierNone, false},
		{UserUnbanned, TierNone, false},
		{ProjectCreated, TierNone, false},
		{ProjectUpdated, TierNone, false},
		{UserForgotten, TierNone, false},
		{AuditPruned, TierNone, false},
		{ReportSubmitted, TierNone, false},
		{ReportTriagedIntoAdvisory, TierNone, false},
		{ReportDismissed, TierNone, false},
		{ReportProjectReassigned, TierNone, false},
		{ReportFlaggedForRouting, TierNone, false},
	}
}
