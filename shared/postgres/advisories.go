package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// Advisories (data-model §4.1, §4.4). Every read here runs under row-level
// security: an advisory the transaction's principal may not see is simply
// not found (INV-CONF-2, INV-PRIVACY-1). Advisories are never deleted
// (INV-IMPL-1): there is no delete here, and a trigger refuses one.

// advisorySelect reads an advisory.Advisory: the row, its project and the
// routing flag of its intake sidecar.
const advisorySelect = `SELECT a.id, a.advisory_id,
	p.id::text, p.slug, p.name, p.security_team_id, p.is_mature_publisher,
	a.state, a.review_status, a.kind, a.dismissed_reason, a.dismissed_from_state,
	a.republish_required, a.access_review_required_at,
	a.summary, a.details, a.aliases, a."references", a.affected, a.severity, a.cwe_ids, a.credits,
	a.assigned_cve_id, a.withdrawn_reason, a.severity_level, a.severity_score,
	a.reassignment_requested_at, a.reassignment_requested_by_id, a.reassignment_request_note,
	a.reassignment_suggested_project_id::text,
	a.withdrawal_requested_at, a.withdrawal_requested_by_id, a.withdrawal_request_note,
	a.comments_locked, a.cve_requests_banned,
	COALESCE(im.needs_admin_routing, false), COALESCE(im.admin_routing_note, ''),
	im.flagged_for_routing_at, im.flagged_for_routing_by_id,
	a.ghsa_id, a.ghsa_owner, a.ghsa_repo, a.ghsa_metadata_synced_at,
	a.created_by_id, a.created_at, a.modified_at, a.published_at, a.submitted_for_review_at
	FROM advisories a
	JOIN projects p ON p.id = a.project_id
	LEFT JOIN advisory_intake_metadata im ON im.advisory_id = a.id`

func scanAdvisory(row pgx.Row) (*advisory.Advisory, error) {
	var (
		a                      advisory.Advisory
		reassignBy, withdrawBy *int64
		flaggedBy, createdBy   *int64
		suggested              *string
	)
	c := &a.Content
	err := row.Scan(&a.ID, &a.AdvisoryID,
		&a.Project.ID, &a.Project.Slug, &a.Project.Name, &a.Project.TeamGroupID, &a.Project.IsMature,
		&a.State, &a.ReviewStatus, &a.Kind, &a.DismissedReason, &a.DismissedFromState,
		&a.RepublishRequired, &a.AccessReviewRequiredAt,
		&c.Summary, &c.Details, &c.Aliases, &c.References, &c.Affected, &c.Severity, &c.CWEIDs, &c.Credits,
		&a.AssignedCVEID, &a.WithdrawnReason, &a.SeverityLevel, &a.SeverityScore,
		&a.ReassignmentRequestedAt, &reassignBy, &a.ReassignmentRequestNote, &suggested,
		&a.WithdrawalRequestedAt, &withdrawBy, &a.WithdrawalRequestNote,
		&a.CommentsLocked, &a.CVERequestsBanned,
		&a.Routing.NeedsAdminRouting, &a.Routing.Note, &a.Routing.FlaggedAt, &flaggedBy,
		&a.GHSAID, &a.GHSAOwner, &a.GHSARepo, &a.GHSAMetadataSyncedAt,
		&createdBy, &a.CreatedAt, &a.ModifiedAt, &a.PublishedAt, &a.SubmittedForReviewAt)
	if err != nil {
		return nil, err
	}
	a.ReassignmentSuggestedProjectID = deref(suggested)
	a.ReassignmentRequestedByID = deref(reassignBy)
	a.WithdrawalRequestedByID = deref(withdrawBy)
	a.Routing.FlaggedByID = deref(flaggedBy)
	a.CreatedByID = deref(createdBy)
	return &a, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func advisoryErr(id any, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("advisory %v: %w", id, advisory.ErrNotFound)
	}
	return fmt.Errorf("advisory %v: %w", id, err)
}

