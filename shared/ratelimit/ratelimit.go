// Package ratelimit throttles endpoints with fixed-window counters kept in
// PostgreSQL, keyed by (route, "u:<user id>" or "ip:<client address>")
// (operations.md §5, permissions §12).
//
// INV-RATELIMIT-1: the counter is checked and incremented — and 429 sent
// when over — before the handler runs, so a throttled request has no side
// effect at all. Middleware wraps a handler that way; Check is the same
// step for callers that must decide the key themselves.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Rule is a limit: at most Limit hits per Period.
type Rule struct {
	Limit  int
	Period time.Duration
}

// String renders r as ParseRule reads it, e.g. "5/h".
func (r Rule) String() string { return config.Rate(r).String() }

// ParseRule reads "N/unit" or "N/Kunit" (unit s, m, h or d), the format
// of RATELIMIT_INTAKE_ANON ("5/h") and RATELIMIT_INTAKE_USER ("20/h").
func ParseRule(s string) (Rule, error) {
	r, err := config.ParseRate(s)
	return Rule(r), err
}

// MustParse is ParseRule for constants.
func MustParse(s string) Rule {
	r, err := ParseRule(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Window returns the fixed window holding now: aligned to multiples of the
// period since the Unix epoch, so every instance agrees.
func (r Rule) Window(now time.Time) (start, end time.Time) {
	start = now.Truncate(r.Period)
	return start, start.Add(r.Period)
}

// Subjects of a counter.
func UserSubject(id int64) string { return "u:" + strconv.FormatInt(id, 10) }

// IPSubject is the subject of an anonymous caller.
func IPSubject(ip string) string { return "ip:" + ip }

// Decision is the outcome of one check.
type Decision struct {
	Allowed    bool
	Limit      int
	Hits       int
	RetryAfter time.Duration // until the window ends; set when refused
}

// RetryAfterSeconds is the Retry-After header value: whole seconds,
// rounded up, at least 1.
func (d Decision) RetryAfterSeconds() string {
	s := int(math.Ceil(d.RetryAfter.Seconds()))
	return strconv.Itoa(max(s, 1))
}

// Limiter counts hits in PostgreSQL.
type Limiter struct {
	db      *postgres.DB
	now     func() time.Time
	enabled bool
}

// Config wires a Limiter.
type Config struct {
	DB *postgres.DB
	// Enabled is RATELIMIT_ENABLE; when false every check passes without
	// touching the database.
	Enabled bool
	Now     func() time.Time // nil: time.Now
}

// New builds a Limiter.
func New(cfg Config) (*Limiter, error) {
	if cfg.DB == nil {
		return nil, errors.New("ratelimit: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{db: cfg.DB, now: cfg.Now, enabled: cfg.Enabled}, nil
}

// Check counts one hit of subject on route and decides it against rule.
// Call it before doing anything else for the request.
func (l *Limiter) Check(ctx context.Context, route string, rule Rule, subject string) (Decision, error) {
	if !l.enabled {
		return Decision{Allowed: true, Limit: rule.Limit}, nil
	}
	if route == "" || subject == "" || subject == "ip:" || rule.Limit < 1 || rule.Period <= 0 {
		return Decision{}, fmt.Errorf("ratelimit: bad check (route %q, rule %v)", route, rule)
	}
	now := l.now()
	start, end := rule.Window(now)
	hits, err := l.db.HitRateLimit(ctx, route, subject, start, end)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Allowed: hits <= rule.Limit, Limit: rule.Limit, Hits: hits}
	if !d.Allowed {
		d.RetryAfter = end.Sub(now)
	}
	return d, nil
}

// Prune deletes counters whose window has ended (a scheduled sweep).
func (l *Limiter) Prune(ctx context.Context) (int64, error) {
	return l.db.PruneRateLimits(ctx, l.now())
}

// KeyFunc picks the rule and subject of a request: typically per user when
// signed in, per client IP otherwise. ok=false skips the limit.
type KeyFunc func(r *http.Request) (rule Rule, subject string, ok bool)

// Middleware returns a wrapper that checks route's limit before next runs.
// An exceeded limit is answered by deny (see Plain, JSON) with Retry-After
// set, and next never runs (INV-RATELIMIT-1). A failed check is a 500 and
// next does not run either (fail closed).
func (l *Limiter) Middleware(route string, key KeyFunc, deny func(http.ResponseWriter, *http.Request, Decision)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rule, subject, ok := key(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			d, err := l.Check(r.Context(), route, rule, subject)
			if err != nil {
				http.Error(w, "Internal Server Error", http.StatusInternalServerError)
				return
			}
			if !d.Allowed {
				w.Header().Set("Retry-After", d.RetryAfterSeconds())
				deny(w, r, d)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// PlainMessage is the HTML surfaces' 429 body (operations.md §5).
const PlainMessage = "Rate limit exceeded. Try again in a minute."

// Plain answers a refused request with the plain-text 429.
func Plain(w http.ResponseWriter, _ *http.Request, d Decision) {
	w.Header().Set("Retry-After", d.RetryAfterSeconds())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(PlainMessage))
}

// JSON answers a refused API request: 429 {"error": "rate_limited", …}.
func JSON(w http.ResponseWriter, _ *http.Request, d Decision) {
	w.Header().Set("Retry-After", d.RetryAfterSeconds())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"error":"rate_limited","message":"Rate limit exceeded. Try again later."}`))
}
