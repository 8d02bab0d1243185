// Package report is the HTTP surface of the public intake (operations.md
// §2.8): the report form at /report/, its thank-you page, the project
// picker data and the ALTCHA challenge. It is mounted by the web frontend
// under its middleware (request id, security headers, session, CSRF,
// maintenance), as
//
//	mux.Handle("/report/", reportHandler)
//
// Rules: the rate limit — per IP for anonymous reporters, per user for
// signed-in ones — is counted before anything else runs, and a throttled
// request writes nothing (INV-RATELIMIT-1); a honeypot trip gets the very
// response a real report gets, apart from the per-request reference
// (INV-INTAKE-1); the form has no email field (INV-INTAKE-2).
//
// Scripts file the same report with a JSON POST to /report/
// (Content-Type: application/json, the form's field names as keys): the
// same rules, honeypot and rate limits, answered 202 with the reference
// (a honeypot trip included), 422 validation_failed with the problems by
// field, 429 rate_limited, all as JSON.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/intake"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
	"github.com/eclipse-csi/advisoryhub/web"
)

// Paths.
const (
	FormPath      = "/report/"
	ThanksPath    = "/report/thank-you/"
	ProjectsPath  = "/report/projects.json"
	ChallengePath = "/report/altcha/challenge.json"
)

// Rate-limit routes (counter keys) and the fixed picker limit.
const (
	RouteSubmit   = "report.submit"
	RouteProjects = "report.projects"
)

// PickerRule is the project picker's limit (operations.md §2.8: 60/m per
// IP).
var PickerRule = ratelimit.Rule{Limit: 60, Period: time.Minute}

// Config wires the report surface.
type Config struct {
	Intake  *app.Intake
	Limiter *ratelimit.Limiter
	// AnonRule and UserRule are RATELIMIT_INTAKE_ANON (5/h) and
	// RATELIMIT_INTAKE_USER (20/h).
	AnonRule, UserRule ratelimit.Rule
	// Caller resolves the request's caller (auth.Auth.Caller): the
	// signed-in user, if any, the client IP and the User-Agent.
	Caller func(r *http.Request) app.Caller
	// Disabled is INTAKE_DISABLED: the form answers 503.
	Disabled bool
	Logger   *slog.Logger
	// NotFound answers other paths under /report/ (nil: a plain 404).
	NotFound http.Handler
}

type server struct {
	cfg   Config
	pages map[string]*template.Template
}

// New returns the /report/ handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Intake == nil || cfg.Limiter == nil || cfg.Caller == nil || cfg.Logger == nil {
		return nil, errors.New("report: Intake, Limiter, Caller and Logger are required")
	}
	if cfg.AnonRule.Limit < 1 || cfg.UserRule.Limit < 1 {
		return nil, errors.New("report: AnonRule and UserRule are required")
	}
	s := &server{cfg: cfg, pages: map[string]*template.Template{}}
	for _, page := range []string{"report", "report_thanks"} {
		t, err := template.ParseFS(web.Templates, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, err
		}
		s.pages[page] = t
	}
	submitLimit := cfg.Limiter.Middleware(RouteSubmit, s.submitKey, func(w http.ResponseWriter, r *http.Request, d ratelimit.Decision) {
		if isJSON(r) {
			ratelimit.JSON(w, r, d)
			return
		}
		ratelimit.Plain(w, r, d)
	})
	pickerLimit := cfg.Limiter.Middleware(RouteProjects, func(r *http.Request) (ratelimit.Rule, string, bool) {
		return PickerRule, ratelimit.IPSubject(cfg.Caller(r).IP), true
	}, ratelimit.JSON)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+FormPath+"{$}", s.serveForm)
	mux.Handle("POST "+FormPath+"{$}", s.enabled(submitLimit(http.HandlerFunc(s.serveSubmit))))
	mux.HandleFunc("GET "+ThanksPath+"{$}", s.serveThanks)
	mux.Handle("GET "+ProjectsPath, pickerLimit(http.HandlerFunc(s.serveProjects)))
	mux.HandleFunc("GET "+ChallengePath, s.serveChallenge)
	if cfg.NotFound != nil {
		mux.Handle(FormPath, cfg.NotFound)
	}
	return mux, nil
}

// isJSON reports whether r's body is JSON (a scripted report).
func isJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json"
}

// submitKey: per user when signed in, per client IP otherwise.
func (s *server) submitKey(r *http.Request) (ratelimit.Rule, string, bool) {
	c := s.cfg.Caller(r)
	if c.UserID != 0 {
		return s.cfg.UserRule, ratelimit.UserSubject(c.UserID), true
	}
	return s.cfg.AnonRule, ratelimit.IPSubject(c.IP), true
}

// enabled answers 503 while intake is switched off, before the limiter.
func (s *server) enabled(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Disabled {
			if isJSON(r) {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "intake_disabled",
					"message": "Reporting is temporarily unavailable. Please try again later."})
				return
			}
			s.unavailable(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) unavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte("Reporting is temporarily unavailable. Please try again later."))
}

// formData is the report page's data.
type formData struct {
	Form     intake.Report
	Problems map[string]string
	Projects []postgres.ReportProject
	ALTCHA   bool
}

func (s *server) serveForm(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Disabled {
		s.unavailable(w)
		return
	}
	s.renderForm(w, r, http.StatusOK, intake.Report{}, nil)
}

