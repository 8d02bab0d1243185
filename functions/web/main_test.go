package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eclipse-csi/advisoryhub/shared/frontend"
	"github.com/eclipse-csi/advisoryhub/shared/health"
)

// A function URL event (payload format 2.0) reaches the handler through the
// same adapter main uses, and the response carries the handler's status,
// headers and body.
func TestFunctionURLEvent(t *testing.T) {
	raw, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	cases := []struct {
		name, path string
		dbErr      error
		want       int
		body       string
	}{
		{"healthz", "/healthz", nil, 200, `{"status":"ok"}`},
		{"readyz ok", "/readyz", nil, 200, `{"status":"ok"}`},
		{"readyz db down", "/readyz", errors.New("dial: connection refused"), 503, `{"failures":{"db":"Error"},"status":"fail"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := frontend.New(frontend.Config{Logger: logger, Health: health.New(logger,
				health.Check{Name: "db", Run: func(context.Context) error { return tc.dbErr }})})
			e := ev
			e.RawPath, e.RequestContext.HTTP.Path = tc.path, tc.path
			resp, err := httpadapter.NewV2(h).ProxyWithContext(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, tc.want, resp.Body)
			}
			var got any
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			if g, _ := json.Marshal(got); string(g) != mustCompact(tc.body) {
				t.Fatalf("body %s, want %s", g, tc.body)
			}
			if resp.Headers["X-Request-Id"] != "probe-1" {
				t.Fatalf("request id not echoed: %v", resp.Headers)
			}
		})
	}
}

func mustCompact(s string) string {
	var v any
	_ = json.Unmarshal([]byte(s), &v)
	b, _ := json.Marshal(v)
	return string(b)
}
