package csafprovider

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	gopenpgp "github.com/ProtonMail/gopenpgp/v2/crypto"
	"github.com/gocsaf/csaf/v3/csaf"
	"github.com/gocsaf/csaf/v3/util"
	"github.com/google/go-cmp/cmp"
)

const baseURL = "https://advisories.example.org/.well-known/csaf/"

var publisher = Publisher{Category: "vendor", Name: "Eclipse Foundation", Namespace: "https://www.eclipse.org/security/"}

// newKey returns an armored private key (Ed25519 or RSA) created at t.
func newKey(t *testing.T, algo packet.PublicKeyAlgorithm, created time.Time) []byte {
	t.Helper()
	cfg := &packet.Config{Algorithm: algo, RSABits: 2048, Time: func() time.Time { return created }}
	if algo == packet.PubKeyAlgoEdDSA {
		cfg.Curve = packet.Curve25519
	}
	e, err := openpgp.NewEntity("AdvisoryHub Test", "", "csaf@example.org", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newProvider(t *testing.T, key []byte, mutate ...func(*Config)) *Provider {
	t.Helper()
	cfg := Config{BaseURL: baseURL, Publisher: publisher, ListOnAggregators: true, MirrorOnAggregators: true, SigningKey: key}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// doc is a CSAF document; tlp "" means unlabeled.
type doc struct {
	id, initial, current, tlp string
}

func (d doc) path() string { return "csaf/" + d.initial[:4] + "/" + FileName(d.id) }

func (d doc) content() []byte {
	document := map[string]any{
		"category":     "csaf_base",
		"csaf_version": "2.0",
		"publisher":    map[string]any{"category": "vendor", "name": "Eclipse Foundation", "namespace": "https://www.eclipse.org/security/"},
		"title":        "Advisory " + d.id + " <b>&</b>",
		"notes":        []any{map[string]any{"category": "summary", "text": "Summary of " + d.id, "title": "Summary"}},
		"tracking": map[string]any{
			"id": d.id, "initial_release_date": d.initial, "current_release_date": d.current, "status": "final", "version": "1",
			"revision_history": []any{map[string]any{"date": d.initial, "number": "1", "summary": "Initial publication"}},
		},
	}
	if d.tlp != "" {
		document["distribution"] = map[string]any{"tlp": map[string]any{"label": d.tlp}}
	}
	b, _ := json.MarshalIndent(map[string]any{"document": document}, "", "  ")
	return append(b, '\n')
}

// tree is the repository: documents plus whatever the provider wrote.
type tree fstest.MapFS

func (tr tree) put(path string, content []byte) {
	tr[path] = &fstest.MapFile{Data: content, Mode: 0o644}
}

func (tr tree) add(docs ...doc) []string {
	var paths []string
	for _, d := range docs {
		tr.put(d.path(), d.content())
		paths = append(paths, d.path())
	}
	return paths
}

// apply writes the result's files and returns the paths whose content
// changed.
func (tr tree) apply(res Result) []string {
	var changed []string
	for _, f := range res.Files {
		if old, ok := tr[f.Path]; !ok || !bytes.Equal(old.Data, f.Content) {
			changed = append(changed, f.Path)
		}
		tr.put(f.Path, f.Content)
	}
	return changed
}

func (tr tree) clone() tree { return tree(maps.Clone(fstest.MapFS(tr))) }

var (
	d1 = doc{"ECL-2222-3333-4444", "2024-05-06T07:08:09.123Z", "2024-05-06T07:08:09.123Z", ""}
	d2 = doc{"ECL-5555-6666-7777", "2025-01-02T03:04:05.000Z", "2025-06-01T00:00:00.000Z", "WHITE"}
	d3 = doc{"ECL-8888-9999-cccc", "2025-02-02T00:00:00.000Z", "2025-02-02T00:00:00.000Z", "GREEN"}
	d4 = doc{"ECL-ffff-gggg-hhhh", "2026-03-04T05:06:07.000Z", "2026-03-04T05:06:07.000Z", "WHITE"}
)

func TestLayout(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		algo packet.PublicKeyAlgorithm // 0: unsigned
	}{
		{"ed25519", packet.PubKeyAlgoEdDSA},
		{"rsa", packet.PubKeyAlgoRSA},
		{"unsigned", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var key []byte
			if c.algo != 0 {
				key = newKey(t, c.algo, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			}
			p := newProvider(t, key)

			// The first publication into a repository that has documents but
			// no provider files yet.
			tr := tree{}
			tr.put("README.md", []byte("publication repository\n"))
			tr.put("osv/2025/ECL-5555-6666-7777.json", []byte("{}\n"))
			tr.add(d1, d2)
			changed := tr.add(d3)
			before := tr.clone()
			res, err := p.Build(fstest.MapFS(tr), changed...)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) > 0 {
				t.Errorf("problems: %v", res.Problems)
			}
			tr.apply(res)
			checkLayout(t, tr, c.algo != 0)

			// Deterministic: the same input gives the same files (signatures
			// are salted, so only their presence is compared), and a rebuild
			// from scratch changes nothing.
			again, err := p.Build(fstest.MapFS(before), changed...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(unsalted(res.Files), unsalted(again.Files)); diff != "" {
				t.Errorf("not deterministic (-first +second):\n%s", diff)
			}
			full, err := p.Rebuild(fstest.MapFS(tr))
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.clone().apply(full); len(got) > 0 {
				t.Errorf("a rebuild changes %v", got)
			}

			// The next publication: a new document and a revised one. Only
			// their own files and the indexes change; the incremental result
			// equals a rebuild.
			revised := d1
			revised.current = "2026-04-01T00:00:00.000Z"
			changed = tr.add(d4, revised)
			res, err = p.Build(fstest.MapFS(tr), changed...)
			if err != nil {
				t.Fatal(err)
			}
			touched := tr.apply(res)
			want := []string{"csaf/changes.csv", "csaf/feed-tlp-unlabeled.json", "csaf/feed-tlp-white.json", "csaf/index.txt", "csaf/provider-metadata.json"}
			for _, d := range []doc{d1, d4} {
				want = append(want, d.path()+".sha256", d.path()+".sha512")
				if c.algo != 0 {
					want = append(want, d.path()+".asc")
				}
			}
			slices.Sort(want)
			slices.Sort(touched)
			if diff := cmp.Diff(want, touched); diff != "" {
				t.Errorf("files touched by the second publication (-want +got):\n%s", diff)
			}
			checkLayout(t, tr, c.algo != 0)
			full, err = p.Rebuild(fstest.MapFS(tr))
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.clone().apply(full); len(got) > 0 {
				t.Errorf("the incremental build differs from a rebuild in %v", got)
			}
		})
	}
}

// checkLayout walks the tree and checks every CSAF 2.0 §7 requirement the
// provider implements, with gocsaf's schemas and gopenpgp (the library
// csaf_checker verifies with) where they apply.
func checkLayout(t testing.TB, tr tree, signed bool) {
	t.Helper()
	fsys := fstest.MapFS(tr)
	read := func(p string) []byte {
		t.Helper()
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			t.Fatalf("requirement: %s is missing: %v", p, err)
		}
		return b
	}
	local := func(u string) string {
		t.Helper()
		rel, ok := strings.CutPrefix(u, baseURL)
		if !ok {
			t.Fatalf("URL %s is outside %s", u, baseURL)
		}
		return "csaf/" + rel
	}
	decode := func(p string) any {
		t.Helper()
		var v any
		if err := json.Unmarshal(read(p), &v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return v
	}

	// The documents: csaf/<YYYY>/*.json (requirement 11, the year of
	// initial_release_date), named after the tracking id (requirement 2).
	type docInfo struct{ id, initial, current, tlp string }
	docs := map[string]docInfo{}
	matches, _ := fs.Glob(fsys, "csaf/[0-9][0-9][0-9][0-9]/*.json")
	for _, p := range matches {
		var d struct {
			Document struct {
				Distribution struct {
					TLP struct{ Label string } `json:"tlp"`
				} `json:"distribution"`
				Tracking struct {
					ID      string `json:"id"`
					Initial string `json:"initial_release_date"`
					Current string `json:"current_release_date"`
				} `json:"tracking"`
			} `json:"document"`
		}
		content := read(p)
		if err := json.Unmarshal(content, &d); err != nil {
			t.Fatal(err)
		}
		tk := d.Document.Tracking
		if !util.ConformingFileName(path.Base(p)) || path.Base(p) != FileName(tk.ID) {
			t.Errorf("requirement 2: %s is not named after %s", p, tk.ID)
		}
		if tk.Initial[:4] != path.Base(path.Dir(p)) {
			t.Errorf("requirement 11: %s is not in the folder of %s", p, tk.Initial)
		}
		label := d.Document.Distribution.TLP.Label
		if label == "" {
			label = "UNLABELED"
		}
		docs[strings.TrimPrefix(p, "csaf/")] = docInfo{tk.ID, tk.Initial, tk.Current, label}

		// Requirement 18: hash files that match, "<hex>  <name>".
		s256, s512 := sha256.Sum256(content), sha512.Sum512(content)
		for ext, sum := range map[string][]byte{".sha256": s256[:], ".sha512": s512[:]} {
			h, err := util.HashFromReader(bytes.NewReader(read(p + ext)))
			if err != nil || !bytes.Equal(h, sum) {
				t.Errorf("requirement 18: %s%s does not match (%v)", p, ext, err)
			}
			if fields := strings.Fields(string(read(p + ext))); len(fields) != 2 || fields[0] != hex.EncodeToString(sum) || fields[1] != path.Base(p) {
				t.Errorf("requirement 18: %s%s = %q", p, ext, read(p+ext))
			}
		}
	}
	if len(docs) == 0 {
		t.Fatal("no documents")
	}

	// Requirement 7: provider-metadata.json, valid against the provider
	// schema.
	mdDoc := decode("csaf/provider-metadata.json")
	if errs, err := csaf.ValidateProviderMetadata(mdDoc); err != nil || len(errs) > 0 {
		t.Fatalf("requirement 7: provider-metadata.json: %v %v", errs, err)
	}
	pmd, err := csaf.LoadProviderMetadata(bytes.NewReader(read("csaf/provider-metadata.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := pmd.Validate(); err != nil {
		t.Errorf("requirement 7: %v", err)
	}
	if got := string(*pmd.CanonicalURL); got != baseURL+"provider-metadata.json" {
		t.Errorf("canonical_url = %s", got)
	}
	wantRole := csaf.MetadataRoleProvider
	if signed {
		wantRole = csaf.MetadataRoleTrustedProvider
	}
	if *pmd.Role != wantRole {
		t.Errorf("role = %s, want %s", *pmd.Role, wantRole)
	}
	newest := ""
	for _, d := range docs {
		if newest == "" || after(d.current, newest) {
			newest = d.current
		}
	}
	if pmd.LastUpdated == nil || time.Time(*pmd.LastUpdated).Format(time.RFC3339Nano) != mustTime(newest).Format(time.RFC3339Nano) {
		t.Errorf("last_updated = %v, want %s", pmd.LastUpdated, newest)
	}

	// Requirement 20: the public key is in the tree at the listed URL and
	// has the listed fingerprint.
	var keys gopenpgp.KeyRing
	if signed {
		if len(pmd.PGPKeys) != 1 || pmd.PGPKeys[0].URL == nil {
			t.Fatalf("requirement 20: public_openpgp_keys = %+v", pmd.PGPKeys)
		}
		armored := read(local(*pmd.PGPKeys[0].URL))
		key, err := gopenpgp.NewKeyFromArmored(string(armored))
		if err != nil {
			t.Fatalf("requirement 20: %v", err)
		}
		if !strings.EqualFold(key.GetFingerprint(), string(pmd.PGPKeys[0].Fingerprint)) {
			t.Errorf("requirement 20: fingerprint %s, listed %s", key.GetFingerprint(), pmd.PGPKeys[0].Fingerprint)
		}
		if key.IsPrivate() {
			t.Fatal("requirement 20: the published key holds private material")
		}
		kr, err := gopenpgp.NewKeyRing(key)
		if err != nil {
			t.Fatal(err)
		}
		keys = *kr
	}

	// Requirement 12: index.txt lists every document.
	index := strings.Fields(string(read("csaf/index.txt")))
	if diff := cmp.Diff(slices.Sorted(maps.Keys(docs)), index); diff != "" {
		t.Errorf("requirement 12: index.txt (-want +got):\n%s", diff)
	}

	// Requirement 13: changes.csv lists every document with its
	// current_release_date, no heading, newest first.
	rows, err := csv.NewReader(bytes.NewReader(read("csaf/changes.csv"))).ReadAll()
	if err != nil {
		t.Fatalf("requirement 13: %v", err)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		d, ok := docs[r[0]]
		if len(r) != 2 || !ok || seen[r[0]] {
			t.Errorf("requirement 13: row %d %v", i, r)
			continue
		}
		seen[r[0]] = true
		if !mustTime(r[1]).Equal(mustTime(d.current)) {
			t.Errorf("requirement 13: %s at %s, document says %s", r[0], r[1], d.current)
		}
		if i > 0 && after(r[1], rows[i-1][1]) {
			t.Errorf("requirement 13: not sorted newest first at row %d", i)
		}
	}
	if len(seen) != len(docs) {
		t.Errorf("requirement 13: %d of %d documents listed", len(seen), len(docs))
	}

	// Requirement 15: one ROLIE feed per TLP label, valid, listing every
	// document with its hash (18) and signature (19) files.
	listed := map[string]bool{}
	if len(pmd.Distributions) != 1 || pmd.Distributions[0].Rolie == nil {
		t.Fatalf("requirement 15: distributions = %+v", pmd.Distributions)
	}
	for _, ref := range pmd.Distributions[0].Rolie.Feeds {
		p := local(string(*ref.URL))
		if errs, err := csaf.ValidateROLIE(decode(p)); err != nil || len(errs) > 0 {
			t.Fatalf("requirement 15: %s: %v %v", p, errs, err)
		}
		feed, err := csaf.LoadROLIEFeed(bytes.NewReader(read(p)))
		if err != nil {
			t.Fatal(err)
		}
		feed.Entries(func(e *csaf.Entry) {
			var self, sig string
			var hashes []string
			for _, l := range e.Link {
				switch l.Rel {
				case "self":
					self = l.HRef
				case "signature":
					sig = l.HRef
				case "hash":
					hashes = append(hashes, l.HRef)
				}
			}
			rel := strings.TrimPrefix(local(self), "csaf/")
			d, ok := docs[rel]
			if !ok || listed[rel] {
				t.Errorf("requirement 15: entry %s is not a document or listed twice", self)
				return
			}
			listed[rel] = true
			if e.ID != d.id || e.Content.Src != self || e.Format.Version != "2.0" ||
				!time.Time(e.Published).Equal(mustTime(d.initial)) || !time.Time(e.Updated).Equal(mustTime(d.current)) {
				t.Errorf("requirement 15: entry %s = %+v, document %+v", self, e, d)
			}
			if string(*ref.TLPLabel) != d.tlp {
				t.Errorf("requirement 15: %s (TLP:%s) in the %s feed", rel, d.tlp, *ref.TLPLabel)
			}
			if !slices.Equal(hashes, []string{self + ".sha256", self + ".sha512"}) {
				t.Errorf("requirement 18: hash links of %s = %v", self, hashes)
			}
			if !signed {
				if sig != "" {
					t.Errorf("unsigned provider lists signature %s", sig)
				}
				return
			}
			// Requirement 19: the listed signature verifies with the
			// published key.
			if sig != self+".asc" {
				t.Errorf("requirement 19: signature link of %s = %q", self, sig)
				return
			}
			s, err := gopenpgp.NewPGPSignatureFromArmored(string(read(local(sig))))
			if err != nil {
				t.Errorf("requirement 19: %s: %v", sig, err)
				return
			}
			if err := keys.VerifyDetached(gopenpgp.NewPlainMessage(read(local(self))), s, gopenpgp.GetUnixTime()); err != nil {
				t.Errorf("requirement 19: %s does not verify: %v", sig, err)
			}
		})
	}
	if len(listed) != len(docs) {
		t.Errorf("requirement 15: the feeds list %d of %d documents", len(listed), len(docs))
	}

	// Requirement 16: the service document lists the feeds.
	var feedURLs, services []string
	for _, ref := range pmd.Distributions[0].Rolie.Feeds {
		feedURLs = append(feedURLs, string(*ref.URL))
	}
	for _, s := range pmd.Distributions[0].Rolie.Services {
		services = append(services, string(s))
	}
	if !slices.Equal(services, []string{baseURL + "service.json"}) {
		t.Errorf("requirement 16: services = %v", services)
	}
	var sd serviceDoc
	if err := json.Unmarshal(read("csaf/service.json"), &sd); err != nil || len(sd.Service.Workspace) != 1 {
		t.Fatalf("requirement 16: service.json: %v", err)
	}
	var hrefs []string
	for _, c := range sd.Service.Workspace[0].Collection {
		hrefs = append(hrefs, c.HRef)
	}
	if !slices.Equal(hrefs, feedURLs) {
		t.Errorf("requirement 16: service.json lists %v, the metadata %v", hrefs, feedURLs)
	}
}

// TestLayoutCheckCatches makes sure checkLayout is not vacuous: each
// corruption of a good tree fails it.
func TestLayoutCheckCatches(t *testing.T) {
	t.Parallel()
	key := newKey(t, packet.PubKeyAlgoEdDSA, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	good := tree{}
	res, err := newProvider(t, key).Build(fstest.MapFS(good), good.add(d1, d2, d3, d4)...)
	if err != nil {
		t.Fatal(err)
	}
	good.apply(res)
	edit := func(p string, f func(string) string) func(tree) {
		return func(tr tree) { tr.put(p, []byte(f(string(tr[p].Data)))) }
	}
	for name, corrupt := range map[string]func(tree){
		"changes.csv unsorted": edit("csaf/changes.csv", func(s string) string {
			l := strings.SplitAfter(s, "\n")
			l[0], l[1] = l[1], l[0]
			return strings.Join(l, "")
		}),
		"changes.csv wrong date": edit("csaf/changes.csv", func(s string) string { return strings.Replace(s, "2026-03-04", "2026-03-05", 1) }),
		"index.txt incomplete":   edit("csaf/index.txt", func(s string) string { return s[strings.Index(s, "\n")+1:] }),
		"hash mismatch":          edit(d2.path()+".sha256", func(s string) string { return "0" + s[1:] }),
		"hash file missing":      func(tr tree) { delete(tr, d3.path()+".sha512") },
		"foreign signature":      func(tr tree) { tr.put(d1.path()+".asc", tr[d4.path()+".asc"].Data) },
		"feed entry missing": edit("csaf/feed-tlp-white.json", func(s string) string {
			var fd feedDoc
			_ = json.Unmarshal([]byte(s), &fd)
			fd.Feed.Entry = fd.Feed.Entry[1:]
			b, _ := json.Marshal(fd)
			return string(b)
		}),
		"metadata invalid":     edit("csaf/provider-metadata.json", func(s string) string { return strings.Replace(s, `"role"`, `"rolle"`, 1) }),
		"wrong year folder":    func(tr tree) { tr.put("csaf/2023/"+FileName(d1.id), tr[d1.path()].Data) },
		"name not the id":      func(tr tree) { tr.put("csaf/2024/other.json", tr[d1.path()].Data) },
		"document not in feed": func(tr tree) { tr.add(doc{"ECL-xxxx-xxxx-xxxx", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", ""}) },
	} {
		tr := good.clone()
		corrupt(tr)
		rec := &recorder{TB: t}
		done := make(chan struct{})
		go func() { defer close(done); checkLayout(rec, tr, true) }()
		<-done
		if !rec.failed {
			t.Errorf("%s: the layout check passed", name)
		}
	}
}

// recorder is a testing.TB that records failures instead of reporting
// them.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }
func (r *recorder) Fatal(...any)          { r.failed = true; runtime.Goexit() }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func after(a, b string) bool { return mustTime(a).After(mustTime(b)) }

// unsalted blanks signature contents, which go-crypto salts.
func unsalted(files []File) []File {
	out := slices.Clone(files)
	for i, f := range out {
		if strings.HasSuffix(f.Path, ".asc") && !strings.Contains(f.Path, "/openpgp/") {
			out[i].Content = nil
		}
	}
	return out
}

func TestSignatureTime(t *testing.T) {
	t.Parallel()
	key := newKey(t, packet.PubKeyAlgoEdDSA, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	tr := tree{}
	res, err := newProvider(t, key).Build(fstest.MapFS(tr), tr.add(d1, d2)...)
	if err != nil {
		t.Fatal(err)
	}
	// A document is signed at its current_release_date; one older than
	// the key at the key's creation.
	want := map[string]time.Time{
		d1.path() + ".asc": time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		d2.path() + ".asc": mustTime(d2.current),
	}
	for _, f := range res.Files {
		at, ok := want[f.Path]
		if !ok {
			continue
		}
		delete(want, f.Path)
		s, err := packet.Read(mustArmorBody(t, f.Content))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.(*packet.Signature).CreationTime; !got.Equal(at.Truncate(time.Second)) {
			t.Errorf("%s signed at %v, want %v", f.Path, got, at)
		}
	}
	if len(want) > 0 {
		t.Errorf("not signed: %v", want)
	}
}

func mustArmorBody(t *testing.T, b []byte) *bytes.Reader {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(blk.Body); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := tree{}
	res, err := newProvider(t, newKey(t, packet.PubKeyAlgoEdDSA, created)).Build(fstest.MapFS(tr), tr.add(d1, d2)...)
	if err != nil {
		t.Fatal(err)
	}
	tr.apply(res)
	checkLayout(t, tr, true)

	// A new key: the next publication re-signs every document, publishes
	// the new key and drops the old one from the metadata.
	p := newProvider(t, newKey(t, packet.PubKeyAlgoRSA, created))
	res, err = p.Build(fstest.MapFS(tr), tr.add(d3)...)
	if err != nil {
		t.Fatal(err)
	}
	tr.apply(res)
	checkLayout(t, tr, true)
	// After that, an unchanged document is not signed again.
	res, err = p.Build(fstest.MapFS(tr), tr.add(d4)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if strings.HasSuffix(f.Path, ".json.asc") && f.Path != d4.path()+".asc" {
			t.Errorf("%s signed again", f.Path)
		}
	}
}

func TestRepair(t *testing.T) {
	t.Parallel()
	key := newKey(t, packet.PubKeyAlgoEdDSA, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newProvider(t, key)
	tr := tree{}
	res, err := p.Build(fstest.MapFS(tr), tr.add(d1, d2, d3)...)
	if err != nil {
		t.Fatal(err)
	}
	tr.apply(res)
	// Someone edits a document by hand, drops a hash file and corrupts a
	// signature; a rebuild repairs all three.
	edited := d2
	edited.current = "2026-01-01T00:00:00.000Z"
	tr.add(edited)
	delete(tr, d1.path()+".sha512")
	tr.put(d3.path()+".asc", tr[d2.path()+".asc"].Data)
	res, err = p.Rebuild(fstest.MapFS(tr))
	if err != nil {
		t.Fatal(err)
	}
	tr.apply(res)
	checkLayout(t, tr, true)
}

func TestProblems(t *testing.T) {
	t.Parallel()
	tr := tree{}
	// The default path template keeps the advisory id's case, and a
	// revision published in a later year sits in the first year's folder.
	upper := "csaf/2025/ECL-2222-3333-4444.json"
	tr.put(upper, d1.content())
	res, err := newProvider(t, nil).Build(fstest.MapFS(tr), upper)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2025/ECL-2222-3333-4444.json: file name should be ecl-2222-3333-4444.json, the lower-cased tracking id (CSAF 2.0 §5.1, requirement 2)",
		"2025/ECL-2222-3333-4444.json: should be in folder 2024, the year of initial_release_date (requirement 11)",
	}
	if diff := cmp.Diff(want, res.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if _, err := newProvider(t, nil, func(c *Config) { c.Strict = true }).Build(fstest.MapFS(tr), upper); !errors.Is(err, ErrInvalid) {
		t.Errorf("strict: err = %v", err)
	}

	for name, d := range map[string]doc{
		"amber":    {"ECL-aaaa-aaaa-aaaa", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "AMBER"},
		"red":      {"ECL-aaaa-aaaa-aaaa", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "RED"},
		"bad date": {"ECL-aaaa-aaaa-aaaa", "2026-01-01", "2026-01-01T00:00:00Z", ""},
	} {
		tr := tree{}
		if _, err := newProvider(t, nil).Build(fstest.MapFS(tr), tr.add(d)...); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	tr = tree{}
	tr.put("csaf/2026/x.json", []byte("not json"))
	if _, err := newProvider(t, nil).Build(fstest.MapFS(tr), "csaf/2026/x.json"); !errors.Is(err, ErrInvalid) {
		t.Errorf("not JSON: err = %v", err)
	}
	if _, err := newProvider(t, nil).Build(fstest.MapFS(tree{}), "csaf/2026/missing.json"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a changed document missing from the tree: err = %v", err)
	}
	// Paths outside the distribution are ignored; one inside that is not
	// in a year folder is a problem.
	tr = tree{}
	changed := append(tr.add(d4), "osv/2026/x.json", "README.md")
	tr.put("csaf/ECL-x.json", d4.content())
	res, err = newProvider(t, nil).Build(fstest.MapFS(tr), append(changed, "csaf/ECL-x.json")...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || !strings.HasPrefix(res.Problems[0], "csaf/ECL-x.json: not a CSAF document path") {
		t.Errorf("problems = %v", res.Problems)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	key := newKey(t, packet.PubKeyAlgoEdDSA, time.Now())
	for name, mutate := range map[string]func(*Config){
		"http base":        func(c *Config) { c.BaseURL = "http://example.org/csaf/" },
		"relative base":    func(c *Config) { c.BaseURL = "/csaf/" },
		"no publisher":     func(c *Config) { c.Publisher = Publisher{} },
		"bad category":     func(c *Config) { c.Publisher.Category = "company" },
		"escaping root":    func(c *Config) { c.Root = "../csaf" },
		"junk key":         func(c *Config) { c.SigningKey = []byte("junk") },
		"public key only":  func(c *Config) { c.SigningKey = publicOnly(t, key) },
		"key URL, no key":  func(c *Config) { c.SigningKey, c.PublicKeyURL = nil, "https://keys.example.org/x" },
		"wrong passphrase": func(c *Config) { c.SigningKey, c.SigningKeyPassphrase = encrypted(t, key, "right"), []byte("wrong") },
		"no passphrase":    func(c *Config) { c.SigningKey = encrypted(t, key, "right") },
	} {
		cfg := Config{BaseURL: baseURL, Publisher: publisher, SigningKey: key}
		mutate(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	p := newProvider(t, encrypted(t, key, "right"), func(c *Config) { c.SigningKeyPassphrase = []byte("right") })
	tr := tree{}
	res, err := p.Build(fstest.MapFS(tr), tr.add(d4)...)
	if err != nil {
		t.Fatal(err)
	}
	tr.apply(res)
	checkLayout(t, tr, true)
}

func publicOnly(t *testing.T, armored []byte) []byte {
	t.Helper()
	p := newProvider(t, armored)
	b, err := p.publicKey()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encrypted(t *testing.T, armored []byte, pass string) []byte {
	t.Helper()
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	if err := el[0].EncryptPrivateKeys([]byte(pass), nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err := el[0].SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	return buf.Bytes()
}

func TestFileName(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]string{
		"ECL-q2f7-38cm-9wrx":            "ecl-q2f7-38cm-9wrx.json",
		"Example Company - 2019-YH3234": "example_company_-_2019-yh3234.json",
		"rhba-2019:0024":                "rhba-2019_0024.json",
		"a+b/c":                         "a+b_c.json",
	} {
		if got := FileName(id); got != want || !util.ConformingFileName(got) {
			t.Errorf("FileName(%q) = %q, want %q", id, got, want)
		}
	}
	_ = fmt.Sprint()
}
