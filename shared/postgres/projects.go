package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Projects (data-model §3.1, INV-PROJECT-1/2). A project's security team is
// a row of the OIDC group mirror; team names are resolved (and created on
// the fly) here.

const projectSelect = `SELECT p.id::text, p.slug, p.name, p.description, p.homepage_url,
	p.security_team_id, g.name, p.is_mature_publisher, p.created_at,
	p.last_pmi_sync_at, p.last_pmi_sync_error, p.last_roster_sync_at, p.last_roster_sync_error
	FROM projects p JOIN groups g ON g.id = p.security_team_id`

func scanProject(row pgx.Row) (project.Project, error) {
	var p project.Project
	err := row.Scan(&p.ID, &p.Slug, &p.Name, &p.Description, &p.HomepageURL,
		&p.SecurityTeamID, &p.SecurityTeam, &p.IsMaturePublisher, &p.CreatedAt,
		&p.LastPMISyncAt, &p.LastPMISyncError, &p.LastRosterSyncAt, &p.LastRosterSyncError)
	return p, err
}

func projectErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return project.ErrNotFound
	}
	return err
}

// uniqueViolationOf reports whether err is a unique violation (23505) of
// the named constraint.
func uniqueViolationOf(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// conflictOnField maps a unique violation to apperr.Conflict naming the
// field; other errors pass through.
func conflictOnField(err error, field string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return apperr.New(apperr.Conflict, field+": already in use")
	}
	return err
}

// ProjectByID returns the project with this id; a malformed id is not
// found.
func (db *DB) ProjectByID(ctx context.Context, id string) (project.Project, error) {
	if !project.ValidID(id) {
		return project.Project{}, project.ErrNotFound
	}
	p, err := scanProject(db.QueryRow(ctx, projectSelect+` WHERE p.id = $1::uuid`, id))
	if err != nil {
		return project.Project{}, fmt.Errorf("project %s: %w", id, projectErr(err))
	}
	return p, nil
}

// ProjectByIDForUpdate is ProjectByID with the project row locked until the
// transaction ends.
func (db *DB) ProjectByIDForUpdate(ctx context.Context, id string) (project.Project, error) {
	if db.tx == nil {
		return project.Project{}, errors.New("postgres: ProjectByIDForUpdate outside a transaction")
	}
	if !project.ValidID(id) {
		return project.Project{}, project.ErrNotFound
	}
	p, err := scanProject(db.QueryRow(ctx, projectSelect+` WHERE p.id = $1::uuid FOR UPDATE OF p`, id))
	if err != nil {
		return project.Project{}, fmt.Errorf("project %s: %w", id, projectErr(err))
	}
	return p, nil
}

// ProjectBySlug returns the project with this slug.
func (db *DB) ProjectBySlug(ctx context.Context, slug string) (project.Project, error) {
	p, err := scanProject(db.QueryRow(ctx, projectSelect+` WHERE p.slug = $1`, slug))
	if err != nil {
		return project.Project{}, fmt.Errorf("project %q: %w", slug, projectErr(err))
	}
	return p, nil
}

// ProjectFilter selects projects for ListProjects.
type ProjectFilter struct {
	// ExcludeUnsorted hides the sentinel project, as every project picker
	// and listing does (data-model §3.1).
	ExcludeUnsorted bool
	// TeamGroupIDs, when set, keeps the projects whose security team is one
	// of these groups (the caller's own projects).
	TeamGroupIDs []int64
}

