package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// advisorySummary is the list shape (AdvisorySummary); fields in key order.
type advisorySummary struct {
	AdvisoryID        string `json:"advisory_id"`
	ModifiedAt        Time   `json:"modified_at"`
	Project           string `json:"project"`
	PublishedAt       Time   `json:"published_at"`
	RepublishRequired bool   `json:"republish_required"`
	ReviewStatus      string `json:"review_status"`
	State             string `json:"state"`
	Summary           string `json:"summary"`
}

type advisoryListPage struct {
	Page     int               `json:"page"`
	PageSize int               `json:"page_size"`
	Results  []advisorySummary `json:"results"`
	Total    int               `json:"total"`
}

// serveListAdvisories: GET /api/advisories/ — the caller's visible
// advisories, newest first, filtered and paged (INV-PRIVACY-1).
func (s *server) serveListAdvisories(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	q := r.URL.Query()
	f := postgres.AdvisoryFilter{Q: q.Get("q"), ReviewStatus: advisory.ReviewStatus(q.Get("review_status"))}
	if p := q.Get("project"); p != "" {
		if !project.ValidID(p) {
			return badRequest("invalid_project", "project must be a project UUID.")
		}
		f.ProjectID = p
	}
	if st := q.Get("state"); st != "" {
		if !advisory.State(st).Valid() {
			return badRequest("invalid_state", "state must be one of triage, draft, published, dismissed.")
		}
		f.State = advisory.State(st)
	}
	var err error
	if f.Page, err = intParam(q.Get("page"), 1); err != nil {
		return err
	}
	if f.PageSize, err = intParam(q.Get("page_size"), postgres.DefaultPageSize); err != nil {
		return err
	}
	f.Page = max(f.Page, 1)
	f.PageSize = min(max(f.PageSize, 1), postgres.MaxPageSize)
	page, err := s.cfg.Advisories.List(r.Context(), s.cfg.Auth.Caller(r), f)
	if err != nil {
		return err
	}
	out := advisoryListPage{Page: page.Page, PageSize: page.PageSize, Total: page.Total, Results: make([]advisorySummary, 0, len(page.Items))}
	for _, it := range page.Items {
		out.Results = append(out.Results, advisorySummary{
			AdvisoryID: it.AdvisoryID.String(), ModifiedAt: apiTime(it.ModifiedAt), Project: it.ProjectSlug,
			PublishedAt: apiTimePtr(it.PublishedAt), RepublishRequired: it.RepublishRequired,
			ReviewStatus: string(it.ReviewStatus), State: string(it.State), Summary: it.Summary,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func intParam(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("invalid_pagination", "page and page_size must be integers.")
	}
	return n, nil
}

type projectRef struct {
	ID                string `json:"id"`
	IsMaturePublisher bool   `json:"is_mature_publisher"`
	Name              string `json:"name"`
	Slug              string `json:"slug"`
}

// advisoryDetail is the Advisory shape; fields in key order. The OSV
// content lists are re-encoded with sorted keys.
type advisoryDetail struct {
	AdvisoryID           string     `json:"advisory_id"`
	Affected             any        `json:"affected"`
	Aliases              any        `json:"aliases"`
	CreatedAt            Time       `json:"created_at"`
	Credits              any        `json:"credits"`
	CWEIDs               any        `json:"cwe_ids"`
	Details              string     `json:"details"`
	DismissedReason      string     `json:"dismissed_reason"`
	ModifiedAt           Time       `json:"modified_at"`
	Project              projectRef `json:"project"`
	PublishedAt          Time       `json:"published_at"`
	References           any        `json:"references"`
	RepublishRequired    bool       `json:"republish_required"`
	ReviewStatus         string     `json:"review_status"`
	Severity             any        `json:"severity"`
	State                string     `json:"state"`
	SubmittedForReviewAt Time       `json:"submitted_for_review_at"`
	Summary              string     `json:"summary"`
	URL                  string     `json:"url"`
	WithdrawnReason      string     `json:"withdrawn_reason"`
}

// sortedList re-encodes a content list as generic JSON, so object keys come
// out sorted and a nil list as [].
func sortedList(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		return []any{}, nil
	}
	return out, nil
}

func detailOf(a *advisory.Advisory) (advisoryDetail, error) {
	d := advisoryDetail{
		AdvisoryID: a.AdvisoryID.String(), CreatedAt: apiTime(a.CreatedAt), Details: a.Content.Details,
		DismissedReason: a.DismissedReason, ModifiedAt: apiTime(a.ModifiedAt),
		Project:     projectRef{ID: a.Project.ID, IsMaturePublisher: a.Project.IsMature, Name: a.Project.Name, Slug: a.Project.Slug},
		PublishedAt: apiTimePtr(a.PublishedAt), RepublishRequired: a.RepublishRequired,
		ReviewStatus: string(a.ReviewStatus), State: string(a.State),
		SubmittedForReviewAt: apiTimePtr(a.SubmittedForReviewAt), Summary: a.Content.Summary,
		URL: "/advisories/" + a.AdvisoryID.String() + "/", WithdrawnReason: a.WithdrawnReason,
	}
	for _, f := range []struct {
		dst *any
		src any
	}{{&d.Affected, a.Content.Affected}, {&d.Aliases, a.Content.Aliases}, {&d.Credits, a.Content.Credits},
		{&d.CWEIDs, a.Content.CWEIDs}, {&d.References, a.Content.References}, {&d.Severity, a.Content.Severity}} {
		v, err := sortedList(f.src)
		if err != nil {
			return advisoryDetail{}, err
		}
		*f.dst = v
	}
	return d, nil
}

// advisoryID parses the path's advisory id; a malformed one is not found,
// as if it missed the route (operations.md §1).
func advisoryID(r *http.Request) (advisory.ID, error) {
	id, err := advisory.ParseID(r.PathValue("advisory_id"))
	if err != nil {
		return "", apperr.New(apperr.NotFound, "no such advisory")
	}
	return id, nil
}

// serveAdvisory: GET /api/advisories/{advisory_id}/ (viewer+; invisible
// and missing answer the same 404).
func (s *server) serveAdvisory(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	a, err := s.cfg.Advisories.Get(r.Context(), s.cfg.Auth.Caller(r), id)
	if err != nil {
		return err
	}
	d, err := detailOf(a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
