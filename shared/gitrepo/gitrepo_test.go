package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func fileConfig(bare string) Config {
	return Config{
		URL:         "file://" + bare,
		AuthorName:  "AdvisoryHub Bot",
		AuthorEmail: "advisoryhub-bot@example.org",
		Now:         func() time.Time { return fixedNow },
	}
}

func mustNew(t *testing.T, cfg Config) *Publisher {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func advisoryFiles(id string, year int, body string) []File {
	return []File{
		{Path: fmt.Sprintf("osv/%d/%s.json", year, id), Content: []byte(`{"id":"` + id + `","osv":"` + body + "\"}\n")},
		{Path: fmt.Sprintf("csaf/%d/%s.json", year, strings.ToLower(id)), Content: []byte(`{"document":"` + body + "\"}\n")},
	}
}

// verify checks the bare repository with the git CLI: fsck passes (tree
// order, object format) and the tip holds the files.
func verify(t *testing.T, bare, commit string, files []File) {
	t.Helper()
	git(t, bare, "fsck", "--strict", "--no-progress")
	if tip := git(t, bare, "rev-parse", "refs/heads/main"); tip != commit {
		t.Fatalf("main is at %s, want %s", tip, commit)
	}
	for _, f := range files {
		if got := git(t, bare, "show", "main:"+f.Path); got != strings.TrimSpace(string(f.Content)) {
			t.Errorf("main:%s = %q, want %q", f.Path, got, f.Content)
		}
	}
}

func TestPublishFileRemote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newBare(t)
	p := mustNew(t, fileConfig(bare))

	// An empty repository: the first publish is the initial commit.
	first := advisoryFiles("ECL-aaaa-bbbb-cccc", 2025, "v1")
	res, err := p.Publish(ctx, Request{Files: first, Message: "Publish advisory ECL-aaaa-bbbb-cccc", TaskID: "17"})
	if err != nil {
		t.Fatalf("initial publish: %v", err)
	}
	if !res.Pushed || res.Parent != "" || len(res.Changed) != 2 {
		t.Fatalf("initial publish result = %+v", res)
	}
	verify(t, bare, res.Commit, first)
	if got := git(t, bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%ad|%s|%(trailers:key=AdvisoryHub-Task,valueonly)", "--date=iso-strict", "main"); got != "AdvisoryHub Bot <advisoryhub-bot@example.org>|AdvisoryHub Bot <advisoryhub-bot@example.org>|2026-03-04T05:06:07+00:00|Publish advisory ECL-aaaa-bbbb-cccc|17" {
		t.Errorf("commit = %q", got)
	}
	if n := git(t, bare, "rev-list", "--count", "main"); n != "1" {
		t.Errorf("commits = %s, want 1", n)
	}

	// Someone else adds unrelated files; a second advisory lands beside
	// them without disturbing anything.
	cliCommit(t, bare, map[string]string{"README.md": "hello\n", "osv/2025/ECL-zzzz-zzzz-zzzz.json": "{}\n", "csaf/2025/a.b": "x\n", "csaf/2025-x/y": "y\n"})
	before := git(t, bare, "ls-tree", "-r", "main")
	second := advisoryFiles("ECL-dddd-eeee-ffff", 2025, "v1")
	second = append(second, File{Path: "csaf/2025.json", Content: []byte("tricky order\n")})
	res2, err := p.Publish(ctx, Request{Files: second, Message: "Publish advisory ECL-dddd-eeee-ffff", TaskID: "18"})
	if err != nil {
		t.Fatal(err)
	}
	verify(t, bare, res2.Commit, append(second, first...))
	after := git(t, bare, "ls-tree", "-r", "main")
	for _, line := range strings.Split(before, "\n") {
		if !strings.Contains(after, line) {
			t.Errorf("entry lost: %s", line)
		}
	}
	if got, want := res2.Changed, []string{"csaf/2025.json", "csaf/2025/ecl-dddd-eeee-ffff.json", "osv/2025/ECL-dddd-eeee-ffff.json"}; !slices.Equal(got, want) {
		t.Errorf("Changed = %v, want %v", got, want)
	}

	// The same content again: no commit, the tip is returned and
	// recognised as this task's.
	res3, err := p.Publish(ctx, Request{Files: second, Message: "Publish advisory ECL-dddd-eeee-ffff", TaskID: "18"})
	if err != nil {
		t.Fatal(err)
	}
	if res3.Pushed || res3.Commit != res2.Commit || !res3.Recognized || len(res3.Changed) != 0 {
		t.Errorf("identical republish = %+v, want a no-op at %s", res3, res2.Commit)
	}

	// A changed document: a new commit on top.
	third := advisoryFiles("ECL-aaaa-bbbb-cccc", 2025, "v2")[:1]
	res4, err := p.Publish(ctx, Request{Files: third, Message: "Publish advisory ECL-aaaa-bbbb-cccc", TaskID: "19"})
	if err != nil {
		t.Fatal(err)
	}
	if !res4.Pushed || res4.Parent != res2.Commit || len(res4.Changed) != 1 {
		t.Errorf("republish = %+v", res4)
	}
	verify(t, bare, res4.Commit, third)
	if got := git(t, bare, "diff-tree", "--no-commit-id", "--name-only", "-r", res4.Commit); got != "osv/2025/ECL-aaaa-bbbb-cccc.json" {
		t.Errorf("commit touches %q", got)
	}

	// FindCommit looks back through recent history.
	for task, want := range map[string]string{"17": res.Commit, "18": res2.Commit, "19": res4.Commit} {
		sha, found, err := p.FindCommit(ctx, task, 10)
		if err != nil || !found || sha != want {
			t.Errorf("FindCommit(%s) = %s, %v, %v; want %s", task, sha, found, err, want)
		}
	}
	if _, found, err := p.FindCommit(ctx, "1", 10); err != nil || found {
		t.Errorf("FindCommit(unknown) = %v, %v", found, err)
	}
	if _, found, err := p.FindCommit(ctx, "17", 2); err != nil || found {
		t.Errorf("FindCommit beyond depth = %v, %v", found, err)
	}
}

func TestPublishHTTPSToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const token = "ghs_S3cretT0kenValue1234567890abcdefXYZ"
	bare := newBare(t)
	cliCommit(t, bare, map[string]string{"README.md": "publication repo\n"})
	remote := newHTTPRemote(t, bare, token)
	cfg := Config{
		URL: remote.url, Token: token, HTTPClient: remote.srv.Client(),
		AuthorName: "AdvisoryHub Bot", AuthorEmail: "bot@example.org",
	}
	files := advisoryFiles("ECL-hhhh-tttt-pppp", 2026, "https")
	res, err := mustNew(t, cfg).Publish(ctx, Request{Files: files, Message: "Publish advisory ECL-hhhh-tttt-pppp"})
	if err != nil {
		t.Fatalf("publish over https: %v", err)
	}
	verify(t, bare, res.Commit, files)
	remote.mu.Lock()
	for _, u := range remote.auth {
		if u != TokenUser {
			t.Errorf("the server saw basic-auth user %q", u)
		}
	}
	remote.mu.Unlock()

	t.Run("bad token", func(t *testing.T) {
		bad := cfg
		bad.Token = "ghs_WrongT0kenValue1234567890abcdefXYZ"
		_, err := mustNew(t, bad).Publish(ctx, Request{Files: files, Message: "x"})
		wantErr(t, err, ErrAuth, token, bad.Token)
	})
	t.Run("remote down", func(t *testing.T) {
		down := cfg
		down.URL = "https://" + closedAddr(t) + "/repo.git"
		_, err := mustNew(t, down).Publish(ctx, Request{Files: files, Message: "x"})
		wantErr(t, err, ErrUnreachable, token)
	})
	t.Run("no such repository", func(t *testing.T) {
		missing := cfg
		missing.URL = remote.srv.URL + "/missing.git"
		_, err := mustNew(t, missing).Publish(ctx, Request{Files: files, Message: "x"})
		wantErr(t, err, ErrNotFound, token)
	})
	t.Run("timeout", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := mustNew(t, cfg).Publish(ctx, Request{Files: files, Message: "x"})
		wantErr(t, err, context.Canceled, token)
		if Retryable(err) {
			t.Error("a cancelled publish is not retryable")
		}
	})
}

func TestPublishSSHKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newBare(t)
	clientPEM, clientKey := newSSHKey(t)
	_, hostKey := newSSHKey(t)
	remote := newSSHRemote(t, bare, clientKey.PublicKey(), hostKey)
	store := &MemoryHostKeys{}
	cfg := Config{URL: remote.url, SSHKey: clientPEM, HostKeys: store, AuthorName: "Bot", AuthorEmail: "bot@example.org"}
	p := mustNew(t, cfg)

	// Trust on first use: the key is pinned in the store.
	files := advisoryFiles("ECL-ssss-ssss-ssss", 2026, "ssh")
	res, err := p.Publish(ctx, Request{Files: files, Message: "Publish advisory ECL-ssss-ssss-ssss"})
	if err != nil {
		t.Fatalf("publish over ssh: %v", err)
	}
	verify(t, bare, res.Commit, files)
	pinned, _ := store.Load(ctx, remote.addr)
	if want := ssh.MarshalAuthorizedKey(hostKey.PublicKey()); string(pinned) != string(want) {
		t.Fatalf("pinned host key = %q, want %q", pinned, want)
	}

	// Pinned: the same host key is accepted again.
	more := advisoryFiles("ECL-tttt-tttt-tttt", 2026, "ssh")
	if _, err := p.Publish(ctx, Request{Files: more, Message: "again"}); err != nil {
		t.Fatalf("second publish with the pinned key: %v", err)
	}

	t.Run("changed host key", func(t *testing.T) {
		_, otherHost := newSSHKey(t)
		impostor := newSSHRemote(t, bare, clientKey.PublicKey(), otherHost)
		// The pin of the real host, now answered with another key.
		store2 := &MemoryHostKeys{}
		_ = store2.Save(ctx, impostor.addr, pinned)
		c := cfg
		c.URL, c.HostKeys = impostor.url, store2
		tip := git(t, bare, "rev-parse", "main")
		_, err := mustNew(t, c).Publish(ctx, Request{Files: advisoryFiles("ECL-iiii-iiii-iiii", 2026, "x"), Message: "x"})
		wantErr(t, err, ErrHostKey, string(clientPEM))
		if got, _ := store2.Load(ctx, impostor.addr); string(got) != string(pinned) {
			t.Error("a refused host key replaced the pin")
		}
		if git(t, bare, "rev-parse", "main") != tip {
			t.Error("the branch moved after a refused host key")
		}
	})
	t.Run("bad key", func(t *testing.T) {
		otherPEM, _ := newSSHKey(t)
		c := cfg
		c.SSHKey = otherPEM
		_, err := mustNew(t, c).Publish(ctx, Request{Files: files, Message: "x"})
		wantErr(t, err, ErrAuth, string(otherPEM))
	})
	t.Run("remote down", func(t *testing.T) {
		c := cfg
		c.URL = "ssh://git@" + closedAddr(t) + "/repo.git"
		_, err := mustNew(t, c).Publish(ctx, Request{Files: files, Message: "x"})
		wantErr(t, err, ErrUnreachable, string(clientPEM))
	})
}