// AdvisoryByID returns the advisory with public id id, or an error wrapping
// advisory.ErrNotFound when it does not exist or is not visible.
func (db *DB) AdvisoryByID(ctx context.Context, id advisory.ID) (*advisory.Advisory, error) {
	a, err := scanAdvisory(db.QueryRow(ctx, advisorySelect+` WHERE a.advisory_id = $1`, string(id)))
	if err != nil {
		return nil, advisoryErr(id, err)
	}
	return a, nil
}

// AdvisoryByIDForUpdate is AdvisoryByID with the advisory row locked until
// the transaction ends: every change to an advisory is decided and written
// under this lock (lifecycle §0, INV-CONCURRENCY-2).
func (db *DB) AdvisoryByIDForUpdate(ctx context.Context, id advisory.ID) (*advisory.Advisory, error) {
	if db.tx == nil {
		return nil, errors.New("postgres: AdvisoryByIDForUpdate outside a transaction")
	}
	a, err := scanAdvisory(db.QueryRow(ctx, advisorySelect+` WHERE a.advisory_id = $1 FOR UPDATE OF a`, string(id)))
	if err != nil {
		return nil, advisoryErr(id, err)
	}
	return a, nil
}

// advisoryByPKForUpdate locks and reads the advisory with internal id pk.
func (db *DB) advisoryByPKForUpdate(ctx context.Context, pk int64) (*advisory.Advisory, error) {
	a, err := scanAdvisory(db.QueryRow(ctx, advisorySelect+` WHERE a.id = $1 FOR UPDATE OF a`, pk))
	if err != nil {
		return nil, advisoryErr(pk, err)
	}
	return a, nil
}

// NewAdvisory is what InsertAdvisory stores; everything else takes the
// column defaults.
type NewAdvisory struct {
	ProjectID   string
	State       advisory.State
	Kind        advisory.Kind
	Content     advisory.Content
	CreatedByID int64 // 0 = none
}

var errIDTaken = errors.New("advisory id taken")

// InsertAdvisory inserts an advisory under a freshly generated public id
// (INV-ID-1), drawing randomness from rnd (crypto/rand when nil). A
// generated id that is already taken is replaced by a new one, at most
// advisory.MaxIDAttempts times (INV-IMPL-4): the insert uses ON CONFLICT DO
// NOTHING, so a collision does not abort the transaction. The derived
// severity is computed from the content. The caller appends v1
// (INV-VERSION-1) in the same transaction.
func (db *DB) InsertAdvisory(ctx context.Context, n NewAdvisory, rnd io.Reader) (*advisory.Advisory, error) {
	level, score := advisory.DeriveSeverity(n.Content.Severity)
	c := n.Content
	var pk int64
	_, err := advisory.InsertWithNewID(rnd, func(id advisory.ID) error {
		err := db.QueryRow(ctx, `INSERT INTO advisories
			(advisory_id, project_id, state, kind, summary, details, aliases, "references", affected,
			 severity, cwe_ids, credits, severity_level, severity_score, created_by_id)
			VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (advisory_id) DO NOTHING
			RETURNING id`,
			string(id), n.ProjectID, string(n.State), string(n.Kind), c.Summary, c.Details,
			jsonList(c.Aliases), jsonList(c.References), jsonList(c.Affected), jsonList(c.Severity),
			jsonList(c.CWEIDs), jsonList(c.Credits), string(level), score, zeroAsNull(n.CreatedByID)).Scan(&pk)
		if errors.Is(err, pgx.ErrNoRows) {
			return errIDTaken
		}
		return err
	}, func(err error) bool { return errors.Is(err, errIDTaken) })
	if err != nil {
		return nil, fmt.Errorf("insert advisory: %w", err)
	}
	return db.advisoryByPKForUpdate(ctx, pk)
}

