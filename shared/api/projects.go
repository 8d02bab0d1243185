package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Project management for global admins (issue 5 §7): list, create and
// partially update projects. Each change is audited by the use case
// (project.created, project.updated).

// projectJSON is the Project shape; fields in key order.
type projectJSON struct {
	CreatedAt         Time   `json:"created_at"`
	Description       string `json:"description"`
	HomepageURL       string `json:"homepage_url"`
	ID                string `json:"id"`
	IsMaturePublisher bool   `json:"is_mature_publisher"`
	Name              string `json:"name"`
	SecurityTeam      string `json:"security_team"`
	Slug              string `json:"slug"`
}

func projectOf(p project.Project) projectJSON {
	return projectJSON{CreatedAt: apiTime(p.CreatedAt), Description: p.Description, HomepageURL: p.HomepageURL,
		ID: p.ID, IsMaturePublisher: p.IsMaturePublisher, Name: p.Name, SecurityTeam: p.SecurityTeam, Slug: p.Slug}
}

// serveListProjects: GET /api/projects/ (admin) — every project but the
// `unsorted` sentinel, by name.
func (s *server) serveListProjects(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	ps, err := s.cfg.Projects.ListProjects(r.Context(), s.cfg.Auth.Caller(r))
	if err != nil {
		return err
	}
	out := make([]projectJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, projectOf(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

// projectFields maps the body keys onto the editable fields.
var projectFields = map[string]func(*project.Fields) any{
	"slug":                func(f *project.Fields) any { return &f.Slug },
	"name":                func(f *project.Fields) any { return &f.Name },
	"description":         func(f *project.Fields) any { return &f.Description },
	"homepage_url":        func(f *project.Fields) any { return &f.HomepageURL },
	"security_team":       func(f *project.Fields) any { return &f.SecurityTeam },
	"is_mature_publisher": func(f *project.Fields) any { return &f.IsMaturePublisher },
}

// applyProject decodes the keys of b onto f. A value of the wrong type is
// a validation problem at its key; an unknown key is refused. Form bodies
// carry strings, a non-empty one being true for the flag.
func applyProject(b body, f *project.Fields) error {
	var problems []project.Problem
	if b.form != nil {
		for k, v := range b.form {
			if k == "csrfmiddlewaretoken" {
				continue
			}
			field, ok := projectFields[k]
			if !ok {
				return badRequest("invalid_body", "Unknown field "+k+".")
			}
			switch dst := field(f).(type) {
			case *string:
				*dst = v
			case *bool:
				*dst = strings.TrimSpace(v) != ""
			}
		}
		return nil
	}
	for k, raw := range b.json {
		field, ok := projectFields[k]
		if !ok {
			return badRequest("invalid_body", "Unknown field "+k+".")
		}
		if err := json.Unmarshal(raw, field(f)); err != nil || string(raw) == "null" {
			msg := "must be a string"
			if k == "is_mature_publisher" {
				msg = "must be a boolean"
			}
			problems = append(problems, project.Problem{Path: k, Message: msg})
		}
	}
	if len(problems) > 0 {
		return &project.ValidationError{Problems: problems}
	}
	return nil
}

// serveCreateProject: POST /api/projects/ (admin) → 201 Project. The
// security team is a group name; an unknown group is created.
func (s *server) serveCreateProject(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	var f project.Fields
	if err := applyProject(b, &f); err != nil {
		return err
	}
	p, err := s.cfg.Projects.CreateProject(r.Context(), s.cfg.Auth.Caller(r), f)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/projects/"+p.Slug+"/")
	writeJSON(w, http.StatusCreated, projectOf(p))
	return nil
}

// servePatchProject: PATCH /api/projects/{slug}/ (admin) with some of the
// fields; the others keep their values (merged on the locked row).
func (s *server) servePatchProject(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	slug := r.PathValue("slug")
	if !project.ValidSlug(slug) {
		return project.ErrNotFound
	}
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	// A bad body is refused before anything is read; applied again to
	// the locked row's fields, it cannot fail.
	if err := applyProject(b, &project.Fields{}); err != nil {
		return err
	}
	p, err := s.cfg.Projects.PatchProject(r.Context(), s.cfg.Auth.Caller(r), slug, func(f project.Fields) project.Fields {
		_ = applyProject(b, &f)
		return f
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, projectOf(p))
	return nil
}