// wantErr checks the error's kind and that no secret leaks into its text.
func wantErr(t *testing.T, err, kind error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want kind %v", err, kind)
	}
	t.Logf("error text: %v", err)
	for _, s := range secrets {
		for _, form := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(form, s) || (len(s) > 40 && strings.Contains(form, s[20:40])) {
				t.Fatalf("secret in error text: %s", form)
			}
		}
	}
}

func TestPushRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, stage := range []string{"before the push session", "after the ref check"} {
		t.Run(stage, func(t *testing.T) {
			bare := newBare(t)
			cliCommit(t, bare, map[string]string{"README.md": "x\n"})
			p := mustNew(t, fileConfig(bare))
			var other string
			race := func() { other = cliCommit(t, bare, map[string]string{"osv/2026/OTHER.json": "{}\n"}) }
			if stage == "before the push session" {
				p.beforePush = race
			} else {
				p.beforeSend = race
			}
			files := advisoryFiles("ECL-nnnn-ffff-ffff", 2026, "x")
			_, err := p.Publish(ctx, Request{Files: files, Message: "x"})
			wantErr(t, err, ErrNonFastForward)
			if !Retryable(err) {
				t.Error("a lost race must be retryable")
			}
			if tip := git(t, bare, "rev-parse", "main"); tip != other {
				t.Fatalf("main = %s, want the other publisher's %s", tip, other)
			}
			// The retry starts from the new tip and keeps the other commit.
			p.beforePush, p.beforeSend = nil, nil
			res, err := p.Publish(ctx, Request{Files: files, Message: "x"})
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if res.Parent != other {
				t.Errorf("retry parent = %s, want %s", res.Parent, other)
			}
			verify(t, bare, res.Commit, append(files, File{Path: "osv/2026/OTHER.json", Content: []byte("{}\n")}))
		})
	}
}

func TestConcurrentPublishers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newBare(t)
	cliCommit(t, bare, map[string]string{"README.md": "x\n"})
	// Both publishers fetch the same tip, then push at once.
	var ready sync.WaitGroup
	ready.Add(2)
	barrier := func() { ready.Done(); ready.Wait() }
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		p := mustNew(t, fileConfig(bare))
		p.beforeSend = barrier
		wg.Go(func() {
			_, errs[i] = p.Publish(ctx, Request{Files: advisoryFiles(fmt.Sprintf("ECL-cccc-cccc-000%d", i), 2026, "x"), Message: "x"})
		})
	}
	wg.Wait()
	var won, lost int
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrNonFastForward):
			lost++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("won %d, lost %d; want one each (%v)", won, lost, errs)
	}
	if n := git(t, bare, "rev-list", "--count", "main"); n != "2" {
		t.Errorf("commits = %s, want 2", n)
	}
}

