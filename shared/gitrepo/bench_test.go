package gitrepo

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/eclipse-csi/advisoryhub/shared/csafprovider"
)

// BenchmarkPublish publishes one advisory (an OSV and a CSAF file) into a
// repository already holding 10,000 advisories, end to end: shallow
// clone, write, commit, push. The repository is a CSAF trusted provider
// like the real one: 20,000 documents under osv/<year>/ and csaf/<year>/
// plus, for each CSAF document, its .sha256, .sha512 and .asc, and the
// index, changes, feed and metadata files (50,000+ files).
//
// Beside it, in the same run, the same work with the git CLI as the
// original does it (clone --depth 1, write, add, commit, push). Targets:
// under 1 s, and faster than the CLI. The "+csaf" variants also derive the
// CSAF provider files (what the worker does).
//
//	go test -run '^$' -bench Publish ./shared/gitrepo
func BenchmarkPublish(b *testing.B) {
	const advisories = 10_000
	fixture, provider := bigRepo(b, advisories)
	ctx := context.Background()

	goGit := func(name, setting string, csaf bool) {
		b.Run(name, func(b *testing.B) {
			bare := copyRepo(b, fixture)
			if setting != "" {
				git(b, bare, "config", setting, "false")
			}
			p, err := New(fileConfig(bare))
			if err != nil {
				b.Fatal(err)
			}
			benchPublisher(ctx, b, p, provider, csaf)
			checkGrown(b, bare, advisories)
		})
	}
	goGit("go-git/file", "", false)
	goGit("go-git/file+csaf", "", true)
	goGit("go-git/file-no-filter", "uploadpack.allowFilter", false)
	goGit("go-git/file-no-filter+csaf", "uploadpack.allowFilter", true)
	b.Run("go-git/https", func(b *testing.B) {
		bare := copyRepo(b, fixture)
		const token = "ghs_BenchToken0123456789"
		remote := newHTTPRemote(b, bare, token)
		p, err := New(Config{URL: remote.url, Token: token, HTTPClient: remote.srv.Client(), AuthorName: "Bot", AuthorEmail: "bot@example.org"})
		if err != nil {
			b.Fatal(err)
		}
		benchPublisher(ctx, b, p, provider, false)
		checkGrown(b, bare, advisories)
	})
	b.Run("git-cli/file", func(b *testing.B) {
		bare := copyRepo(b, fixture)
		benchCLI(b, "file://"+bare, nil)
		checkGrown(b, bare, advisories)
	})
	b.Run("git-cli/https", func(b *testing.B) {
		bare := copyRepo(b, fixture)
		const token = "ghs_BenchToken0123456789"
		remote := newHTTPRemote(b, bare, token)
		ca := filepath.Join(b.TempDir(), "ca.pem")
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: remote.srv.Certificate().Raw})
		if err := os.WriteFile(ca, cert, 0o600); err != nil {
			b.Fatal(err)
		}
		url := strings.Replace(remote.url, "https://", "https://"+TokenUser+":"+token+"@", 1)
		benchCLI(b, url, []string{"GIT_SSL_CAINFO=" + ca})
		checkGrown(b, bare, advisories)
	})
}

