// Package frontend is the web function's HTTP surface: the HTML pages, the
// sign-in plumbing (shared/auth), /api/ (shared/api), the public report
// form /report/ (shared/report), the health probes and,
// outside Lambda, /metrics — all behind one middleware chain: request id,
// request log and panic recovery, request metrics, host check, security
// headers (per-request CSP nonce), the session, CSRF (double-submit token
// plus cross-origin checks) and maintenance mode.
package frontend

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/api"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
	"github.com/eclipse-csi/advisoryhub/shared/report"
	"github.com/eclipse-csi/advisoryhub/web"
)

// Config wires the frontend. Logger and Health are required; without Auth
// the handler serves only the probes, the static files and the public
// pages (narrow tests).
type Config struct {
	Logger *slog.Logger
	Health *health.Handler

	Auth        *auth.Auth
	DB          *postgres.DB // the maintenance switch
	Advisories  *app.Advisories
	Projects    *app.Projects
	Comments    *app.Comments
	Grants      *app.Grants
	Maintenance *app.Maintenance
	// Publications serves the API's publication endpoints (nil: 503).
	Publications *app.Publications
	// Intake and Limiter serve the public report form at /report/ (and
	// Limiter the API's rate limits); RateLimit and IntakeDisabled are
	// its settings.
	Intake         *app.Intake
	Limiter        *ratelimit.Limiter
	RateLimit      config.RateLimit
	IntakeDisabled bool
	Web            config.Web
	Production     bool
	// Metrics receives one measurement per request (nil: none).
	Metrics middleware.RequestObserver
	// MetricsHandler serves GET /metrics; nil inside Lambda, where the
	// series leave as log lines instead.
	MetricsHandler http.Handler
}

type server struct {
	cfg   Config
	pages map[string]*template.Template
}

var pageNames = []string{"landing", "error", "me", "signed_out", "maintenance", "invitation", "publish"}

// Build returns the web function's handler with its middleware.
func Build(cfg Config) (http.Handler, error) {
	if cfg.Logger == nil || cfg.Health == nil {
		return nil, errors.New("frontend: Logger and Health are required")
	}
	s := &server{cfg: cfg, pages: map[string]*template.Template{}}
	for _, page := range pageNames {
		// One parsed set per page (layout + page), parsed once per cold start.
		t, err := template.ParseFS(web.Templates, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, err
		}
		s.pages[page] = t
	}
	mux := http.NewServeMux()
	if err := s.routes(mux); err != nil {
		return nil, err
	}
	mw := []func(http.Handler) http.Handler{
		middleware.RequestID(cfg.Logger),
		middleware.Log(http.HandlerFunc(s.servePanic)),
	}
	if cfg.Metrics != nil {
		mw = append(mw, middleware.Metrics(cfg.Metrics))
	}
	mw = append(mw,
		middleware.AllowedHosts(cfg.Web.AllowedHosts),
		s.httpsRedirect,
		middleware.SecurityHeaders(middleware.HeadersConfig{
			ReportOnly: cfg.Web.CSPReportOnly, ReportURI: cfg.Web.CSPReportURI, Secure: s.secure,
		}),
	)
	if cfg.Auth != nil {
		csrf, err := middleware.NewCSRF(middleware.CSRFConfig{
			Secret: cfg.Auth.Secret(), CookieName: cfg.Auth.CSRFCookieName(), Secure: cfg.Auth.SecureCookies(),
			SessionKey: cfg.Auth.SessionKey, Exempt: anonymousAPI, TrustedOrigins: cfg.Web.TrustedOrigins,
			Deny: s.serveCSRFFailure,
		})
		if err != nil {
			return nil, err
		}
		maint, err := middleware.Maintenance(middleware.MaintenanceConfig{
			Enabled: s.maintenanceOn,
			Admin:   func(r *http.Request) bool { return auth.UserFrom(r.Context()).Subject().Admin() },
			Page:    http.HandlerFunc(s.serveMaintenancePage),
			Error:   func(w http.ResponseWriter, r *http.Request, err error) { s.serveError(w, r, err) },
		})
		if err != nil {
			return nil, err
		}
		mw = append(mw, cfg.Auth.Middleware, csrf.Middleware, maint)
	}
	return middleware.Chain(middleware.Routed(mux), mw...), nil
}

// New is Build for callers that cannot fail (narrow tests); a
// configuration error answers every request with 500 and is logged.
func New(cfg Config) http.Handler {
	h, err := Build(cfg)
	if err != nil {
		if cfg.Logger != nil {
			cfg.Logger.Error("frontend misconfigured", "error", err.Error())
		}
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		})
	}
	return h
}

// anonymousAPI exempts anonymous /api/ calls from the CSRF check: they
// carry no ambient authority and the API answers them 401
// not_authenticated.
func anonymousAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") && auth.UserFrom(r.Context()) == nil
}

func (s *server) maintenanceOn(ctx context.Context) (bool, error) {
	if s.cfg.DB == nil {
		return false, nil
	}
	m, err := s.cfg.DB.MaintenanceMode(ctx)
	return m.Enabled, err
}

// secure reports whether r arrived over TLS.
func (s *server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if s.cfg.Web.TrustForwardedProto {
		return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	}
	return s.cfg.Production && strings.HasPrefix(s.cfg.Web.BaseURL, "https://")
}

