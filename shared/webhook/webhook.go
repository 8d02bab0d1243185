// Package webhook is the webhook function's HTTP surface: GitHub App
// deliveries, and the health probes.
package webhook

import (
	"log/slog"
	"net/http"

	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
)

// Config wires the webhook receiver.
type Config struct {
	Logger *slog.Logger
	Health *health.Handler
}

// New returns the webhook function's handler.
func New(cfg Config) http.Handler {
	mux := http.NewServeMux()
	cfg.Health.Register(mux)
	return middleware.Chain(mux,
		middleware.RequestID(cfg.Logger),
		middleware.Log(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "internal error", http.StatusInternalServerError)
		})),
	)
}
