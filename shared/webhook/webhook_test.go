package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const secret = "whsec-test-0123456789"

// A realistic repository_advisory delivery (trimmed), with a field that
// must never be stored.
const body = `{
  "action": "reported",
  "repository_advisory": {"ghsa_id": "GHSA-abcd-1234-wxyz", "summary": "do-not-store-this-summary", "state": "triage"},
  "repository": {"id": 42, "name": "lantern", "full_name": "eclipse-lantern/lantern", "owner": {"login": "eclipse-lantern", "type": "Organization"}},
  "installation": {"id": 987654, "account": {"login": "eclipse-lantern", "type": "Organization"}},
  "sender": {"login": "octocat"}
}`

type env struct {
	db *postgres.DB
	h  http.Handler
	wh *app.Webhooks
}

func setup(t *testing.T, secret string) env {
	t.Helper()
	db := pgtest.New(t)
	wh, err := app.NewWebhooks(db)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	return env{db: db, wh: wh, h: webhook.New(webhook.Config{Logger: logger, Health: health.New(logger), Webhooks: wh, Secret: secret})}
}

func deliver(t *testing.T, h http.Handler, body, sig, event, delivery string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/ghsa/webhook/", strings.NewReader(body))
	req.RemoteAddr = "140.82.115.1:44321"
	req.Header.Set("User-Agent", "GitHub-Hookshot/abc123")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	if event != "" {
		req.Header.Set("X-GitHub-Event", event)
	}
	if delivery != "" {
		req.Header.Set("X-GitHub-Delivery", delivery)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, strings.TrimSpace(string(b))
}

func count(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(postgres.AsSystem(context.Background()), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRejections(t *testing.T) {
	e := setup(t, secret)
	sig := webhook.Sign(secret, []byte(body))
	cases := []struct {
		name, body, sig, event, delivery string
		code                             int
		resp, reason                     string
	}{
		{"no signature", body, "", "repository_advisory", "d-1", 401, "", "bad_signature"},
		{"wrong secret", body, webhook.Sign("other", []byte(body)), "repository_advisory", "d-2", 401, "", "bad_signature"},
		{"tampered body", body + " ", sig, "repository_advisory", "d-3", 401, "", "bad_signature"},
		{"not hex", body, "sha256=zz", "repository_advisory", "d-4", 401, "", "bad_signature"},
		{"missing event", body, sig, "", "d-5", 400, `{"error":"missing event or delivery headers"}`, ""},
		{"missing delivery", body, sig, "repository_advisory", "", 400, `{"error":"missing event or delivery headers"}`, ""},
		{"malformed json", "{not json", webhook.Sign(secret, []byte("{not json")), "ping", "d-7", 400, `{"error":"malformed JSON"}`, "malformed_json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, resp := deliver(t, e.h, tc.body, tc.sig, tc.event, tc.delivery)
			if code != tc.code || resp != tc.resp {
				t.Fatalf("got %d %q, want %d %q", code, resp, tc.code, tc.resp)
			}
			if tc.reason != "" {
				n := count(t, e.db, `SELECT count(*) FROM access_log WHERE action = 'ghsa.webhook_rejected'
					AND metadata->>'reason' = $1 AND metadata->>'delivery_id' = $2 AND ip_address = '140.82.115.1'`, tc.reason, tc.delivery)
				if n != 1 {
					t.Fatalf("rejection audited %d times, want 1", n)
				}
			}
		})
	}
	if n := count(t, e.db, `SELECT count(*) FROM webhook_deliveries`); n != 0 {
		t.Fatalf("%d deliveries recorded from rejected requests", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("%d jobs queued from rejected requests", n)
	}
}

// An empty secret (unconfigured App) rejects even a delivery signed with it.
func TestEmptySecretRejectsEverything(t *testing.T) {
	e := setup(t, "")
	if code, _ := deliver(t, e.h, body, webhook.Sign("", []byte(body)), "ping", "d-x"); code != 401 {
		t.Fatalf("got %d, want 401", code)
	}
}

// A verified delivery is recorded, audited and queued once; GitHub's
// redelivery of the same id is a no-op; the body is never stored; the
// processing job closes the delivery exactly once.
func TestAcceptedDeliveryIsRecordedOnce(t *testing.T) {
	e := setup(t, secret)
	sig := webhook.Sign(secret, []byte(body))
	code, resp := deliver(t, e.h, body, sig, "repository_advisory", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if code != 202 || resp != `{"delivery_id":"72d3162e-cc78-11e3-81ab-4c9367dc0958","status":"accepted"}` {
		t.Fatalf("got %d %s", code, resp)
	}
	code, resp = deliver(t, e.h, body, sig, "repository_advisory", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if code != 200 || resp != `{"status":"already_processed"}` {
		t.Fatalf("redelivery: %d %s", code, resp)
	}
	if n := count(t, e.db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'received' AND event = 'repository_advisory'
		AND action = 'reported' AND installation_id = 987654`); n != 1 {
		t.Fatalf("%d delivery rows, want 1", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM access_log WHERE action = 'ghsa.webhook_received'`); n != 1 {
		t.Fatalf("received audited %d times, want 1", n)
	}
	if n := count(t, e.db, `SELECT count(*) FROM outbox WHERE kind = 'ghsa.process_webhook' AND queue = 'publish'
		AND payload->'digest'->>'ghsa_id' = 'GHSA-abcd-1234-wxyz'`); n != 1 {
		t.Fatalf("%d processing jobs, want 1", n)
	}
	// The body itself is stored nowhere.
	for _, table := range []string{"outbox", "webhook_deliveries", "access_log", "audit_log"} {
		if n := count(t, e.db, `SELECT count(*) FROM `+table+` t WHERE t::text LIKE '%do-not-store-this-summary%'`); n != 0 {
			t.Fatalf("request body content stored in %s", table)
		}
	}

	// Run the queued job through the job runner, twice.
	runner, err := jobs.NewRunner(jobs.RunnerConfig{DB: e.db, Logger: slog.New(slog.DiscardHandler), Redact: func(s string) string { return s }})
	if err != nil {
		t.Fatal(err)
	}
	runner.HandleTx(app.KindProcessWebhook, e.wh.Process)
	var m queue.Message
	var id int64
	if err := e.db.QueryRow(context.Background(), `SELECT id, payload FROM outbox`).Scan(&id, &m.Payload); err != nil {
		t.Fatal(err)
	}
	m.ID, m.Queue, m.Kind, m.Attempt = "outbox-"+jsonNum(id), queue.Publish, app.KindProcessWebhook, 1
	for i := 0; i < 2; i++ {
		if err := runner.Run(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, e.db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'skipped' AND processed_at IS NOT NULL`); n != 1 {
		t.Fatal("delivery not closed by its job")
	}
	if failed, _ := e.db.ListFailedJobs(context.Background(), 10); len(failed) != 0 {
		t.Fatalf("failed jobs: %+v", failed)
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }
