package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
)

// The scripted advisory writes (issue 5 §7): create a draft, edit its
// content, and the lifecycle actions, each
// POST /api/advisories/{advisory_id}/{action}/ with a JSON (or form) body
// of that action's fields. Authorization is the use cases' own; these
// handlers only decode and encode. Each answers the Advisory detail shape
// as it is after the change.

// contentFields are the content keys of a create or edit body, each
// decoded into its field of advisory.Content.
var contentFields = map[string]func(*advisory.Content) any{
	"summary":    func(c *advisory.Content) any { return &c.Summary },
	"details":    func(c *advisory.Content) any { return &c.Details },
	"aliases":    func(c *advisory.Content) any { return &c.Aliases },
	"references": func(c *advisory.Content) any { return &c.References },
	"affected":   func(c *advisory.Content) any { return &c.Affected },
	"severity":   func(c *advisory.Content) any { return &c.Severity },
	"cwe_ids":    func(c *advisory.Content) any { return &c.CWEIDs },
	"credits":    func(c *advisory.Content) any { return &c.Credits },
}

// readJSONObject reads a body that must be a JSON object.
func readJSONObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: "The body must be application/json."}
	}
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return b.json, nil
}

// applyContent decodes the content keys of m onto c; a key whose value
// has the wrong shape is a validation problem at that key (null clears
// it). Any other key but those in extra is refused.
func applyContent(m map[string]json.RawMessage, c *advisory.Content, extra ...string) error {
	var problems []advisory.Problem
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field, ok := contentFields[k]
		if !ok {
			if slices.Contains(extra, k) {
				continue
			}
			msg := fmt.Sprintf("Unknown field %q.", k)
			if k == "project" {
				msg += " Move an advisory with POST …/change-project/ (or …/reassign/ in triage)."
			}
			return badRequest("invalid_body", msg)
		}
		dst := field(c)
		if string(m[k]) == "null" {
			zero(dst)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(m[k]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			problems = append(problems, advisory.Problem{Path: k, Message: strings.TrimPrefix(err.Error(), "json: ")})
		}
	}
	if len(problems) > 0 {
		return &advisory.ValidationError{Problems: problems}
	}
	return nil
}

func zero(dst any) {
	switch p := dst.(type) {
	case *string:
		*p = ""
	case *[]string:
		*p = nil
	case *[]advisory.Reference:
		*p = nil
	case *[]advisory.Affected:
		*p = nil
	case *[]advisory.Severity:
		*p = nil
	case *[]advisory.Credit:
		*p = nil
	}
}

// writeAdvisory answers status with the advisory's detail as the caller
// now sees it (re-read, so every derived field is current; the use case's
// copy if the caller can no longer read it).
func (s *server) writeAdvisory(w http.ResponseWriter, r *http.Request, status int, a *advisory.Advisory) error {
	if cur, err := s.cfg.Advisories.Get(r.Context(), s.cfg.Auth.Caller(r), a.AdvisoryID); err == nil {
		a = cur
	}
	d, err := detailOf(a)
	if err != nil {
		return err
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/advisories/"+d.AdvisoryID+"/")
	}
	writeJSON(w, status, d)
	return nil
}

// serveCreateAdvisory: POST /api/advisories/ {project, …content} → 201
// with the new draft (can_create_advisory_for_project: an admin or the
// project's security team; the content validated as a whole).
func (s *server) serveCreateAdvisory(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	m, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	var in app.NewDraft
	if raw, ok := m["project"]; ok {
		if err := json.Unmarshal(raw, &in.ProjectSlug); err != nil {
			return &advisory.ValidationError{Problems: []advisory.Problem{{Path: "project", Message: "must be a project slug"}}}
		}
	}
	if strings.TrimSpace(in.ProjectSlug) == "" {
		return &advisory.ValidationError{Problems: []advisory.Problem{{Path: "project", Message: "is required"}}}
	}
	if err := applyContent(m, &in.Content, "project"); err != nil {
		return err
	}
	a, err := s.cfg.Advisories.CreateDraft(r.Context(), s.cfg.Auth.Caller(r), in)
	if err != nil {
		return err
	}
	return s.writeAdvisory(w, r, http.StatusCreated, a)
}

