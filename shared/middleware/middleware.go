// Package middleware holds the HTTP middleware every function's handler is
// wrapped in: request ids, the request log and panic recovery.
package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/obs"
)

type requestIDKey struct{}

// RequestIDFrom returns the request id stored by RequestID.
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// RequestID honours an inbound X-Request-ID (when well formed) or makes a
// 32-hex one, echoes it back, and puts a logger carrying it in the context.
func RequestID(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-ID")
			if !validRequestID.MatchString(id) {
				var b [16]byte
				_, _ = rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			w.Header().Set("X-Request-ID", id)
			ctx := context.WithValue(r.Context(), requestIDKey{}, id)
			ctx = context.WithValue(ctx, routeKey{}, &routeHolder{})
			ctx = obs.WithLogger(ctx, logger.With("request_id", id))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Log writes one line per request (never the query string or body, which
// may carry tokens or personal data) and turns a panic into a 500 without
// internals, logged once.
func Log(onPanic http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			log := obs.Logger(r.Context())
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
					if !rec.wrote {
						onPanic.ServeHTTP(rec, r)
					}
				}
				level := slog.LevelInfo
				if rec.status >= 500 {
					level = slog.LevelError
				}
				log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "route", Route(r),
					"status", rec.status, "duration_ms", time.Since(start).Milliseconds())
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

type routeKey struct{}

// routeHolder receives the pattern the innermost mux matched: muxes set
// r.Pattern on their own copy of the request, which the outer middleware
// never sees.
type routeHolder struct{ pattern string }

// Routed wraps a ServeMux so that the pattern it matched is visible to the
// middleware around it (Route). With nested muxes the innermost wins.
func Routed(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok && h.pattern == "" {
				h.pattern = r.Pattern
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// Route returns the pattern that served r: the one recorded by Routed, else
// r.Pattern. Empty when nothing matched.
func Route(r *http.Request) string {
	if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok && h.pattern != "" {
		return h.pattern
	}
	return r.Pattern
}

// Chain applies middleware so that the first one listed is outermost.
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}