// httpsRedirect sends plain-http requests to https in production, when the
// edge's X-Forwarded-Proto is trusted to say so (probes and metrics exempt).
func (s *server) httpsRedirect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Production && s.cfg.Web.TrustForwardedProto && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "http") &&
			r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && r.URL.Path != "/metrics" {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) routes(mux *http.ServeMux) error {
	s.cfg.Health.Register(mux)
	static, _ := fs.Sub(web.Static, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.Handle("GET /{$}", s.handle(s.serveLanding))
	mux.Handle("GET "+auth.SignedOutPath+"{$}", s.handle(s.serveSignedOut))
	if s.cfg.MetricsHandler != nil {
		mux.Handle("GET /metrics", s.cfg.MetricsHandler)
	}
	if a := s.cfg.Auth; a != nil {
		for _, rt := range a.Routes() {
			p := rt.Pattern
			if strings.HasSuffix(p, "/") {
				p += "{$}"
			}
			mux.Handle(p, s.handle(rt.Handle))
		}
		mux.Handle("GET /accounts/me/{$}", s.handle(s.requireUser(s.serveMe)))
		if s.cfg.Publications != nil {
			mux.Handle("GET "+publishPath+"{$}", s.handle(s.requireUser(s.servePublishPage)))
			mux.Handle("POST "+publishPath+"{$}", s.handle(s.requireUser(s.servePublishSubmit)))
		}
		if s.cfg.Grants != nil {
			mux.Handle("GET "+invitationPath+"{$}", s.handle(s.requireUser(s.serveInvitation)))
			mux.Handle("POST "+invitationPath+"{$}", s.handle(s.requireUser(s.serveAcceptInvitation)))
		}
		h, err := api.New(api.Config{Auth: a, Advisories: s.cfg.Advisories, Projects: s.cfg.Projects,
			Comments: s.cfg.Comments, Grants: s.cfg.Grants, Maintenance: s.cfg.Maintenance, Limiter: s.cfg.Limiter,
			Logger: s.cfg.Logger, NotFound: http.HandlerFunc(s.serveNotFound), Publications: s.cfg.Publications})
		if err != nil {
			return err
		}
		mux.Handle("/api/", h)
		rep, err := report.New(report.Config{Intake: s.cfg.Intake, Limiter: s.cfg.Limiter,
			AnonRule: ratelimit.Rule(s.cfg.RateLimit.IntakeAnon), UserRule: ratelimit.Rule(s.cfg.RateLimit.IntakeUser),
			Caller: a.Caller, Disabled: s.cfg.IntakeDisabled, Logger: s.cfg.Logger,
			NotFound: http.HandlerFunc(s.serveNotFound)})
		if err != nil {
			return err
		}
		mux.Handle(report.FormPath, rep)
	}
	mux.HandleFunc("/", s.serveNotFound)
	return nil
}

// handle adapts a handler that returns an error to the one error page.
func (s *server) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// requireUser sends anonymous browsers to sign in, returning here after.
func (s *server) requireUser(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if auth.UserFrom(r.Context()) == nil {
			http.Redirect(w, r, auth.LoginURL(r.URL.RequestURI()), http.StatusFound)
			return nil
		}
		return h(w, r)
	}
}

func (s *server) serveLanding(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "landing", nil)
	return nil
}

func (s *server) serveMe(w http.ResponseWriter, r *http.Request) error {
	u := auth.UserFrom(r.Context())
	s.render(w, r, http.StatusOK, "me", map[string]any{
		"StepUpFresh": s.cfg.Auth.StepUpFresh(u), "StepUpURL": auth.StepUpURL(r.URL.RequestURI()),
	})
	return nil
}

func (s *server) serveSignedOut(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "signed_out", nil)
	return nil
}

func (s *server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound, "Not found", "There is no page at this address.")
}

func (s *server) servePanic(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The error has been logged. Please try again later.")
}

func (s *server) serveMaintenancePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusServiceUnavailable, "maintenance", nil)
}

func (s *server) serveCSRFFailure(w http.ResponseWriter, r *http.Request, reason string) {
	obs.Logger(r.Context()).WarnContext(r.Context(), "csrf check failed", "reason", reason)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"csrf_failed","message":"CSRF verification failed."}`))
		return
	}
	s.renderError(w, r, http.StatusForbidden, "Forbidden", "CSRF verification failed. Reload the page and try again.")
}

// serveError is the one mapping of handler errors to pages; only 5xx are
// logged at Error.
func (s *server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		if ae.Status >= 500 {
			obs.Logger(r.Context()).ErrorContext(r.Context(), "sign-in failed", "error", err.Error())
		} else {
			obs.Logger(r.Context()).WarnContext(r.Context(), "sign-in failed", "error", err.Error())
		}
		s.renderError(w, r, ae.Status, ae.Title, ae.Message)
		return
	}
	obs.Logger(r.Context()).ErrorContext(r.Context(), "request failed", "error", err.Error())
	s.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The error has been logged. Please try again later.")
}

func (s *server) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, "error", map[string]string{
		"Title": title, "Message": msg, "RequestID": middleware.RequestIDFrom(r.Context()),
	})
}

// pageData is what every page template sees: the signed-in user (nil when
// anonymous), the CSRF token for forms, the CSP nonce for scripts, and the
// page's own data.
type pageData struct {
	User  *auth.User
	CSRF  string
	Nonce string
	Data  any
}

// render executes a page into a buffer first, so a template error never
// leaves a half-written page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	d := pageData{User: auth.UserFrom(r.Context()), CSRF: middleware.CSRFToken(r.Context()),
		Nonce: middleware.CSPNonce(r.Context()), Data: data}
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", d); err != nil {
		obs.Logger(r.Context()).ErrorContext(r.Context(), "template failed", "page", page, "error", err.Error())
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if d.User != nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