// servePatchAdvisory: PATCH /api/advisories/{advisory_id}/ with some of
// the content fields; the others keep their current values. The result
// is validated as a whole by the core (can_edit).
func (s *server) servePatchAdvisory(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	m, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	// The fields are applied to the content as it stands under the row
	// lock, in the edit's own transaction: two concurrent PATCHes of
	// different fields both land.
	a, err := s.cfg.Advisories.Patch(r.Context(), s.cfg.Auth.Caller(r), id, func(content *advisory.Content) error {
		return applyContent(m, content)
	})
	if err != nil {
		return err
	}
	return s.writeAdvisory(w, r, http.StatusOK, a)
}

// readActionBody reads an action's fields: a JSON object or a form; an
// empty body is an empty object.
func readActionBody(w http.ResponseWriter, r *http.Request) (body, error) {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return body{json: map[string]json.RawMessage{}}, nil
	}
	b, err := readBody(w, r)
	if errors.Is(err, io.EOF) {
		return body{json: map[string]json.RawMessage{}}, nil
	}
	return b, err
}

// action adapts a lifecycle use case taking one optional text field to an
// endpoint: the field is read from the body, the use case runs as the
// caller, the advisory is answered.
func (s *server) action(field string, run func(*http.Request, app.Caller, advisory.ID, string) (*advisory.Advisory, error)) serveFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
		id, err := advisoryID(r)
		if err != nil {
			return err
		}
		b, err := readActionBody(w, r)
		if err != nil {
			return err
		}
		var v string
		if field != "" {
			if v, err = b.str(field); err != nil {
				return err
			}
		}
		a, err := run(r, s.cfg.Auth.Caller(r), id, v)
		if err != nil {
			return err
		}
		return s.writeAdvisory(w, r, http.StatusOK, a)
	}
}

func (s *server) dismiss(r *http.Request, c app.Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.Dismiss(r.Context(), c, id, reason)
}

// reopen asks for a fresh step-up when the reopening is an un-withdrawal
// (L14 re-publishes; permissions §13), once the caller is known to be
// allowed.
func (s *server) reopen(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	unwithdraw, err := s.cfg.Advisories.CheckReopen(r.Context(), c, id)
	if err != nil {
		return nil, err
	}
	if unwithdraw {
		if err := s.cfg.Auth.RequireStepUp(r.Context()); err != nil {
			return nil, err
		}
	}
	return s.cfg.Advisories.Reopen(r.Context(), c, id)
}

func (s *server) promote(r *http.Request, c app.Caller, id advisory.ID, project string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.Promote(r.Context(), c, id, strings.TrimSpace(project))
}

func (s *server) reassign(r *http.Request, c app.Caller, id advisory.ID, project string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.ReassignTriage(r.Context(), c, id, strings.TrimSpace(project))
}

func (s *server) changeProject(r *http.Request, c app.Caller, id advisory.ID, project string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.ChangeProject(r.Context(), c, id, strings.TrimSpace(project))
}

func (s *server) flagRouting(r *http.Request, c app.Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.FlagForRouting(r.Context(), c, id, note)
}

func (s *server) clearRouting(r *http.Request, c app.Caller, id advisory.ID, note string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.ClearRoutingFlag(r.Context(), c, id, note)
}

// withdraw needs a fresh step-up (permissions §8), asked for only once the
// caller is known to be allowed (§13: permission first).
func (s *server) withdraw(r *http.Request, c app.Caller, id advisory.ID, reason string) (*advisory.Advisory, error) {
	if err := s.cfg.Advisories.CheckWithdraw(r.Context(), c, id); err != nil {
		return nil, err
	}
	if err := s.cfg.Auth.RequireStepUp(r.Context()); err != nil {
		return nil, err
	}
	return s.cfg.Advisories.Withdraw(r.Context(), c, id, reason)
}
