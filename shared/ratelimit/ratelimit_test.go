package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestParseRule(t *testing.T) {
	good := map[string]ratelimit.Rule{
		"5/h":    {Limit: 5, Period: time.Hour},
		"20/h":   {Limit: 20, Period: time.Hour},
		"30/m":   {Limit: 30, Period: time.Minute},
		" 2/d ":  {Limit: 2, Period: 24 * time.Hour},
		"10/15m": {Limit: 10, Period: 15 * time.Minute},
		"1/s":    {Limit: 1, Period: time.Second},
	}
	for in, want := range good {
		got, err := ratelimit.ParseRule(in)
		if err != nil || got != want {
			t.Errorf("ParseRule(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "5", "x/h", "0/h", "-1/h", "5/", "5/w", "5/0m", "5/h/x"} {
		if _, err := ratelimit.ParseRule(bad); err == nil {
			t.Errorf("ParseRule(%q) accepted", bad)
		}
	}
	if s := ratelimit.MustParse("5/h").String(); s != "5/h" {
		t.Errorf("String = %q", s)
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func newLimiter(t *testing.T, db *postgres.DB, c *clock, enabled bool) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(ratelimit.Config{DB: db, Enabled: enabled, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCheckFixedWindow(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 5, 7, 12, 10, 0, 0, time.UTC)}
	l := newLimiter(t, db, c, true)
	rule := ratelimit.MustParse("3/h")
	for i := 1; i <= 3; i++ {
		d, err := l.Check(ctx, "intake", rule, "ip:192.0.2.1")
		if err != nil || !d.Allowed || d.Hits != i {
			t.Fatalf("hit %d: %+v %v", i, d, err)
		}
	}
	d, err := l.Check(ctx, "intake", rule, "ip:192.0.2.1")
	if err != nil || d.Allowed || d.RetryAfter != 50*time.Minute || d.RetryAfterSeconds() != "3000" {
		t.Fatalf("4th hit: %+v %v", d, err)
	}
	// Other subjects and routes have their own counters.
	if d, _ := l.Check(ctx, "intake", rule, "u:7"); !d.Allowed || d.Hits != 1 {
		t.Errorf("other subject: %+v", d)
	}
	if d, _ := l.Check(ctx, "comments", rule, "ip:192.0.2.1"); !d.Allowed || d.Hits != 1 {
		t.Errorf("other route: %+v", d)
	}
	// The next window starts afresh.
	c.set(time.Date(2026, 5, 7, 13, 0, 0, 0, time.UTC))
	if d, _ := l.Check(ctx, "intake", rule, "ip:192.0.2.1"); !d.Allowed || d.Hits != 1 {
		t.Errorf("next window: %+v", d)
	}
	// A straggler from the earlier window (clock skew between instances)
	// counts in the current one rather than resetting it.
	c.set(time.Date(2026, 5, 7, 12, 59, 59, 0, time.UTC))
	if d, _ := l.Check(ctx, "intake", rule, "ip:192.0.2.1"); d.Hits != 2 {
		t.Errorf("straggler: %+v", d)
	}
	c.set(time.Date(2026, 5, 7, 15, 0, 0, 0, time.UTC))
	n, err := l.Prune(ctx)
	if err != nil || n != 3 {
		t.Errorf("Prune = %d, %v; want the 3 counters", n, err)
	}
}

func TestCheckConcurrentHitsAreNotLost(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	c := &clock{t: time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(t, db, c, true)
	rule := ratelimit.MustParse("5/h")
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Check(context.Background(), "intake", rule, "ip:198.51.100.7")
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 5 {
		t.Errorf("%d of 20 concurrent hits allowed, want exactly 5", allowed.Load())
	}
}

// INV-RATELIMIT-1: over the limit, the handler never runs; the answer is
// 429 with Retry-After.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	c := &clock{t: time.Date(2026, 5, 7, 12, 0, 30, 0, time.UTC)}
	l := newLimiter(t, db, c, true)
	var ran atomic.Int32
	h := l.Middleware("report", func(r *http.Request) (ratelimit.Rule, string, bool) {
		return ratelimit.MustParse("2/m"), ratelimit.IPSubject("203.0.113.9"), true
	}, ratelimit.Plain)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	for i := range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/report/", nil))
		if i < 2 && rec.Code != http.StatusCreated {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
		if i == 2 {
			if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "30" ||
				rec.Body.String() != ratelimit.PlainMessage {
				t.Fatalf("3rd request: %d %q %q", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
			}
		}
	}
	if ran.Load() != 2 {
		t.Errorf("handler ran %d times, want 2", ran.Load())
	}
	rec := httptest.NewRecorder()
	ratelimit.JSON(rec, nil, ratelimit.Decision{RetryAfter: 1500 * time.Millisecond})
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" || rec.Body.String() != `{"error":"rate_limited","message":"Rate limit exceeded. Try again later."}` {
		t.Errorf("JSON: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
}

func TestDisabledTouchesNothing(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	c := &clock{t: time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(t, db, c, false)
	for range 10 {
		if d, err := l.Check(context.Background(), "intake", ratelimit.MustParse("1/h"), "ip:192.0.2.1"); err != nil || !d.Allowed {
			t.Fatalf("disabled: %+v %v", d, err)
		}
	}
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM rate_limit_counters`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d counters written while disabled (%v)", n, err)
	}
}
