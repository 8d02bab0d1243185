package middleware

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	cases := []struct {
		xff     string
		trusted int
		want    string
	}{
		{"", 0, "192.0.2.1"},
		{"198.51.100.7", 0, "192.0.2.1"}, // not trusted: the header is ignored
		{"198.51.100.7", 1, "198.51.100.7"},
		{"203.0.113.9, 198.51.100.7", 1, "198.51.100.7"}, // the client can forge the left part
		{"203.0.113.9, 198.51.100.7", 2, "203.0.113.9"},
		{"198.51.100.7", 2, "192.0.2.1"}, // shorter than the trusted chain
		{"garbage", 1, "192.0.2.1"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.1:4711"
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientIP(r, tc.trusted); got != tc.want {
			t.Errorf("ClientIP(%q, %d) = %q, want %q", tc.xff, tc.trusted, got, tc.want)
		}
	}
}

func TestAllowedHosts(t *testing.T) {
	h := AllowedHosts([]string{"advisories.example.org", ".example.net"})(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	for host, want := range map[string]int{
		"advisories.example.org": 200, "advisories.example.org:443": 200, "example.net": 200,
		"a.example.net": 200, "evil.example.org": 400, "example.net.evil": 400,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("host %q: %d, want %d", host, rec.Code, want)
		}
	}
}

// Route sees the innermost mux's pattern from outside.
func TestRouted(t *testing.T) {
	inner := http.NewServeMux()
	inner.HandleFunc("GET /api/x/{id}/{$}", func(http.ResponseWriter, *http.Request) {})
	outer := http.NewServeMux()
	outer.Handle("/api/", Routed(inner))
	var got string
	h := RequestID(discard())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Routed(outer).ServeHTTP(w, r)
		got = Route(r)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/x/7/", nil))
	if got != "GET /api/x/{id}/{$}" {
		t.Fatalf("route %q", got)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
