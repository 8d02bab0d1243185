package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkStartToFirstHealthz measures the web binary in plain-HTTP mode
// (outside Lambda): from process start to the first 200 on /healthz. The
// pool connects lazily, so no database connect is included (DATABASE_URL
// points at a port nothing listens on). It also reports the size of the
// Lambda build (linux/arm64, stripped, as `make build` makes it).
// Targets (issue 2): < 100 ms, < 30 MB.
func BenchmarkStartToFirstHealthz(b *testing.B) {
	dir := b.TempDir()
	host := filepath.Join(dir, "web")
	lambda := filepath.Join(dir, "bootstrap")
	build := func(out string, env ...string) {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
		cmd.Env = append(os.Environ(), env...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, msg)
		}
	}
	build(host)
	build(lambda, "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	fi, err := os.Stat(lambda)
	if err != nil {
		b.Fatal(err)
	}

	client := &http.Client{Timeout: time.Second}
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		port := freePort(b)
		cmd := exec.Command(host)
		cmd.Env = []string{
			"PORT=" + strconv.Itoa(port),
			"DATABASE_URL=postgres://advisoryhub@127.0.0.1:1/advisoryhub?sslmode=disable",
			"LOG_LEVEL=error", "ADVISORYHUB_ENV=development",
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		tick := time.NewTicker(200 * time.Microsecond)
		deadline := time.After(10 * time.Second)
		for ready := false; !ready; {
			select {
			case <-deadline:
				_ = cmd.Process.Kill()
				b.Fatal("no 200 on /healthz within 10s")
			case <-tick.C:
				resp, err := client.Get(url)
				if err == nil {
					ready = resp.StatusCode == http.StatusOK
					resp.Body.Close()
				}
			}
		}
		total += time.Since(start)
		tick.Stop()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-healthz")
	b.ReportMetric(float64(fi.Size())/1e6, "MB-lambda-arm64")
	b.ReportMetric(float64(runtime.NumCPU()), "cpus")
}

func freePort(b *testing.B) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
