package api

import (
	"errors"
	"net/http"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Error is an API error with its exact status and code (e.g. 400
// invalid_state).
type Error struct {
	Status  int
	Code    string
	Message string
	Extra   map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badRequest(code, msg string) error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

// stepUpURL is where an API client sends its user to re-authenticate.
const stepUpURL = auth.StepUpPath

// serveError is the one mapping of errors to responses. Only 5xx are
// logged at Error.
func (s *server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *Error
	var ve *advisory.ValidationError
	var pe *project.ValidationError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.Status, ae.Code, ae.Message, ae.Extra)
	case errors.Is(err, auth.ErrStepUpRequired):
		writeError(w, http.StatusUnauthorized, "step_up_required", "Re-authenticate before this action.",
			map[string]any{"step_up_url": stepUpURL})
	case errors.As(err, &ve):
		writeError(w, http.StatusUnprocessableEntity, "validation_failed", "The advisory content is not valid.",
			map[string]any{"problems": ve.ByPath()})
	case errors.As(err, &pe):
		problems := map[string]string{}
		for _, p := range pe.Problems {
			problems[p.Path] = p.Message
		}
		writeError(w, http.StatusUnprocessableEntity, "validation_failed", "The project is not valid.",
			map[string]any{"problems": problems})
	default:
		switch apperr.KindOf(err) {
		case apperr.NotFound:
			// The contract: unknown (or invisible) resources get the HTML
			// 404 page, the same for both (INV-PRIVACY-1).
			s.cfg.NotFound.ServeHTTP(w, r)
		case apperr.Forbidden:
			writeError(w, http.StatusForbidden, "forbidden", "You do not have permission to perform this action.", nil)
		case apperr.Unauthenticated:
			writeError(w, http.StatusUnauthorized, "not_authenticated", "Authentication credentials were not provided.", nil)
		case apperr.Conflict:
			code := "conflict"
			switch {
			case errors.Is(err, advisory.ErrIllegalTransition), errors.Is(err, advisory.ErrViaPipeline):
				code = "invalid_transition"
			case errors.Is(err, advisory.ErrPublicationInProgress):
				code = "in_progress"
			}
			writeError(w, http.StatusConflict, code, publicMessage(err, "The advisory's current state does not allow this."), nil)
		case apperr.Invalid:
			writeError(w, http.StatusBadRequest, "invalid_body", publicMessage(err, "The request is not valid."), nil)
		default:
			obs.Logger(r.Context()).ErrorContext(r.Context(), "api request failed", "route", r.Pattern, "error", err.Error())
			writeError(w, http.StatusInternalServerError, "server_error", "An internal error occurred.", nil)
		}
	}
}

// publicMessage is the message of a classified domain error (written for
// users), else def.
func publicMessage(err error, def string) string {
	var e *apperr.Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return def
}
