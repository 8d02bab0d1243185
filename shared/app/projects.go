package app

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Projects are the admin-console project use cases: create and edit, each
// audited in the same transaction (project.created, project.updated;
// INV-AUDIT-3 — binding a security team hands out owner rank).
type Projects struct {
	db         *postgres.DB
	adminGroup string
}

// ProjectsConfig wires Projects.
type ProjectsConfig struct {
	DB *postgres.DB
	// AdminGroup is OIDC_ADMIN_GROUP, the `unsorted` project's team.
	AdminGroup string
}

// NewProjects builds the project use cases.
func NewProjects(cfg ProjectsConfig) (*Projects, error) {
	var errs []error
	if cfg.DB == nil {
		errs = append(errs, errors.New("projects: DB is required"))
	}
	if cfg.AdminGroup == "" {
		errs = append(errs, errors.New("projects: AdminGroup is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Projects{db: cfg.DB, adminGroup: cfg.AdminGroup}, nil
}

// CreateProject creates a project (admins only). The security team is
// named by group; an unknown group is created. Invalid fields give a
// *project.ValidationError, a taken slug project.ErrSlugTaken.
func (s *Projects) CreateProject(ctx context.Context, c Caller, f project.Fields) (project.Project, error) {
	if err := access.Check(c.Subject(), access.CapManageProjects, access.Target{}); err != nil {
		return project.Project{}, err
	}
	f = f.Normalize()
	if err := f.Validate(); err != nil {
		return project.Project{}, err
	}
	if f.Slug == project.UnsortedSlug {
		return project.Project{}, project.Invalid("slug", "is reserved for the unsorted-reports project")
	}
	var p project.Project
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		var err error
		if p, err = tx.InsertProject(ctx, f); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, audit.Entry{
			ActorID:   c.UserID,
			Action:    audit.ProjectCreated,
			New:       p.Fields().AuditValue(),
			Metadata:  map[string]any{"project_id": p.ID, "slug": p.Slug},
			IP:        c.IP,
			UserAgent: c.UserAgent,
		})
	})
	if err != nil {
		return project.Project{}, err
	}
	return p, nil
}

// UpdateProject overwrites the editable fields of a project (admins only)
// and records the changed fields' previous and new values. Saving without
// a change writes nothing and records nothing. The `unsorted` project
// keeps its slug and its binding to the admin group (INV-PROJECT-2).
func (s *Projects) UpdateProject(ctx context.Context, c Caller, id string, f project.Fields) (project.Project, error) {
	if err := access.Check(c.Subject(), access.CapManageProjects, access.Target{}); err != nil {
		return project.Project{}, err
	}
	f = f.Normalize()
	if err := f.Validate(); err != nil {
		return project.Project{}, err
	}
	return s.update(ctx, c, func(tx *postgres.DB) (project.Project, error) { return tx.ProjectByIDForUpdate(ctx, id) },
		func(project.Fields) project.Fields { return f })
}

// PatchProject is UpdateProject for the project with slug, whose new
// fields apply computes from its current ones on the locked row (a partial
// update: what apply leaves alone stays as it is).
func (s *Projects) PatchProject(ctx context.Context, c Caller, slug string, apply func(project.Fields) project.Fields) (project.Project, error) {
	if err := access.Check(c.Subject(), access.CapManageProjects, access.Target{}); err != nil {
		return project.Project{}, err
	}
	return s.update(ctx, c, func(tx *postgres.DB) (project.Project, error) {
		p, err := tx.ProjectBySlug(ctx, slug)
		if err != nil {
			return project.Project{}, err
		}
		return tx.ProjectByIDForUpdate(ctx, p.ID)
	}, apply)
}

// update loads and locks a project, computes its new fields, validates
// them and, when they differ, writes them with project.updated.
func (s *Projects) update(ctx context.Context, c Caller, load func(*postgres.DB) (project.Project, error), apply func(project.Fields) project.Fields) (project.Project, error) {
	var p project.Project
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		before, err := load(tx)
		if err != nil {
			return err
		}
		f := apply(before.Fields()).Normalize()
		if err := f.Validate(); err != nil {
			return err
		}
		if err := s.checkSentinel(before, f); err != nil {
			return err
		}
		prev, next := project.Diff(before.Fields(), f)
		if prev == nil {
			p = before
			return nil
		}
		if p, err = tx.UpdateProject(ctx, before.ID, f); err != nil {
			return err
		}
		return tx.InsertAudit(ctx, audit.Entry{
			ActorID:   c.UserID,
			Action:    audit.ProjectUpdated,
			Previous:  prev,
			New:       next,
			Metadata:  map[string]any{"project_id": p.ID, "slug": p.Slug},
			IP:        c.IP,
			UserAgent: c.UserAgent,
		})
	})
	if err != nil {
		return project.Project{}, err
	}
	return p, nil
}

// checkSentinel refuses edits that would break the `unsorted` sentinel: a
// project renamed to or from its slug, or the sentinel bound to a team
// other than the admin group.
func (s *Projects) checkSentinel(before project.Project, f project.Fields) error {
	switch {
	case before.IsUnsorted() && f.Slug != project.UnsortedSlug:
		return project.Invalid("slug", "the unsorted-reports project's slug cannot change")
	case !before.IsUnsorted() && f.Slug == project.UnsortedSlug:
		return project.Invalid("slug", "is reserved for the unsorted-reports project")
	case before.IsUnsorted() && f.SecurityTeam != s.adminGroup:
		return project.Invalid("security_team", "the unsorted-reports project belongs to the admin group")
	}
	return nil
}

// Project returns a project by id (admins only, for the edit form).
func (s *Projects) Project(ctx context.Context, c Caller, id string) (project.Project, error) {
	if err := access.Check(c.Subject(), access.CapManageProjects, access.Target{}); err != nil {
		return project.Project{}, err
	}
	return s.db.ProjectByID(c.principal(ctx), id)
}

// ListProjects returns every project by name, without the `unsorted`
// sentinel (admins only, the admin console's list).
func (s *Projects) ListProjects(ctx context.Context, c Caller) ([]project.Project, error) {
	if err := access.Check(c.Subject(), access.CapAdminConsole, access.Target{}); err != nil {
		return nil, err
	}
	return s.db.ListProjects(c.principal(ctx), postgres.ProjectFilter{ExcludeUnsorted: true})
}
