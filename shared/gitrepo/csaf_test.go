package gitrepo

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestPublishCSAFProvider is the worker's path: documents plus the CSAF
// provider files derived from them, in one commit, over a partial clone.
// The files in the repository always equal a rebuild from scratch, and an
// identical retry commits nothing although signatures are salted.
func TestPublishCSAFProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bare := newBare(t)
	git(t, bare, "config", "uploadpack.allowFilter", "true")
	git(t, bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
	cliCommit(t, bare, map[string]string{"README.md": "advisories\n"})
	provider := benchProvider(&testing.B{})
	p := mustNew(t, fileConfig(bare))
	var fetches []string
	p.onFetch = func(what string) { fetches = append(fetches, what) }
	rng := rand.New(rand.NewPCG(5, 6))

	publish := func(id string) Result {
		t.Helper()
		fetches = nil
		res, err := p.Publish(ctx, Request{Files: benchFiles(rng, id), Message: "Publish advisory " + id, TaskID: id, Derive: deriveCSAF(provider)})
		if err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
		return res
	}
	first := publish("ECL-aaaa-aaaa-aaaa")
	second := publish("ECL-bbbb-bbbb-bbbb")
	// The second publication read only the distribution root (feed,
	// metadata) beyond the trees.
	if want := []string{"tip (partial)", "blobs (partial)"}; !slices.Equal(fetches, want) {
		t.Errorf("fetches = %v, want %v", fetches, want)
	}
	doc := "csaf/2026/ecl-bbbb-bbbb-bbbb.json"
	// provider-metadata.json stays: last_updated is the same date.
	want := []string{
		doc, doc + ".asc", doc + ".sha256", doc + ".sha512",
		"csaf/changes.csv", "csaf/feed-tlp-unlabeled.json", "csaf/index.txt", "osv/2026/ECL-bbbb-bbbb-bbbb.json",
	}
	if !slices.Equal(second.Changed, want) || second.Parent != first.Commit {
		t.Errorf("second publication = %+v, want changes %v on %s", second, want, first.Commit)
	}
	git(t, bare, "fsck", "--strict", "--no-progress")

	// What is in the repository is exactly what a rebuild computes.
	tree := fstest.MapFS{}
	for _, path := range strings.Split(git(t, bare, "ls-tree", "-r", "--name-only", "main", "csaf"), "\n") {
		tree[path] = &fstest.MapFile{Data: []byte(git(t, bare, "show", "main:"+path) + "\n")}
	}
	rebuilt, err := provider.Rebuild(tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rebuilt.Files {
		if got := tree[f.Path]; got == nil || string(got.Data) != string(f.Content) {
			t.Errorf("%s differs from a rebuild", f.Path)
		}
	}

	// An identical retry (same content, same task) commits nothing.
	rng = rand.New(rand.NewPCG(5, 6))
	_ = benchFiles(rng, "ECL-aaaa-aaaa-aaaa") // replay the generator
	again := publish("ECL-bbbb-bbbb-bbbb")
	if again.Pushed || again.Commit != second.Commit || !again.Recognized {
		t.Errorf("identical retry = %+v, want a no-op at %s", again, second.Commit)
	}
}
