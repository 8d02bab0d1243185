package api

import (
	"net/http"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
)

// The admin inbox and the admin actions on CVE bans and orphan CVEs
// (operations.md §2.7: /admin/, /admin/cve/allow/, /admin/orphans/…; the ban
// is lifted on the advisory's own path), as
// JSON beside the contract's two dashboard transitions. Every route is
// admin-only; the use cases decide that.

func (s *server) inboxRoutes() []route {
	return []route{
		{"GET", "/api/dashboard/", s.serveInbox},
		{"POST", "/api/advisories/{advisory_id}/allow-cve-requests/", s.action("", s.allowCVERequests)},
		{"POST", "/api/dashboard/orphans/{orphan_id}/mark-rejected/", s.adminFirst(s.serveMarkOrphanRejected)},
		{"POST", "/api/dashboard/orphans/reassignment/{task_id}/resolve/", s.adminFirst(s.serveResolveReassignment)},
	}
}

type inboxItemJSON struct {
	AdvisoryID       *string `json:"advisory_id"`
	Project          *string `json:"project"`
	Summary          string  `json:"summary"`
	State            *string `json:"state"`
	TaskID           *int64  `json:"task_id"`
	Status           *string `json:"status"`
	CVEID            *string `json:"cve_id"`
	Note             string  `json:"note"`
	By               *string `json:"by"`
	SuggestedProject *string `json:"suggested_project"`
	At               Time    `json:"at"`
}

type inboxJSON struct {
	Counts map[string]int             `json:"counts"`
	Items  map[string][]inboxItemJSON `json:"items"`
}

// serveInbox answers GET /api/dashboard/[?category=<slug>]: the size of
// every queue and up to app.InboxLimit entries of each (or of one) queue,
// oldest first.
func (s *server) serveInbox(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	in, err := s.cfg.Advisories.Inbox(r.Context(), s.cfg.Auth.Caller(r), strings.TrimSpace(r.URL.Query().Get("category")))
	if err != nil {
		return err
	}
	out := inboxJSON{Counts: make(map[string]int, len(in.Counts)), Items: make(map[string][]inboxItemJSON, len(in.Items))}
	for c, n := range in.Counts {
		out.Counts[string(c)] = n
	}
	for c, items := range in.Items {
		list := make([]inboxItemJSON, 0, len(items))
		for _, it := range items {
			j := inboxItemJSON{AdvisoryID: nonEmpty(it.AdvisoryID), Project: nonEmpty(it.ProjectSlug), Summary: it.Summary,
				State: nonEmpty(it.State), Status: nonEmpty(it.Status), CVEID: nonEmpty(it.CVEID), Note: it.Note,
				By: nonEmpty(it.ByEmail), SuggestedProject: nonEmpty(it.Suggested), At: apiTime(it.At)}
			if it.TaskID != 0 {
				id := it.TaskID
				j.TaskID = &id
			}
			list = append(list, j)
		}
		out.Items[string(c)] = list
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) allowCVERequests(r *http.Request, c app.Caller, id advisory.ID, _ string) (*advisory.Advisory, error) {
	return s.cfg.Advisories.AllowCVERequests(r.Context(), c, id)
}

type orphanJSON struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// serveMarkOrphanRejected records an orphan CVE's rejection at cve.org
// (lifecycle O5): {notes?} → 200 {id, status}.
func (s *server) serveMarkOrphanRejected(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := pathID(r, "orphan_id", advisory.ErrTaskNotFound)
	if err != nil {
		return err
	}
	b, err := readActionBody(w, r)
	if err != nil {
		return err
	}
	notes, err := b.str("notes")
	if err != nil {
		return err
	}
	if err := s.cfg.Advisories.MarkOrphanRejected(r.Context(), s.cfg.Auth.Caller(r), id, notes); err != nil {
		return taskError(err, "invalid_transition", "validation_failed")
	}
	writeJSON(w, http.StatusOK, orphanJSON{ID: id, Status: string(advisory.OrphanMarkedRejected)})
	return nil
}

type reassignmentJSON struct {
	ID               int64   `json:"id"`
	OrphanID         int64   `json:"orphan_id"`
	AdvisoryID       string  `json:"advisory_id"`
	Status           string  `json:"status"`
	ReplacementCVEID *string `json:"replacement_cve_id"`
}

// serveResolveReassignment resolves a queued orphan-CVE reassignment task
// (lifecycle T2, T3): {outcome: reassigned|replaced, replacement_cve_id?,
// notes?} → 200 the task.
func (s *server) serveResolveReassignment(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := taskID(r)
	if err != nil {
		return err
	}
	b, err := readActionBody(w, r)
	if err != nil {
		return err
	}
	var outcome, replacement, notes string
	for _, f := range []struct {
		name string
		v    *string
	}{{"outcome", &outcome}, {"replacement_cve_id", &replacement}, {"notes", &notes}} {
		if *f.v, err = b.str(f.name); err != nil {
			return err
		}
	}
	switch outcome = strings.TrimSpace(outcome); outcome {
	case app.OutcomeReassigned, app.OutcomeReplaced:
	default:
		return badRequest("invalid_outcome", "outcome must be reassigned or replaced.")
	}
	t, err := s.cfg.Advisories.ResolveOrphanReassignment(r.Context(), s.cfg.Auth.Caller(r), id, outcome, replacement, notes)
	if err != nil {
		return taskError(err, "invalid_transition", "validation_failed")
	}
	writeJSON(w, http.StatusOK, reassignmentJSON{ID: t.ID, OrphanID: t.OrphanID, AdvisoryID: string(t.AdvisoryID),
		Status: string(t.Status), ReplacementCVEID: nonEmpty(string(t.ReplacementCVEID))})
	return nil
}