// ListProjects returns the projects matching f by name (then slug).
func (db *DB) ListProjects(ctx context.Context, f ProjectFilter) ([]project.Project, error) {
	sql := projectSelect + ` WHERE ($1::boolean IS FALSE OR p.slug <> $2)
		AND ($3::bigint[] IS NULL OR p.security_team_id = ANY($3::bigint[]))
		ORDER BY p.name, p.slug`
	var teams []int64
	if f.TeamGroupIDs != nil {
		teams = f.TeamGroupIDs
	}
	rows, err := db.Query(ctx, sql, f.ExcludeUnsorted, project.UnsortedSlug, teams)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (project.Project, error) { return scanProject(r) })
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// InsertProject creates a project from validated fields, creating the
// security-team group if it does not exist. A taken slug is
// project.ErrSlugTaken (apperr.Conflict).
func (db *DB) InsertProject(ctx context.Context, f project.Fields) (project.Project, error) {
	team, err := db.EnsureGroup(ctx, f.SecurityTeam)
	if err != nil {
		return project.Project{}, fmt.Errorf("insert project %q: %w", f.Slug, err)
	}
	var id string
	err = db.QueryRow(ctx, `INSERT INTO projects (slug, name, description, homepage_url, security_team_id, is_mature_publisher)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text`,
		f.Slug, f.Name, f.Description, f.HomepageURL, team.ID, f.IsMaturePublisher).Scan(&id)
	if uniqueViolationOf(err, "projects_slug_unique") {
		return project.Project{}, fmt.Errorf("insert project %q: %w", f.Slug, project.ErrSlugTaken)
	}
	if err != nil {
		return project.Project{}, fmt.Errorf("insert project %q: %w", f.Slug, err)
	}
	return db.ProjectByID(ctx, id)
}

// UpdateProject overwrites the editable fields of project id, creating the
// security-team group if needed. A taken slug is project.ErrSlugTaken.
func (db *DB) UpdateProject(ctx context.Context, id string, f project.Fields) (project.Project, error) {
	if !project.ValidID(id) {
		return project.Project{}, project.ErrNotFound
	}
	team, err := db.EnsureGroup(ctx, f.SecurityTeam)
	if err != nil {
		return project.Project{}, fmt.Errorf("update project %s: %w", id, err)
	}
	tag, err := db.Exec(ctx, `UPDATE projects SET slug = $2, name = $3, description = $4, homepage_url = $5,
		security_team_id = $6, is_mature_publisher = $7 WHERE id = $1::uuid`,
		id, f.Slug, f.Name, f.Description, f.HomepageURL, team.ID, f.IsMaturePublisher)
	if uniqueViolationOf(err, "projects_slug_unique") {
		return project.Project{}, fmt.Errorf("update project %s: %w", id, project.ErrSlugTaken)
	}
	if err != nil {
		return project.Project{}, fmt.Errorf("update project %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return project.Project{}, fmt.Errorf("update project %s: %w", id, project.ErrNotFound)
	}
	return db.ProjectByID(ctx, id)
}

// EnsureUnsortedProject makes the sentinel `unsorted` project exist
// (INV-PROJECT-2): name "Unsorted reports", not a mature publisher, with
// the admin group (created if missing) as its security team, so admins own
// its advisories through ordinary permission resolution. It is idempotent
// and race-safe; when the project exists but is bound to another group
// (OIDC_ADMIN_GROUP was changed), it is re-bound to adminGroup.
func (db *DB) EnsureUnsortedProject(ctx context.Context, adminGroup string) (project.Project, error) {
	if adminGroup == "" {
		return project.Project{}, apperr.New(apperr.Invalid, "ensure unsorted project: the admin group is required")
	}
	team, err := db.EnsureGroup(ctx, adminGroup)
	if err != nil {
		return project.Project{}, fmt.Errorf("ensure unsorted project: %w", err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO projects (slug, name, security_team_id, is_mature_publisher)
		VALUES ($1, $2, $3, false) ON CONFLICT (slug) DO NOTHING`,
		project.UnsortedSlug, project.UnsortedName, team.ID); err != nil {
		return project.Project{}, fmt.Errorf("ensure unsorted project: %w", err)
	}
	if _, err := db.Exec(ctx, `UPDATE projects SET security_team_id = $2
		WHERE slug = $1 AND security_team_id <> $2`, project.UnsortedSlug, team.ID); err != nil {
		return project.Project{}, fmt.Errorf("ensure unsorted project: %w", err)
	}
	return db.ProjectBySlug(ctx, project.UnsortedSlug)
}
