package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// In the shim the job runner records into the registry the web serves at
// /metrics: a GitHub delivery queues ghsa.process_webhook, the in-memory
// queue runs it, and its task series appear beside the request series
// under the original's Celery task name (operations.md §9, §10).
func TestShimJobMetrics(t *testing.T) {
	const secret = "shim-webhook-secret"
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-data", dataDir(t)},
			env(map[string]string{"LOG_LEVEL": "warn", "GITHUB_APP_WEBHOOK_SECRET": secret}), pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-time.After(2 * time.Minute):
		t.Fatal("shim did not start within 2 minutes")
	}

	body := `{"action": "created", "installation": {"id": 42, "account": {"login": "eclipse", "type": "Organization"}}}`
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	req, err := http.NewRequest("POST", base+"ghsa/webhook/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "installation")
	req.Header.Set("X-GitHub-Delivery", "d-metrics-1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %d", resp.StatusCode)
	}

	const want = `advisoryhub_celery_task_total{status="success",task="ghsa.tasks.process_webhook"} 1`
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(b)
		if strings.Contains(text, want+"\n") {
			if !strings.Contains(text, `advisoryhub_celery_task_duration_seconds_count{task="ghsa.tasks.process_webhook"} 1`) ||
				!strings.Contains(text, "advisoryhub_http_requests_total{") {
				t.Fatalf("/metrics lacks the duration or request series:\n%s", text)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s on /metrics:\n%s", want, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
