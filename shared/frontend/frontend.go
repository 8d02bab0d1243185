// Package frontend is the web function's HTTP surface: the HTML pages, and
// (as their features land) /api/ and /report/, plus the health probes.
package frontend

import (
	"bytes"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/web"
)

// Config wires the frontend.
type Config struct {
	Logger *slog.Logger
	Health *health.Handler
}

type server struct {
	cfg   Config
	pages map[string]*template.Template
}

// New returns the web function's handler with its middleware.
func New(cfg Config) http.Handler {
	s := &server{cfg: cfg, pages: map[string]*template.Template{}}
	for _, page := range []string{"landing", "error"} {
		// One parsed set per page (layout + page), parsed once per cold start.
		s.pages[page] = template.Must(template.ParseFS(web.Templates, "templates/layout.html", "templates/"+page+".html"))
	}
	mux := http.NewServeMux()
	s.routes(mux)
	return middleware.Chain(mux,
		middleware.RequestID(cfg.Logger),
		middleware.Log(http.HandlerFunc(s.servePanic)),
	)
}

func (s *server) routes(mux *http.ServeMux) {
	s.cfg.Health.Register(mux)
	static, _ := fs.Sub(web.Static, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.serveLanding)
	mux.HandleFunc("/", s.serveNotFound)
}

func (s *server) serveLanding(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "landing", nil)
}

func (s *server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound, "Not found", "There is no page at this address.")
}

func (s *server) servePanic(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The error has been logged. Please try again later.")
}

func (s *server) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, "error", map[string]string{
		"Title": title, "Message": msg, "RequestID": middleware.RequestIDFrom(r.Context()),
	})
}

// render executes a page into a buffer first, so a template error never
// leaves a half-written page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		obs.Logger(r.Context()).ErrorContext(r.Context(), "template failed", "page", page, "error", err.Error())
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
