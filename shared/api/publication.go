package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// The publication endpoints (operations §2.9, §3):
//
//	GET  /api/advisories/{advisory_id}/publication/               viewer+
//	POST /api/advisories/{advisory_id}/publish/                   can_publish + step-up, 10/h
//	POST /api/publication/tasks/{task_id}/retry/                  can_publish + step-up, 10/h
//	GET  /api/publication/tasks/{task_id}/artifact/{kind}/        viewer+, kind osv|csaf
//
// The step-up is asked for only once the caller is known to be allowed
// (permissions §13, as withdraw does).

// PublishRule is the limit of publish and retry (permissions §12: 10/h per
// user, HTML and API).
var PublishRule = ratelimit.Rule{Limit: 10, Period: time.Hour}

func (s *server) publicationRoutes() []route {
	l := s.cfg.Limiter
	return []route{
		{"GET", "/api/advisories/{advisory_id}/publication/", s.servePublication},
		{"POST", "/api/advisories/{advisory_id}/publish/", limit(l, "api.publish", PublishRule, s.servePublish)},
		{"POST", "/api/publication/tasks/{task_id}/retry/", limit(l, "api.publish", PublishRule, s.serveRetryPublication)},
		{"GET", "/api/publication/tasks/{task_id}/artifact/{kind}/", s.serveArtifact},
	}
}

// artifactJSON is one entry of PublicationTask.artifacts.
type artifactJSON struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
}

// taskJSON is the PublicationTask shape (keys sorted).
type taskJSON struct {
	AdvisoryID string         `json:"advisory_id"`
	Artifacts  []artifactJSON `json:"artifacts"`
	Attempts   int            `json:"attempts"`
	CommitSHA  string         `json:"commit_sha"`
	CreatedAt  Time           `json:"created_at"`
	FinishedAt Time           `json:"finished_at"`
	ID         int64          `json:"id"`
	LastError  string         `json:"last_error"`
	StartedAt  Time           `json:"started_at"`
	Status     string         `json:"status"`
}

func taskOut(t publication.Task) taskJSON {
	out := taskJSON{
		AdvisoryID: t.PublicID, Artifacts: []artifactJSON{}, Attempts: t.Attempts, CommitSHA: t.CommitSHA,
		CreatedAt: apiTime(t.CreatedAt), FinishedAt: apiTimePtr(t.FinishedAt), ID: t.ID, LastError: t.LastError,
		StartedAt: apiTimePtr(t.StartedAt), Status: string(t.Status),
	}
	for _, a := range t.Artifacts {
		out.Artifacts = append(out.Artifacts, artifactJSON{Kind: string(a.Kind), Path: a.Path})
	}
	return out
}

var errPublicationUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "publication_unavailable",
	Message: "Publication is not available on this deployment."}

// pubTaskID reads {task_id}; anything but a positive integer is not found.
func pubTaskID(r *http.Request) (int64, error) {
	return pathID(r, "task_id", apperr.New(apperr.NotFound, "no such task"))
}

// servePublication: GET …/publication/ → {tasks: [PublicationTask]}
// newest first.
func (s *server) servePublication(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	if s.cfg.Publications == nil {
		return errPublicationUnavailable
	}
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	tasks, err := s.cfg.Publications.Tasks(r.Context(), s.cfg.Auth.Caller(r), id)
	if err != nil {
		return err
	}
	out := make([]taskJSON, len(tasks))
	for i, t := range tasks {
		out[i] = taskOut(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": out})
	return nil
}

// servePublish: POST …/publish/ → 202 PublicationTask; 401
// step_up_required, 403, 409 in_progress, 429.
func (s *server) servePublish(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	if s.cfg.Publications == nil {
		return errPublicationUnavailable
	}
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	c := s.cfg.Auth.Caller(r)
	if err := s.cfg.Publications.CheckPublish(r.Context(), c, id); err != nil {
		return err
	}
	if err := s.cfg.Auth.RequireStepUp(r.Context()); err != nil {
		return err
	}
	task, err := s.cfg.Publications.Publish(r.Context(), c, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, taskOut(task))
	return nil
}

// serveRetryPublication: POST /api/publication/tasks/{task_id}/retry/ →
// 202 new PublicationTask; 400 not_failed, 401 step_up_required, 403, 429.
func (s *server) serveRetryPublication(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	if s.cfg.Publications == nil {
		return errPublicationUnavailable
	}
	id, err := pubTaskID(r)
	if err != nil {
		return err
	}
	c := s.cfg.Auth.Caller(r)
	notFailed := func(err error) error {
		if errors.Is(err, publication.ErrNotFailed) {
			return badRequest("not_failed", "Only a failed publication can be retried.")
		}
		return err
	}
	if err := s.cfg.Publications.CheckRetry(r.Context(), c, id); err != nil {
		return notFailed(err)
	}
	if err := s.cfg.Auth.RequireStepUp(r.Context()); err != nil {
		return err
	}
	task, err := s.cfg.Publications.Retry(r.Context(), c, id)
	if err != nil {
		return notFailed(err)
	}
	writeJSON(w, http.StatusAccepted, taskOut(task))
	return nil
}

// serveArtifact: GET /api/publication/tasks/{task_id}/artifact/{kind}/ →
// {kind, path, content}; kind osv or csaf, else 400 invalid_kind.
func (s *server) serveArtifact(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	if s.cfg.Publications == nil {
		return errPublicationUnavailable
	}
	id, err := pubTaskID(r)
	if err != nil {
		return err
	}
	kind := publication.Kind(r.PathValue("kind"))
	if kind != publication.KindOSV && kind != publication.KindCSAF {
		return badRequest("invalid_kind", "kind must be osv or csaf.")
	}
	art, err := s.cfg.Publications.Artifact(r.Context(), s.cfg.Auth.Caller(r), id, kind)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": string(art.Kind), "path": art.Path, "content": json.RawMessage(art.Content)})
	return nil
}
