// Package api is the JSON API at /api/ (operations.md §3; the contract is
// openapi.yaml at the repository root). It authenticates with the browser
// session cookie; anonymous callers get 401 not_authenticated, never a
// redirect. Unsafe methods are CSRF-checked by the middleware in front of
// it. Errors share the envelope {"error": code, "message": text, …};
// unknown resources answer the HTML 404 page, as the contract says, and an
// unlisted method an empty 405 with Allow.
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// Config wires the API.
type Config struct {
	Auth        *auth.Auth
	Advisories  *app.Advisories
	Projects    *app.Projects
	Comments    *app.Comments
	Grants      *app.Grants
	Maintenance *app.Maintenance
	// Publications serves the publication endpoints; nil answers them
	// 503 publication_unavailable.
	Publications *app.Publications
	// Limiter counts the rate-limited endpoints' hits (permissions §12).
	Limiter *ratelimit.Limiter
	Logger  *slog.Logger
	// NotFound answers unknown resources (the HTML 404 page).
	NotFound http.Handler
}

type server struct {
	cfg    Config
	access *Access
}

// New returns the /api/ handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Auth == nil || cfg.Advisories == nil || cfg.Projects == nil || cfg.Comments == nil || cfg.Grants == nil ||
		cfg.Maintenance == nil || cfg.Limiter == nil || cfg.Logger == nil || cfg.NotFound == nil {
		return nil, errors.New("api: Auth, Advisories, Projects, Comments, Grants, Maintenance, Limiter, Logger and NotFound are required")
	}
	s := &server{cfg: cfg, access: &Access{Auth: cfg.Auth, Comments: cfg.Comments, Grants: cfg.Grants, Limiter: cfg.Limiter}}
	mux := http.NewServeMux()
	allow := map[string][]string{}
	var paths []string
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+exact(rt.Pattern), s.handle(rt))
		if _, seen := allow[rt.Pattern]; !seen {
			paths = append(paths, rt.Pattern)
		}
		allow[rt.Pattern] = append(allow[rt.Pattern], rt.Method)
		if rt.Method == http.MethodGet {
			allow[rt.Pattern] = append(allow[rt.Pattern], http.MethodHead)
		}
	}
	// Any other method on a known path: an empty 405 naming the allowed
	// ones. Anything else under /api/: the 404 page.
	for _, p := range paths {
		methods := allow[p]
		slices.Sort(methods)
		mux.Handle(exact(p), methodNotAllowed(strings.Join(methods, ", ")))
	}
	mux.Handle("/api/", cfg.NotFound)
	return middleware.Routed(mux), nil
}

// exact makes a pattern ending in "/" match only that path, not the subtree.
func exact(pattern string) string {
	if strings.HasSuffix(pattern, "/") {
		return pattern + "{$}"
	}
	return pattern
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		w.WriteHeader(http.StatusMethodNotAllowed)
	})
}

// Route is one API endpoint (for the route ↔ openapi test).
type Route struct {
	Method  string
	Pattern string
}

// Routes lists the API's endpoints.
func Routes() []Route {
	var out []Route
	for _, rt := range (&server{access: &Access{}}).routes() {
		out = append(out, Route{Method: rt.Method, Pattern: rt.Pattern})
	}
	return out
}

type route struct {
	Method  string
	Pattern string
	Serve   serveFunc
}

// handle wraps an endpoint: the session check (401 JSON for anonymous
// callers) and the one error mapping.
func (s *server) handle(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		u := auth.UserFrom(r.Context())
		if u == nil {
			writeError(w, http.StatusUnauthorized, "not_authenticated", "Authentication credentials were not provided.", nil)
			return
		}
		if err := rt.Serve(w, r, u); err != nil {
			s.serveError(w, r, err)
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"server_error","message":"The response could not be encoded."}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes the envelope {"error", "message", …extra}.
func writeError(w http.ResponseWriter, status int, code, msg string, extra map[string]any) {
	body := map[string]any{"error": code, "message": msg}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}
