package gitrepo

// Real remotes for the tests and the benchmark: bare repositories made by
// the system git, served over file://, over smart HTTP (git http-backend
// behind net/http/cgi, TLS, basic auth) and over SSH (gliderlabs/ssh
// running git upload-pack / receive-pack).

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// gitEnv isolates the system git from the machine's configuration.
func gitEnv(home string) []string {
	return append(os.Environ(),
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Someone Else", "GIT_AUTHOR_EMAIL=else@example.org",
		"GIT_COMMITTER_NAME=Someone Else", "GIT_COMMITTER_EMAIL=else@example.org",
	)
}

// git runs the system git in dir and returns its trimmed stdout.
func git(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	out, err := gitRun(dir, nil, args...)
	if err != nil {
		tb.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func gitRun(dir string, stdin io.Reader, args ...string) (string, error) {
	return gitRunEnv(dir, stdin, nil, args...)
}

func gitRunEnv(dir string, stdin io.Reader, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(os.TempDir()), env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", errors.New(err.Error() + ": " + stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// newBare creates an empty bare repository whose HEAD is main.
func newBare(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "repo.git")
	git(tb, "", "init", "--quiet", "--bare", "--initial-branch=main", dir)
	return dir
}

// cliCommit commits files onto the bare repository's main branch with
// the git CLI (another publisher), creating the branch if needed.
func cliCommit(tb testing.TB, bare string, files map[string]string) string {
	tb.Helper()
	work := tb.TempDir()
	git(tb, work, "init", "--quiet", "--initial-branch=main")
	if git(tb, bare, "for-each-ref", "refs/heads/main") != "" {
		git(tb, work, "fetch", "--quiet", "--depth=1", bare, "main")
		git(tb, work, "reset", "--quiet", "--hard", "FETCH_HEAD")
	}
	for p, c := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	git(tb, work, "add", "--all")
	git(tb, work, "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", "other publisher")
	git(tb, work, "push", "--quiet", bare, "HEAD:refs/heads/main")
	return git(tb, work, "rev-parse", "HEAD")
}

// httpRemote serves the bare repository's parent directory over smart
// HTTP with TLS, accepting only basic auth x-access-token:<token>.
type httpRemote struct {
	srv  *httptest.Server
	url  string // https://127.0.0.1:port/repo.git
	mu   sync.Mutex
	auth []string // user names seen, for the test
}

func newHTTPRemote(tb testing.TB, bare, token string) *httpRemote {
	tb.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		tb.Fatal("the system git is required: ", err)
	}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(bare),
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=publisher", // enables receive-pack
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
			"HOME=" + filepath.Dir(bare),
		},
		InheritEnv: []string{"PATH"},
		Stderr:     io.Discard,
	}
	r := &httpRemote{}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, pass, ok := req.BasicAuth()
		r.mu.Lock()
		r.auth = append(r.auth, user)
		r.mu.Unlock()
		if !ok || user != TokenUser || subtle.ConstantTimeCompare([]byte(pass), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, req)
	}))
	tb.Cleanup(r.srv.Close)
	r.url = r.srv.URL + "/" + filepath.Base(bare)
	return r
}

// sshRemote serves one bare repository over SSH to one client key.
type sshRemote struct {
	url     string // ssh://git@127.0.0.1:port/repo.git
	addr    string
	hostKey ssh.Signer
}

func newSSHKey(tb testing.TB) (pemKey []byte, signer ssh.Signer) {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err = ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(block), signer
}

func newSSHRemote(tb testing.TB, bare string, client ssh.PublicKey, hostKey ssh.Signer) *sshRemote {
	tb.Helper()
	srv := &gliderssh.Server{
		PublicKeyHandler: func(_ gliderssh.Context, key gliderssh.PublicKey) bool {
			return gliderssh.KeysEqual(key, client)
		},
		Handler: func(s gliderssh.Session) {
			args := s.Command()
			if len(args) != 2 || (args[0] != "git-upload-pack" && args[0] != "git-receive-pack") ||
				strings.Trim(args[1], "'/") != filepath.Base(bare) {
				_, _ = io.WriteString(s.Stderr(), "unknown command\n")
				_ = s.Exit(128)
				return
			}
			cmd := exec.Command("git", strings.TrimPrefix(args[0], "git-"), bare)
			cmd.Env = gitEnv(filepath.Dir(bare))
			cmd.Stdout, cmd.Stderr = s, s.Stderr()
			stdin, err := cmd.StdinPipe()
			if err != nil {
				_ = s.Exit(1)
				return
			}
			if err := cmd.Start(); err != nil {
				_ = s.Exit(1)
				return
			}
			go func() { _, _ = io.Copy(stdin, s); _ = stdin.Close() }()
			code := 0
			if err := cmd.Wait(); err != nil {
				code = 1
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				}
			}
			_ = s.Exit(code)
		},
	}
	srv.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()
	return &sshRemote{url: "ssh://git@" + addr + "/" + filepath.Base(bare), addr: addr, hostKey: hostKey}
}

// closedAddr returns a local address nobody listens on.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
