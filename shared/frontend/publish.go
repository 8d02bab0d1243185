package frontend

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/api"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// The HTML publish (operations §2.3 POST /publication/<id>/publish/,
// requirements §6.2): the owner confirms by typing the advisory's id, which
// the server re-checks (case-insensitively) — a mismatch publishes nothing
// — after a recent step-up (requirements §5). Who may publish is decided
// by the publication service (INV-PERM-1..3), here as on the API; the page
// asks for the step-up only once the caller is known to be allowed, and
// shares the API's 10/h limit per user.
const publishPath = "/publication/{advisory_id}/publish/"

// confirmField is the typed-id confirmation's form field.
const confirmField = "confirm_advisory_id"

func (s *server) servePublishPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderPublish(w, r, http.StatusOK, "")
}

// renderPublish shows the advisory and, if the caller may publish it now,
// the confirmation form (or the way to the step-up first); problem is an
// error to show above it.
func (s *server) renderPublish(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	id, ok := s.publishTarget(w, r)
	if !ok {
		return nil
	}
	c := s.cfg.Auth.Caller(r)
	a, err := s.cfg.Advisories.Get(r.Context(), c, id)
	if err != nil {
		return s.refusePage(w, r, err)
	}
	data := map[string]any{
		"AdvisoryID": string(a.AdvisoryID), "Summary": a.Content.Summary, "Project": a.Project.Name,
		"State": string(a.State), "Review": string(a.ReviewStatus), "Republish": a.RepublishRequired,
		"Action": r.URL.Path, "Problem": problem,
	}
	if err := s.cfg.Publications.CheckPublish(r.Context(), c, id); err != nil {
		st, msg, known := pageError(err)
		if !known {
			return err
		}
		data["Refused"], data["Problem"] = true, msg
		status = st
	} else if !s.cfg.Auth.StepUpFresh(auth.UserFrom(r.Context())) {
		data["StepUpURL"] = auth.StepUpURL(r.URL.Path)
	}
	s.render(w, r, status, "publish", data)
	return nil
}

func (s *server) servePublishSubmit(w http.ResponseWriter, r *http.Request) error {
	id, ok := s.publishTarget(w, r)
	if !ok {
		return nil
	}
	ctx := r.Context()
	u := auth.UserFrom(ctx)
	if s.cfg.Limiter != nil {
		d, err := s.cfg.Limiter.Check(ctx, "api.publish", api.PublishRule, ratelimit.UserSubject(u.ID))
		if err != nil {
			return err
		}
		if !d.Allowed {
			w.Header().Set("Retry-After", d.RetryAfterSeconds())
			s.renderError(w, r, http.StatusTooManyRequests, "Too many requests", "Publishing is limited to 10 attempts an hour. Try again later.")
			return nil
		}
	}
	c := s.cfg.Auth.Caller(r)
	if err := s.cfg.Publications.CheckPublish(ctx, c, id); err != nil {
		return s.renderPublishRefusal(w, r, err)
	}
	if !s.cfg.Auth.StepUpFresh(u) {
		// Back to the page afterwards: the confirmation is typed again.
		http.Redirect(w, r, auth.StepUpURL(r.URL.Path), http.StatusSeeOther)
		return nil
	}
	if !strings.EqualFold(strings.TrimSpace(r.PostFormValue(confirmField)), string(id)) {
		return s.renderPublish(w, r, http.StatusBadRequest, "The id you typed is not "+string(id)+": nothing was published.")
	}
	task, err := s.cfg.Publications.Publish(ctx, c, id)
	if err != nil {
		return s.renderPublishRefusal(w, r, err)
	}
	obs.Logger(ctx).InfoContext(ctx, "publication queued", "advisory_id", string(id), "task_id", task.ID)
	s.render(w, r, http.StatusAccepted, "publish", map[string]any{
		"AdvisoryID": string(id), "Task": task,
		"TaskURL": "/api/advisories/" + url.PathEscape(string(id)) + "/publication/",
	})
	return nil
}

// publishTarget parses the advisory id of the path; a malformed one is the
// not-found page, like an unknown one (INV-ID-1).
func (s *server) publishTarget(w http.ResponseWriter, r *http.Request) (advisory.ID, bool) {
	id, err := advisory.ParseID(r.PathValue("advisory_id"))
	if err != nil || s.cfg.Publications == nil {
		s.serveNotFound(w, r)
		return "", false
	}
	return id, true
}

// renderPublishRefusal answers a refused publish with the page and the
// reason, or the not-found page for an advisory the caller cannot see.
func (s *server) renderPublishRefusal(w http.ResponseWriter, r *http.Request, err error) error {
	st, msg, known := pageError(err)
	switch {
	case !known:
		return err
	case st == http.StatusNotFound:
		s.serveNotFound(w, r)
		return nil
	}
	return s.renderPublish(w, r, st, msg)
}

// refusePage answers err with its page: not found, forbidden or conflict.
func (s *server) refusePage(w http.ResponseWriter, r *http.Request, err error) error {
	st, msg, known := pageError(err)
	if !known {
		return err
	}
	if st == http.StatusNotFound {
		s.serveNotFound(w, r)
		return nil
	}
	s.renderError(w, r, st, http.StatusText(st), msg)
	return nil
}

// pageError maps a classified error to its status and the message of the
// innermost classified error (a domain sentinel's text, never the wrapped
// chain with its internal context); known is false for anything else.
func pageError(err error) (status int, msg string, known bool) {
	switch apperr.KindOf(err) {
	case apperr.NotFound:
		status = http.StatusNotFound
	case apperr.Forbidden, apperr.Unauthenticated:
		status = http.StatusForbidden
	case apperr.Conflict:
		status = http.StatusConflict
	case apperr.Invalid:
		status = http.StatusBadRequest
	default:
		return 0, "", false
	}
	msg = http.StatusText(status)
	for e := err; e != nil; {
		var ae *apperr.Error
		if !errors.As(e, &ae) {
			break
		}
		if ae.Msg != "" {
			msg = ae.Msg
		}
		if ae.Err == nil {
			break
		}
		e = ae.Err
	}
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
	}
	return status, msg, true
}