func benchPublisher(ctx context.Context, b *testing.B, p *Publisher, provider *csafprovider.Provider, csaf bool) {
	i := 0
	rng := rand.New(rand.NewPCG(3, uint64(b.N)))
	for b.Loop() {
		i++
		id := fmt.Sprintf("ECL-bnch-%04d-%04d", b.N, i)
		req := Request{Files: benchFiles(rng, id), Message: "Publish advisory " + id}
		if csaf {
			req.Derive = deriveCSAF(provider)
		}
		res, err := p.Publish(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Pushed {
			b.Fatal("nothing pushed")
		}
	}
}

// deriveCSAF is the worker's Derive: the CSAF provider files of the
// changed documents.
func deriveCSAF(p *csafprovider.Provider) func(context.Context, fs.FS, []string) ([]File, error) {
	return func(_ context.Context, tree fs.FS, changed []string) ([]File, error) {
		res, err := p.Build(tree, changed...)
		if err != nil {
			return nil, err
		}
		files := make([]File, len(res.Files))
		for i, f := range res.Files {
			files[i] = File{Path: f.Path, Content: f.Content}
		}
		return files, nil
	}
}

func benchFiles(rng *rand.Rand, id string) []File {
	return []File{
		{Path: "osv/2026/" + id + ".json", Content: fakeDoc(rng, id, 1200)},
		{Path: "csaf/2026/" + strings.ToLower(id) + ".json", Content: csafDoc(rng, id, "2026-05-01T10:00:00.000Z")},
	}
}

// benchCLI does what the original does per publication (publication-
// formats.md §6): clone --depth 1 into a scratch directory, write, add,
// commit, push, remove the directory.
func benchCLI(b *testing.B, url string, env []string) {
	i := 0
	rng := rand.New(rand.NewPCG(4, uint64(b.N)))
	for b.Loop() {
		i++
		id := fmt.Sprintf("ECL-clib-%04d-%04d", b.N, i)
		dir, err := os.MkdirTemp("", "advisoryhub-pub-")
		if err != nil {
			b.Fatal(err)
		}
		run := func(args ...string) {
			if _, err := gitRunEnv(dir, nil, env, args...); err != nil {
				b.Fatal(err)
			}
		}
		run("-c", "core.symlinks=false", "clone", "--quiet", "--depth", "1", "--single-branch", "--branch", "main", "--", url, "w")
		work := filepath.Join(dir, "w")
		var paths []string
		for _, f := range benchFiles(rng, id) {
			full := filepath.Join(work, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(full, f.Content, 0o644); err != nil {
				b.Fatal(err)
			}
			paths = append(paths, f.Path)
		}
		run(append([]string{"-C", work, "add", "--"}, paths...)...)
		run("-C", work, "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "commit", "--quiet", "-m", "Publish advisory "+id)
		run("-C", work, "push", "--quiet", "origin", "HEAD:main")
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func checkGrown(b *testing.B, bare string, advisories int) {
	b.Helper()
	n := git(b, bare, "ls-tree", "-r", "--name-only", "main", "osv")
	if got := strings.Count(n, "\n") + 1; got <= advisories {
		b.Fatalf("osv/ holds %d files, want more than %d", got, advisories)
	}
}

// bigRepo builds, once per benchmark run, a bare repository whose main
// branch holds n advisories (an OSV and a CSAF file each, years
// 2015–2025) and the CSAF trusted-provider files, with git fast-import,
// then packs it as a hosted repository would be. Like GitHub and GitLab,
// it serves partial clones (uploadpack.allowFilter) and objects by id
// (uploadpack.allowReachableSHA1InWant). It returns the provider (with
// its signing key) that made the CSAF files.
func bigRepo(b *testing.B, n int) (string, *csafprovider.Provider) {
	b.Helper()
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	files := fstest.MapFS{}
	const alphabet = "23456789cfghjmpqrvwx"
	for i := range n {
		var id strings.Builder
		id.WriteString("ECL-")
		for j := range 12 {
			if j > 0 && j%4 == 0 {
				id.WriteByte('-')
			}
			id.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		year := 2015 + i%11
		date := fmt.Sprintf("%d-%02d-%02dT%02d:00:00.000Z", year, 1+i%12, 1+i%28, i%24)
		files[fmt.Sprintf("osv/%d/%s.json", year, id.String())] = &fstest.MapFile{Data: fakeDoc(rng, id.String(), 1200)}
		files[fmt.Sprintf("csaf/%d/%s.json", year, strings.ToLower(id.String()))] = &fstest.MapFile{Data: csafDoc(rng, id.String(), date)}
	}
	provider := benchProvider(b)
	res, err := provider.Rebuild(files)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range res.Files {
		files[f.Path] = &fstest.MapFile{Data: f.Content}
	}
	var stream bytes.Buffer
	var paths []string
	for p, f := range files {
		paths = append(paths, p)
		fmt.Fprintf(&stream, "blob\nmark :%d\ndata %d\n", len(paths), len(f.Data))
		stream.Write(f.Data)
		stream.WriteByte('\n')
	}
	stream.WriteString("commit refs/heads/main\ncommitter Seed <seed@example.org> 1700000000 +0000\ndata 5\nseed\n")
	for i, p := range paths {
		fmt.Fprintf(&stream, "M 100644 :%d %s\n", i+1, p)
	}
	bare := newBare(b)
	if _, err := gitRun(bare, &stream, "fast-import", "--quiet"); err != nil {
		b.Fatal(err)
	}
	git(b, bare, "repack", "-a", "-d", "-q")
	git(b, bare, "config", "uploadpack.allowFilter", "true")
	git(b, bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
	// Keep pushed objects packed, as hosted servers do, instead of
	// exploding small pushes into loose objects that every later fetch
	// must compress again.
	git(b, bare, "config", "receive.unpackLimit", "1")
	b.Logf("fixture: %d advisories, %d files, in %v", n, len(files), time.Since(start).Round(time.Millisecond))
	return bare, provider
}

func benchProvider(b *testing.B) *csafprovider.Provider {
	b.Helper()
	e, err := openpgp.NewEntity("AdvisoryHub Bench", "", "bench@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519})
	if err != nil {
		b.Fatal(err)
	}
	var key bytes.Buffer
	w, err := armor.Encode(&key, openpgp.PrivateKeyType, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		b.Fatal(err)
	}
	_ = w.Close()
	p, err := csafprovider.New(csafprovider.Config{
		BaseURL:    "https://advisories.example.org/csaf/",
		Publisher:  csafprovider.Publisher{Category: "vendor", Name: "Eclipse Foundation", Namespace: "https://www.eclipse.org/security/"},
		SigningKey: key.Bytes(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// fakeDoc returns a JSON document of about size bytes, varied enough that
// it does not compress to nothing.
func fakeDoc(rng *rand.Rand, id string, size int) []byte {
	b, _ := json.MarshalIndent(map[string]any{"id": id, "details": prose(rng, size-40)}, "", "  ")
	return append(b, '\n')
}

// csafDoc returns a CSAF document of about 3.5 kB.
func csafDoc(rng *rand.Rand, id, date string) []byte {
	doc := map[string]any{
		"document": map[string]any{
			"category":     "csaf_security_advisory",
			"csaf_version": "2.0",
			"publisher":    map[string]any{"category": "vendor", "name": "Eclipse Foundation", "namespace": "https://www.eclipse.org/security/"},
			"title":        prose(rng, 60),
			"tracking": map[string]any{
				"id": id, "initial_release_date": date, "current_release_date": date, "status": "final", "version": "1",
				"revision_history": []any{map[string]any{"date": date, "number": "1", "summary": "Initial publication"}},
			},
		},
		"vulnerabilities": []any{map[string]any{"notes": []any{map[string]any{"category": "description", "text": prose(rng, 3000)}}}},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n')
}

func prose(rng *rand.Rand, size int) string {
	words := []string{"buffer", "overflow", "in", "the", "parser", "allows", "remote", "attackers", "to", "cause", "denial", "of", "service", "via", "crafted", "input", "Eclipse", "Jetty", "request", "header"}
	var bld strings.Builder
	for bld.Len() < size {
		bld.WriteString(words[rng.IntN(len(words))])
		bld.WriteByte(' ')
		if rng.IntN(12) == 0 {
			fmt.Fprintf(&bld, "%d.%d.%d ", rng.IntN(12), rng.IntN(30), rng.IntN(100))
		}
	}
	return strings.TrimSpace(bld.String())
}

func copyRepo(b *testing.B, src string) string {
	b.Helper()
	dst := filepath.Join(b.TempDir(), "repo.git")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	return dst
}
