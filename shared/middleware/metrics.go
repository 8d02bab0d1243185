package middleware

import (
	"net/http"
	"time"
)

// RequestObserver receives one measurement per served request
// (metrics.Prometheus and metrics.EMF implement it).
type RequestObserver interface {
	HTTPRequest(method, route string, status int, d time.Duration)
}

// Metrics reports every request's method, matched route (see Routed),
// status and latency to obs. A panicking handler is counted as the 500
// that Log answers, when Metrics runs inside Log.
func Metrics(obs RequestObserver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			defer func() {
				status := rec.status
				if p := recover(); p != nil {
					obs.HTTPRequest(r.Method, Route(r), http.StatusInternalServerError, time.Since(start))
					panic(p)
				}
				if status == 0 {
					status = http.StatusOK
				}
				obs.HTTPRequest(r.Method, Route(r), status, time.Since(start))
			}()
			next.ServeHTTP(rec, r)
		})
	}
}