func (s *server) renderForm(w http.ResponseWriter, r *http.Request, status int, form intake.Report, problems map[string]string) {
	projects, err := s.cfg.Intake.Projects(r.Context(), "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	c := s.cfg.Caller(r)
	s.render(w, r, status, "report", formData{Form: form, Problems: problems, Projects: projects,
		ALTCHA: c.UserID == 0 && s.cfg.Intake.ALTCHAEnabled()})
}

// serveSubmit files the report (the rate limit already ran). Success and a
// honeypot trip both redirect to the thank-you page with a reference of
// the same shape; there is nothing else in either response.
func (s *server) serveSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if isJSON(r) {
		s.serveSubmitJSON(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	form := intake.Report{
		ProjectSlug: r.PostFormValue(intake.FieldProject),
		Summary:     r.PostFormValue(intake.FieldSummary),
		Details:     r.PostFormValue(intake.FieldDetails),
		DisplayName: r.PostFormValue(intake.FieldDisplayName),
		// No email field is read, whatever the client sends (INV-INTAKE-2).
	}
	rc, err := s.cfg.Intake.Submit(r.Context(), s.cfg.Caller(r), app.Submission{
		Report:   form,
		Honeypot: r.PostFormValue(intake.FieldHoneypot),
		ALTCHA:   r.PostFormValue(intake.FieldALTCHA),
	})
	var ve *advisory.ValidationError
	switch {
	case errors.As(err, &ve):
		s.renderForm(w, r, http.StatusBadRequest, form.Normalize(), ve.ByPath())
		return
	case errors.Is(err, intake.ErrALTCHA):
		s.renderForm(w, r, http.StatusBadRequest, form.Normalize(), map[string]string{intake.FieldALTCHA: intake.ErrALTCHA.Error()})
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if rc.Honeypot {
		obs.Logger(r.Context()).InfoContext(r.Context(), "intake honeypot tripped")
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, ThanksPath+"?ref="+url.QueryEscape(string(rc.Ref)), http.StatusSeeOther)
}

// submission is the JSON body of a scripted report: the form's fields.
// There is no email field; one sent is ignored (INV-INTAKE-2).
type submission struct {
	ProjectSlug string `json:"project_slug"`
	Summary     string `json:"summary"`
	Details     string `json:"details"`
	DisplayName string `json:"reporter_display_name"`
	Honeypot    string `json:"website"`
	ALTCHA      string `json:"altcha"`
}

// serveSubmitJSON files a scripted report (the rate limit already ran).
// A real report and a honeypot trip both answer 202 {"reference": id},
// with a reference of the same shape.
func (s *server) serveSubmitJSON(w http.ResponseWriter, r *http.Request) {
	var in submission
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_body", "message": "The body must be a JSON object of strings."})
		return
	}
	rc, err := s.cfg.Intake.Submit(r.Context(), s.cfg.Caller(r), app.Submission{
		Report:   intake.Report{ProjectSlug: in.ProjectSlug, Summary: in.Summary, Details: in.Details, DisplayName: in.DisplayName},
		Honeypot: in.Honeypot,
		ALTCHA:   in.ALTCHA,
	})
	var ve *advisory.ValidationError
	switch {
	case errors.As(err, &ve):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "validation_failed",
			"message": "The report is not valid.", "problems": ve.ByPath()})
		return
	case errors.Is(err, intake.ErrALTCHA):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "validation_failed",
			"message": "The report is not valid.", "problems": map[string]string{intake.FieldALTCHA: intake.ErrALTCHA.Error()}})
		return
	case err != nil:
		if k := apperr.KindOf(err); k == apperr.Unauthenticated || k == apperr.Forbidden {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "message": "You may not file a report."})
			return
		}
		obs.Logger(r.Context()).ErrorContext(r.Context(), "report request failed", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "message": "An internal error occurred."})
		return
	}
	if rc.Honeypot {
		obs.Logger(r.Context()).InfoContext(r.Context(), "intake honeypot tripped")
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"reference": string(rc.Ref)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *server) serveThanks(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("ref")
	if _, err := advisory.ParseID(ref); err != nil {
		ref = ""
	}
	s.render(w, r, http.StatusOK, "report_thanks", map[string]string{"Ref": ref})
}

// serveProjects: the picker data, [{slug, name}] by name, q substring,
// at most 200, never `unsorted`; cacheable for five minutes.
func (s *server) serveProjects(w http.ResponseWriter, r *http.Request) {
	ps, err := s.cfg.Intake.Projects(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	b, err := json.Marshal(ps)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}

// serveChallenge issues an ALTCHA challenge for the widget (404 when the
// check is off).
func (s *server) serveChallenge(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Intake.ALTCHAEnabled() {
		http.NotFound(w, r)
		return
	}
	c, err := s.cfg.Intake.Challenge()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	b, _ := json.Marshal(c)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

func (s *server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if k := apperr.KindOf(err); k == apperr.Unauthenticated || k == apperr.Forbidden {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	obs.Logger(r.Context()).ErrorContext(r.Context(), "report request failed", "error", err.Error())
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}

// pageData matches what the shared layout reads.
type pageData struct {
	User  *auth.User
	CSRF  string
	Nonce string
	Data  any
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	d := pageData{User: auth.UserFrom(r.Context()), CSRF: middleware.CSRFToken(r.Context()),
		Nonce: middleware.CSPNonce(r.Context()), Data: data}
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