func TestPushRejectedByHook(t *testing.T) {
	t.Parallel()
	bare := newBare(t)
	hook := filepath.Join(bare, "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'branch is protected by policy' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := mustNew(t, fileConfig(bare)).Publish(context.Background(), Request{Files: advisoryFiles("ECL-aaaa-aaaa-aaaa", 2026, "x"), Message: "x"})
	wantErr(t, err, ErrRejected)
	if !strings.Contains(err.Error(), "protected by policy") {
		t.Errorf("the hook's message is missing: %v", err)
	}
	if Retryable(err) {
		t.Error("a hook rejection is not retryable")
	}
}

func TestWriteRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newBare(t)
	// A tree with a symlink, a file and a directory.
	work := t.TempDir()
	git(t, work, "init", "--quiet", "--initial-branch=main")
	if err := os.MkdirAll(filepath.Join(work, "osv", "2026"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, c := range map[string]string{"osv/2026/a.json": "{}", "file": "x"} {
		if err := os.WriteFile(filepath.Join(work, filepath.FromSlash(p)), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc", filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(work, "osv", "2026", "planted.json")); err != nil {
		t.Fatal(err)
	}
	git(t, work, "add", "--all")
	git(t, work, "commit", "--quiet", "-m", "seed")
	git(t, work, "push", "--quiet", bare, "HEAD:refs/heads/main")
	tip := git(t, bare, "rev-parse", "main")

	p := mustNew(t, fileConfig(bare))
	for _, path := range []string{
		"link/x.json",           // through a symlink
		"osv/2026/planted.json", // over a symlink
		"file/x.json",           // under a file
		"osv/2026",              // over a directory
		"osv",                   // over a directory
		"../x", "/etc/x", "osv/../x", "./x", "a//b", "a/", ".git/config", "a/.GIT/x", "a/.git./x", "a\\b", "",
	} {
		_, err := p.Publish(ctx, Request{Files: []File{{Path: path, Content: []byte("x")}}, Message: "x"})
		if !errors.Is(err, ErrPath) {
			t.Errorf("write %q: err = %v, want ErrPath", path, err)
		}
	}
	for _, files := range [][]File{
		{{Path: "a", Content: nil}, {Path: "a", Content: nil}},
		{{Path: "a", Content: nil}, {Path: "a/b", Content: nil}},
		nil,
	} {
		if _, err := p.Publish(ctx, Request{Files: files, Message: "x"}); !errors.Is(err, ErrPath) {
			t.Errorf("files %v: err = %v, want ErrPath", files, err)
		}
	}
	if git(t, bare, "rev-parse", "main") != tip {
		t.Error("a refused write moved the branch")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	const token = "ghp_SecretTokenValue0123456789abcdefABCD"
	keyPEM, _ := newSSHKey(t)
	base := Config{AuthorName: "Bot", AuthorEmail: "bot@example.org"}
	with := func(f func(*Config)) Config { c := base; f(&c); return c }
	store := &MemoryHostKeys{}
	ok := []Config{
		with(func(c *Config) { c.URL, c.Token = "https://github.com/org/repo.git", token }),
		with(func(c *Config) { c.URL, c.SSHKey, c.HostKeys = "git@github.com:org/repo.git", keyPEM, store }),
		with(func(c *Config) { c.URL, c.SSHKey, c.HostKeys = "ssh://git@github.com:2222/org/repo.git", keyPEM, store }),
		with(func(c *Config) { c.URL = "file:///tmp/repo.git" }),
		with(func(c *Config) {
			c.URL = "file:///tmp/repo.git"
			c.Templates = Templates{CSAF: "csaf/{year}/{advisory_id_lower}.json", CVE: "cve/{cve_id}.json"}
		}),
	}
	for _, c := range ok {
		if _, err := New(c); err != nil {
			t.Errorf("New(%s): %v", c.URL, err)
		}
	}
	bad := map[string]Config{
		"no url":              with(func(c *Config) { c.Token = token }),
		"https without token": with(func(c *Config) { c.URL = "https://github.com/org/repo.git" }),
		"https with both": with(func(c *Config) {
			c.URL, c.Token, c.SSHKey, c.HostKeys = "https://github.com/org/repo.git", token, keyPEM, store
		}),
		"ssh with token": with(func(c *Config) { c.URL, c.Token, c.HostKeys = "git@github.com:org/repo.git", token, store }),
		"ssh with both": with(func(c *Config) {
			c.URL, c.Token, c.SSHKey, c.HostKeys = "git@github.com:org/repo.git", token, keyPEM, store
		}),
		"ssh without store":    with(func(c *Config) { c.URL, c.SSHKey = "git@github.com:org/repo.git", keyPEM }),
		"ssh bad key":          with(func(c *Config) { c.URL, c.SSHKey, c.HostKeys = "git@github.com:org/repo.git", []byte("junk"), store }),
		"token in url":         with(func(c *Config) { c.URL, c.Token = "https://x-access-token:"+token+"@github.com/org/repo.git", token }),
		"plain http":           with(func(c *Config) { c.URL, c.Token = "http://github.com/org/repo.git", token }),
		"file with token":      with(func(c *Config) { c.URL, c.Token = "file:///tmp/repo.git", token }),
		"no author":            with(func(c *Config) { c.URL, c.AuthorName = "file:///tmp/r.git", "" }),
		"bad branch":           with(func(c *Config) { c.URL, c.Branch = "file:///tmp/r.git", "a..b" }),
		"unknown placeholder":  with(func(c *Config) { c.URL, c.Templates.OSV = "file:///tmp/r.git", "osv/{yr}/{advisory_id}.json" }),
		"placeholder of cve":   with(func(c *Config) { c.URL, c.Templates.CSAF = "file:///tmp/r.git", "csaf/{cve_id}.json" }),
		"escaping template":    with(func(c *Config) { c.URL, c.Templates.OSV = "file:///tmp/r.git", "../{advisory_id}.json" }),
		"absolute template":    with(func(c *Config) { c.URL, c.Templates.CVE = "file:///tmp/r.git", "/cves/{cve_id}.json" }),
		"git dir in template":  with(func(c *Config) { c.URL, c.Templates.CVE = "file:///tmp/r.git", ".git/hooks/{cve_id}" }),
		"unbalanced template":  with(func(c *Config) { c.URL, c.Templates.CVE = "file:///tmp/r.git", "cves/{cve_id.json" }),
		"unsupported protocol": with(func(c *Config) { c.URL = "git://github.com/org/repo.git" }),
	}
	for name, c := range bad {
		_, err := New(c)
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
			continue
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: secret in %q", name, err)
		}
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	var tm Templates
	for _, c := range []struct {
		got  func() (string, error)
		want string
	}{
		{func() (string, error) { return tm.OSVPath("ECL-q2f7-38cm-9wrx", 2026) }, "osv/2026/ECL-q2f7-38cm-9wrx.json"},
		{func() (string, error) { return tm.CSAFPath("ECL-q2f7-38cm-9wrx", 2025) }, "csaf/2025/ECL-q2f7-38cm-9wrx.json"},
		{func() (string, error) {
			return Templates{CSAF: "csaf/{year}/{advisory_id_lower}.json"}.CSAFPath("ECL-q2f7-38cm-9wrx", 2025)
		}, "csaf/2025/ecl-q2f7-38cm-9wrx.json"},
		{func() (string, error) { return tm.CVEPath("CVE-2026-0001") }, "cves/2026/0xxx/CVE-2026-0001.json"},
		{func() (string, error) { return tm.CVEPath("CVE-2026-12345") }, "cves/2026/12xxx/CVE-2026-12345.json"},
		{func() (string, error) { return tm.CVEPath("CVE-2026-1x") }, "cves/2026/xxx/CVE-2026-1x.json"},
		{func() (string, error) { return tm.CVEPath("GHSA-1-2") }, "cves/unknown/xxx/GHSA-1-2.json"},
	} {
		got, err := c.got()
		if err != nil || got != c.want {
			t.Errorf("got %q, %v; want %q", got, err, c.want)
		}
	}
	if _, err := tm.OSVPath("../../etc/passwd", 2026); !errors.Is(err, ErrPath) {
		t.Errorf("an id with .. expanded: %v", err)
	}
	if _, err := tm.CVEPath("CVE-2026-1/../../x"); !errors.Is(err, ErrPath) {
		t.Errorf("a CVE id with .. expanded: %v", err)
	}
}

func TestDeriveSeesTheTree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		config  []string // uploadpack settings of the remote
		limit   int
		fetches []string
	}{
		{"full clone", nil, maxLazyBlobs, []string{"tip"}},
		{"filter without fetch by id", []string{"uploadpack.allowFilter"}, maxLazyBlobs, []string{"tip"}},
		{"partial clone", []string{"uploadpack.allowFilter", "uploadpack.allowReachableSHA1InWant"}, maxLazyBlobs,
			[]string{"tip (partial)", "blobs (partial)", "blobs (partial)", "blobs (partial)"}},
		{"partial clone, large directory", []string{"uploadpack.allowFilter", "uploadpack.allowReachableSHA1InWant"}, 1,
			[]string{"tip (partial)", "tip"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			bare := newBare(t)
			for _, k := range c.config {
				git(t, bare, "config", k, "true")
			}
			cliCommit(t, bare, map[string]string{"csaf/2024/old.json": "old\n", "csaf/2024/old.json.sha256": "x\n", "csaf/index.txt": "2024/old.json\n", "osv/2024/x.json": "{}\n"})
			p := mustNew(t, fileConfig(bare))
			p.lazyLimit = c.limit
			var fetches []string
			p.onFetch = func(what string) { fetches = append(fetches, what) }
			files := []File{{Path: "csaf/2026/new.json", Content: []byte("new\n")}}
			res, err := p.Publish(ctx, Request{
				Files:   files,
				Message: "x",
				Derive: func(_ context.Context, tree fs.FS, changed []string) ([]File, error) {
					if !slices.Equal(changed, []string{"csaf/2026/new.json"}) {
						return nil, fmt.Errorf("changed = %v", changed)
					}
					if err := fstest.TestFS(tree, "csaf/2024/old.json", "csaf/2024/old.json.sha256", "csaf/2026/new.json", "csaf/index.txt", "osv/2024/x.json"); err != nil {
						return nil, err
					}
					var names []string
					err := fs.WalkDir(tree, "csaf", func(p string, d fs.DirEntry, err error) error {
						if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
							names = append(names, strings.TrimPrefix(p, "csaf/"))
						}
						return err
					})
					if err != nil {
						return nil, err
					}
					if b, err := fs.ReadFile(tree, "csaf/2026/new.json"); err != nil || string(b) != "new\n" {
						return nil, fmt.Errorf("read new file: %q, %v", b, err)
					}
					return []File{{Path: "csaf/index.txt", Content: []byte(strings.Join(names, "\n") + "\n")}}, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := git(t, bare, "show", "main:csaf/index.txt"), "2024/old.json\n2026/new.json"; got != want {
				t.Errorf("derived index = %q, want %q", got, want)
			}
			if diff := cmp.Diff([]string{"csaf/2026/new.json", "csaf/index.txt"}, res.Changed); diff != "" {
				t.Errorf("Changed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.fetches, fetches); diff != "" {
				t.Errorf("fetches (-want +got):\n%s", diff)
			}
			git(t, bare, "fsck", "--strict", "--no-progress")
		})
	}
	bare := newBare(t)
	p := mustNew(t, fileConfig(bare))
	_, err := p.Publish(ctx, Request{Files: []File{{Path: "a", Content: nil}}, Message: "x", Derive: func(context.Context, fs.FS, []string) ([]File, error) {
		return []File{{Path: "../escape", Content: nil}}, nil
	}})
	if !errors.Is(err, ErrPath) {
		t.Errorf("a derived path escaping the tree: %v", err)
	}
	_, err = p.Publish(ctx, Request{Files: []File{{Path: "a", Content: nil}}, Message: "x", Derive: func(context.Context, fs.FS, []string) ([]File, error) {
		return []File{{Path: "a", Content: []byte("overwritten")}}, nil
	}})
	if !errors.Is(err, ErrPath) {
		t.Errorf("a derived file overwriting a published one: %v", err)
	}
}

func TestCheckPath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"a", "osv/2026/ECL-a.json", "a.git/b", "gitx", ".github/x", "a/.gitignore"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "/a", "a/../b", "..", ".", "a/./b", ".git", "x/.Git/y", ".git /x", "a\x00b", "a\nb", "a\\b", "a/", strings.Repeat("a", 5000)} {
		if err := CheckPath(p); !errors.Is(err, ErrPath) {
			t.Errorf("CheckPath(%q) = %v, want ErrPath", p, err)
		}
	}
}