// jsonList makes a nil list encode as [] (the columns are NOT NULL arrays).
func jsonList[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// UpdateContent writes a's content columns and recomputes the derived
// severity from the severity entries (data-model §4.1), storing it back
// into a along with the new modified_at.
func (db *DB) UpdateContent(ctx context.Context, a *advisory.Advisory) error {
	level, score := advisory.DeriveSeverity(a.Content.Severity)
	c := a.Content
	err := db.QueryRow(ctx, `UPDATE advisories SET
		summary = $2, details = $3, aliases = $4, "references" = $5, affected = $6, severity = $7,
		cwe_ids = $8, credits = $9, severity_level = $10, severity_score = $11, modified_at = now()
		WHERE id = $1 RETURNING modified_at`,
		a.ID, c.Summary, c.Details, jsonList(c.Aliases), jsonList(c.References), jsonList(c.Affected),
		jsonList(c.Severity), jsonList(c.CWEIDs), jsonList(c.Credits), string(level), score).Scan(&a.ModifiedAt)
	if err != nil {
		return advisoryErr(a.AdvisoryID, err)
	}
	a.SeverityLevel, a.SeverityScore = level, score
	return nil
}

// UpdateWorkflow writes a's project, lifecycle, review and request fields
// and its withdrawal reason: everything the lifecycle services change
// besides the content and the routing flag.
func (db *DB) UpdateWorkflow(ctx context.Context, a *advisory.Advisory) error {
	err := db.QueryRow(ctx, `UPDATE advisories SET
		project_id = $2::uuid, state = $3, review_status = $4, dismissed_reason = $5,
		dismissed_from_state = $6, withdrawn_reason = $7, republish_required = $8,
		access_review_required_at = $9,
		reassignment_requested_at = $10, reassignment_requested_by_id = $11,
		reassignment_request_note = $12, reassignment_suggested_project_id = NULLIF($13, '')::uuid,
		withdrawal_requested_at = $14, withdrawal_requested_by_id = $15, withdrawal_request_note = $16,
		modified_at = now()
		WHERE id = $1 RETURNING modified_at`,
		a.ID, a.Project.ID, string(a.State), string(a.ReviewStatus), a.DismissedReason,
		string(a.DismissedFromState), a.WithdrawnReason, a.RepublishRequired, a.AccessReviewRequiredAt,
		a.ReassignmentRequestedAt, zeroAsNull(a.ReassignmentRequestedByID), a.ReassignmentRequestNote,
		a.ReassignmentSuggestedProjectID,
		a.WithdrawalRequestedAt, zeroAsNull(a.WithdrawalRequestedByID), a.WithdrawalRequestNote).Scan(&a.ModifiedAt)
	if err != nil {
		return advisoryErr(a.AdvisoryID, err)
	}
	return nil
}

// UpdateRouting writes a's routing flag to its intake sidecar, creating the
// sidecar if the advisory has none (INV-AUTH-6, INV-INTAKE-4).
func (db *DB) UpdateRouting(ctx context.Context, a *advisory.Advisory) error {
	r := a.Routing
	_, err := db.Exec(ctx, `INSERT INTO advisory_intake_metadata
		(advisory_id, needs_admin_routing, admin_routing_note, flagged_for_routing_at, flagged_for_routing_by_id)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (advisory_id) DO UPDATE SET
			needs_admin_routing = EXCLUDED.needs_admin_routing,
			admin_routing_note = EXCLUDED.admin_routing_note,
			flagged_for_routing_at = EXCLUDED.flagged_for_routing_at,
			flagged_for_routing_by_id = EXCLUDED.flagged_for_routing_by_id`,
		a.ID, r.NeedsAdminRouting, r.Note, r.FlaggedAt, zeroAsNull(r.FlaggedByID))
	if err != nil {
		return fmt.Errorf("advisory %s: routing: %w", a.AdvisoryID, err)
	}
	return nil
}

// AccessTarget loads the facts package access decides on for advisory a:
// its grants, a queued CVE request, the project's PVR-enabled repository,
// the suggested project of a pending reassignment request (permissions.md
// §5). The facts already on a (state, kind, review, routing flag, CVE,
// requests, comment lock) are copied over. Feature switches are the
// caller's to set.
func (db *DB) AccessTarget(ctx context.Context, a *advisory.Advisory) (access.Target, error) {
	t := access.Target{
		ProjectTeamGroupID:    a.Project.TeamGroupID,
		ProjectSlug:           a.Project.Slug,
		ProjectIsMature:       a.Project.IsMature,
		State:                 a.State,
		Kind:                  a.Kind,
		ReviewStatus:          a.ReviewStatus,
		DismissedFromState:    a.DismissedFromState,
		NeedsAdminRouting:     a.Routing.NeedsAdminRouting,
		CVEAssigned:           a.AssignedCVEID != "",
		CVERequestsBanned:     a.CVERequestsBanned,
		CommentsLocked:        a.CommentsLocked,
		WithdrawalRequested:   a.WithdrawalRequestedAt != nil,
		ReassignmentRequested: a.ReassignmentRequestedAt != nil,
	}
	var (
		types       []string
		ids         []int64
		perms       []string
		sugSlug     *string
		sugTeam     *int64
		queued, pvr bool
	)
	err := db.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM cve_requests WHERE advisory_id = $1 AND status = 'queued'),
		EXISTS (SELECT 1 FROM project_github_repositories r
		         WHERE r.project_id = $2::uuid AND r.soft_removed_at IS NULL AND r.pvr_enabled),
		(SELECT slug FROM projects WHERE id = NULLIF($3, '')::uuid),
		(SELECT security_team_id::bigint FROM projects WHERE id = NULLIF($3, '')::uuid),
		COALESCE((SELECT array_agg(principal_type ORDER BY id) FROM access_grants WHERE advisory_id = $1), '{}'),
		COALESCE((SELECT array_agg(principal_id ORDER BY id) FROM access_grants WHERE advisory_id = $1), '{}'),
		COALESCE((SELECT array_agg(permission ORDER BY id) FROM access_grants WHERE advisory_id = $1), '{}')`,
		a.ID, a.Project.ID, a.ReassignmentSuggestedProjectID).Scan(&queued, &pvr, &sugSlug, &sugTeam, &types, &ids, &perms)
	if err != nil {
		return access.Target{}, fmt.Errorf("advisory %s: access facts: %w", a.AdvisoryID, err)
	}
	t.CVERequestQueued, t.ProjectHasPVRRepo = queued, pvr
	if sugSlug != nil {
		t.SuggestedProject = &access.ProjectRef{Slug: *sugSlug, TeamGroupID: deref(sugTeam)}
	}
	t.Grants = make([]access.Grant, len(ids))
	for i := range ids {
		t.Grants[i] = access.Grant{
			PrincipalType: access.PrincipalType(types[i]),
			PrincipalID:   ids[i],
			Permission:    access.Permission(perms[i]),
		}
	}
	return t, nil
}

// WithdrawOpenReviewTask closes the advisory's open review task, if any, as
// withdrawn (the review teardown of a dismissal, lifecycle R8). It returns
// the task's id, or 0 when none was open.
func (db *DB) WithdrawOpenReviewTask(ctx context.Context, advisoryPK int64) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `UPDATE review_tasks SET status = 'withdrawn', decided_at = now()
		WHERE advisory_id = $1 AND status = 'open' RETURNING id`, advisoryPK).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("withdraw open review task: %w", err)
	}
	return id, nil
}

// PublicationInFlight reports whether the advisory has a publication task
// queued or running (INV-CONCURRENCY-1).
func (db *DB) PublicationInFlight(ctx context.Context, advisoryPK int64) (bool, error) {
	var busy bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM publication_tasks
		WHERE advisory_id = $1 AND status IN ('queued', 'running'))`, advisoryPK).Scan(&busy)
	if err != nil {
		return false, fmt.Errorf("publication in flight: %w", err)
	}
	return busy, nil
}
