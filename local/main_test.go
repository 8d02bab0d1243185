package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/pgembed"
)

// dataDir returns a directory the embedded server (which runs as nobody
// when the tests run as root) can enter.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ahlocal")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A server still running (a failed test) is stopped before removal.
		if c, err := pgembed.Start(context.Background(), pgembed.Options{Dir: filepath.Join(dir, "pg")}); err == nil {
			_ = c.Stop()
		}
		os.RemoveAll(dir)
	})
	return dir
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var listening = regexp.MustCompile(`running at (http://\S+/)`)

// start boots the shim like `go run ./local` and returns its base URL and a
// function that stops it and returns run's error.
func start(t *testing.T, dir string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-data", dir}, env(map[string]string{"LOG_LEVEL": "warn"}), pw, io.Discard)
		pw.Close()
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
	select {
	case u := <-urls:
		return u, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		t.Fatalf("shim exited before serving: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("shim did not start within 2 minutes")
	}
	return "", nil
}

func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, body
}

// The acceptance path of `make run`: /healthz 200; /readyz 200, then 503
// naming the db check once PostgreSQL is stopped; a clean shutdown.
func TestShimServesProbes(t *testing.T) {
	dir := dataDir(t)
	base, stop := start(t, dir)

	if code, body := get(t, base+"healthz"); code != 200 || body["status"] != "ok" {
		t.Fatalf("/healthz: %d %v", code, body)
	}
	if code, body := get(t, base+"readyz"); code != 200 || body["status"] != "ok" {
		t.Fatalf("/readyz: %d %v", code, body)
	}
	if code, _ := get(t, base); code != 200 {
		t.Fatalf("/: %d", code)
	}

	// Stop the shim's PostgreSQL underneath it.
	c, err := pgembed.Start(context.Background(), pgembed.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, base+"readyz")
	failures, _ := body["failures"].(map[string]any)
	if code != http.StatusServiceUnavailable || body["status"] != "fail" || failures["db"] == nil {
		t.Fatalf("/readyz with PostgreSQL stopped: %d %v; want 503 naming db", code, body)
	}
	if code, _ := get(t, base+"healthz"); code != 200 {
		t.Fatalf("/healthz must not depend on the database: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// Operator commands run as subcommands and exit; the cluster and its data
// persist between runs of the shim.
func TestShimRunsCommandsAndKeepsData(t *testing.T) {
	dir := dataDir(t)
	var out strings.Builder
	if err := run(context.Background(), []string{"-data", dir, "migrate"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "schema at version") {
		t.Fatalf("migrate printed %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"-data", dir, "failed-jobs"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no failed jobs") {
		t.Fatalf("failed-jobs printed %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "pg", "data", "PG_VERSION")); err != nil {
		t.Fatalf("cluster not kept under -data: %v", err)
	}
	if err := run(context.Background(), []string{"-data", dir, "no-such-command"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command: want error")
	}
}
