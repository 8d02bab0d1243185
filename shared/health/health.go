// Package health serves the liveness and readiness probes.
//
// GET /healthz answers 200 {"status":"ok"} unconditionally. GET /readyz runs
// every check with a deadline: all pass → 200 {"status":"ok"}; otherwise 503
// {"status":"fail","failures":{"<check>":"<error class>"}}. The detail of a
// failure is logged server-side only; the client learns which check failed
// and its class, never a connection string or host name.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Check is one readiness dependency.
type Check struct {
	Name    string
	Timeout time.Duration
	Run     func(ctx context.Context) error
}

// Handler serves /healthz and /readyz.
type Handler struct {
	checks []Check
	logger *slog.Logger
}

// New builds the probe handler.
func New(logger *slog.Logger, checks ...Check) *Handler {
	return &Handler{checks: checks, logger: logger}
}

// Register mounts the probes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", h.serveHealthz)
	mux.HandleFunc("GET /readyz", h.serveReadyz)
}

func (h *Handler) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

func (h *Handler) serveReadyz(w http.ResponseWriter, r *http.Request) {
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(h.checks))
	for _, c := range h.checks {
		go func() {
			timeout := c.Timeout
			if timeout <= 0 {
				timeout = 2 * time.Second
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			results <- result{c.Name, c.Run(ctx)}
		}()
	}
	failures := map[string]string{}
	for range h.checks {
		res := <-results
		if res.err != nil {
			failures[res.name] = Classify(res.err)
			h.logger.WarnContext(r.Context(), "readiness check failed", "check", res.name, "error", res.err.Error())
		}
	}
	if len(failures) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "fail", "failures": failures})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// Classify names the class of a check failure without revealing detail.
func Classify(err error) string {
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	case errors.As(err, &opErr):
		return "ConnectionError"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "Timeout"
	case errors.As(err, &netErr):
		return "ConnectionError"
	}
	return "Error"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
