// Package sqstest runs a real SQS-compatible server, moto_server, for tests.
//
// By default Start launches one server per test and stops it in t.Cleanup.
// A package that calls Main from its TestMain shares one server among all
// its tests instead, started on first use and stopped when the tests end;
// tests then keep apart by using distinct queue names (see Prefix).
//
// The server runs in its own process group. On Linux it also receives
// SIGKILL if the test process dies without running its cleanups (a timeout
// panic, a kill), so no server outlives its test binary.
package sqstest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Region and the fake credentials that Client uses. moto accepts any
// credentials and maps these to its default account, 123456789012.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// startTimeout bounds how long a server may take to answer; a cold Python
// start takes a few seconds, a warm one under half a second.
const startTimeout = 30 * time.Second

// shared is the server of a package whose TestMain calls Main.
var shared struct {
	mu      sync.Mutex
	enabled bool
	srv     *server
	err     error
}

// Main runs the tests of a package with one moto_server shared by all of
// them, and exits. Call it from TestMain:
//
//	func TestMain(m *testing.M) { sqstest.Main(m) }
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	if shared.srv != nil {
		shared.srv.stop()
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// Start returns the endpoint URL (http://127.0.0.1:PORT) of a running
// moto_server. It fails the test if moto_server is not on PATH or does not
// start; it never skips.
func Start(t testing.TB) string {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.enabled {
		if shared.srv == nil && shared.err == nil {
			shared.srv, shared.err = start()
		}
		if shared.err != nil {
			t.Fatal(shared.err)
		}
		return shared.srv.endpoint
	}
	srv, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	return srv.endpoint
}

// Client returns an SQS client for endpoint with fake static credentials.
// It reads no environment or shared configuration.
func Client(t testing.TB, endpoint string) *sqs.Client {
	t.Helper()
	if endpoint == "" {
		t.Fatal("sqstest.Client: empty endpoint")
	}
	return sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
}

var unsafeNameChars = regexp.MustCompile(`[^A-Za-z0-9]+`)

// Prefix returns a queue-name prefix unique to this test run, derived from
// the test name, for use with sqsqueue.EnsureQueues on a shared server.
func Prefix(t testing.TB) string {
	name := strings.Trim(unsafeNameChars.ReplaceAllString(t.Name(), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "-" + strings.ToLower(rand.Text()[:10])
}

// server is one moto_server process.
type server struct {
	endpoint string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has been reaped
	release  func()        // frees what startProcess holds
	once     sync.Once
}

func (s *server) stop() {
	s.once.Do(func() {
		killGroup(s.cmd)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
		}
		s.release()
	})
}

func start() (*server, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found: pip install 'moto[server]'")
	}
	// The free port is found by binding and closing, so another process may
	// take it first; moto then exits and we try another port.
	var errs []error
	for range 3 {
		srv, err := startOnce(path)
		if err == nil {
			return srv, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("start moto_server: %w", errors.Join(errs...))
}

func startOnce(path string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	out := new(capBuffer)
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	release, err := startProcess(cmd)
	if err != nil {
		return nil, err
	}
	srv := &server{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:      cmd,
		exited:   make(chan struct{}),
		release:  release,
	}
	go func() {
		_ = cmd.Wait()
		close(srv.exited)
	}()

	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(startTimeout)
	for {
		select {
		case <-srv.exited:
			srv.stop()
			return nil, fmt.Errorf("moto_server exited on port %d: %s", port, out.String())
		case <-deadline:
			srv.stop()
			return nil, fmt.Errorf("moto_server did not answer on port %d within %s: %s", port, startTimeout, out.String())
		case <-tick.C:
		}
		resp, err := hc.Get(srv.endpoint + "/moto-api/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return srv, nil
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// capBuffer keeps the first 64 KiB of the server's output, for error
// messages; moto logs every request, so the rest is dropped.
type capBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
