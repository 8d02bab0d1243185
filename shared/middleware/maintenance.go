package middleware

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// MaintenanceMessage is the JSON API's 503 detail (operations.md §3).
const MaintenanceMessage = "AdvisoryHub is in maintenance mode. Actions are temporarily paused."

// MaintenanceExempt are the path prefixes maintenance mode never pauses
// (INV-MAINT-1): sign-in plumbing (so an admin can still sign in and switch
// it off), probes, metrics, static files and the HMAC-checked webhook.
var MaintenanceExempt = []string{"/oidc/", "/healthz", "/readyz", "/metrics", "/static/", "/ghsa/webhook/"}

// MaintenanceConfig configures Maintenance.
type MaintenanceConfig struct {
	// Enabled reads the switch from the database, uncached, on every
	// unsafe request (INV-MAINT-1).
	Enabled func(ctx context.Context) (bool, error)
	// Admin reports whether the caller is an effective global admin
	// (exempt).
	Admin func(r *http.Request) bool
	// Page answers a paused HTML request; it must write status 503.
	Page http.Handler
	// Error answers when the switch cannot be read.
	Error func(w http.ResponseWriter, r *http.Request, err error)
}

// Maintenance refuses, while the switch is on, every unsafe request from
// anyone but a global admin, before any handler runs: 503 with
// Retry-After: 3600, JSON on /api/, the maintenance page (plus HX-Refresh
// for HTMX) elsewhere.
func Maintenance(cfg MaintenanceConfig) (func(http.Handler) http.Handler, error) {
	if cfg.Enabled == nil || cfg.Admin == nil || cfg.Page == nil || cfg.Error == nil {
		return nil, errors.New("middleware: Maintenance needs Enabled, Admin, Page and Error")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if Safe(r.Method) || maintenanceExempt(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			on, err := cfg.Enabled(r.Context())
			if err != nil {
				cfg.Error(w, r, err)
				return
			}
			if !on || cfg.Admin(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Retry-After", "3600")
			if strings.HasPrefix(r.URL.Path, "/api/") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(map[string]string{"detail": MaintenanceMessage})
				return
			}
			if r.Header.Get("HX-Request") != "" {
				w.Header().Set("HX-Refresh", "true")
			}
			cfg.Page.ServeHTTP(w, r)
		})
	}, nil
}

func maintenanceExempt(path string) bool {
	for _, p := range MaintenanceExempt {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
