// Package csafprovider turns a directory of CSAF documents in the
// publication repository into a CSAF 2.0 provider (CSAF 2.0 §7): it
// computes, from the documents and the files already there,
//
//   - provider-metadata.json (requirement 7), role csaf_trusted_provider
//     when a signing key is configured, csaf_provider otherwise;
//   - index.txt and changes.csv at the distribution root (requirements
//     12, 13), beside the <YYYY>/ folders (requirement 11);
//   - one ROLIE feed per TLP label (requirement 15), listing every document
//     with its hash and signature files, and the ROLIE service document
//     listing the feeds (requirement 16);
//   - <doc>.sha256 and <doc>.sha512 for every document (requirement 18);
//   - <doc>.asc detached OpenPGP signatures and the public key under
//     openpgp/ (requirements 19, 20) when a signing key is configured.
//
// The output is a pure function of the documents, the existing files and
// the configuration: no clock, sorted lists, timestamps taken from the
// documents. The one exception is the bytes of a new signature: go-crypto
// salts every signature (a defence against fault attacks on EdDSA), so a
// document is signed only when it is new or changed, or its signature is
// missing or does not verify; an unchanged tree yields identical files.
// The signature time is the document's current_release_date, moved
// forward to the key's creation when older.
//
// Requirements 8–10 (security.txt, the well-known URL, DNS) and 14
// (directory listings) are properties of the web server that serves the
// repository, not of its files.
package csafprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// File is a file to write, at a slash-separated repository path.
type File struct {
	Path    string
	Content []byte
}

// Publisher is the provider's publisher object (CSAF 2.0 §3.2.1.8); it
// should match the documents' /document/publisher.
type Publisher struct {
	Category         string `json:"category"`
	ContactDetails   string `json:"contact_details,omitempty"`
	IssuingAuthority string `json:"issuing_authority,omitempty"`
	Name             string `json:"name"`
	Namespace        string `json:"namespace"`
}

// Config configures a Provider.
type Config struct {
	// Root is the distribution directory in the repository: the year
	// folders, index.txt, changes.csv, the feeds and provider-metadata.json
	// live there. Default "csaf".
	Root string
	// BaseURL is the https URL at which Root is served, e.g.
	// "https://advisories.example.org/.well-known/csaf/".
	BaseURL string
	// Publisher goes into provider-metadata.json.
	Publisher Publisher
	// ListOnAggregators and MirrorOnAggregators are the
	// list_on_CSAF_aggregators and mirror_on_CSAF_aggregators flags.
	ListOnAggregators   bool
	MirrorOnAggregators bool
	// AnnounceDirectory adds the directory distribution (index.txt,
	// changes.csv) to provider-metadata.json. Set it only when the host
	// serves directory listings (requirement 14); the ROLIE feed is
	// announced always.
	AnnounceDirectory bool

	// SigningKey is an armored OpenPGP private key; when set, every
	// document is signed and the provider is a trusted provider.
	SigningKey           []byte
	SigningKeyPassphrase []byte
	// PublicKeyURL is where the public key is published. Default: the
	// key written at <Root>/openpgp/<FINGERPRINT>.asc.
	PublicKeyURL string

	// Strict turns Problems (a file name that is not the lower-cased
	// tracking id, a year folder that is not the initial release year) into
	// errors.
	Strict bool
}

// Result is what Build and Rebuild produce.
type Result struct {
	// Files are the derived files to write: always the feeds, index.txt,
	// changes.csv and provider-metadata.json; hash and signature files for
	// the documents that need them. Writing a file with unchanged content
	// is a no-op for the publisher.
	Files []File
	// Problems are requirement violations that do not stop publication
	// (unless Config.Strict), found in the documents read this time: CSAF
	// 2.0 requirement 2 (file name) and 11 (year folder). Sorted. Log them
	// or record them with the publication.
	Problems []string
}

// ErrInvalid marks unusable configuration or documents.
var ErrInvalid = apperr.New(apperr.Invalid, "csaf provider")

// Provider builds the provider files for one distribution directory.
type Provider struct {
	cfg     Config
	base    *url.URL
	signer  *openpgp.Entity
	fpr     string // upper-case hex fingerprint of the primary key
	keyFile string // repository path of the public key, "" when PublicKeyURL is external
	keyURL  string
}

// New validates cfg and parses the signing key.
func New(cfg Config) (*Provider, error) {
	if cfg.Root == "" {
		cfg.Root = "csaf"
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if path.Clean(cfg.Root) != cfg.Root || strings.HasPrefix(cfg.Root, "/") || strings.HasPrefix(cfg.Root, "..") || cfg.Root == "." {
		bad("root %q must be a clean relative directory", cfg.Root)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme != "https" || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		bad("base URL %q must be an https URL without credentials, query or fragment", cfg.BaseURL)
	} else if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	pub := cfg.Publisher
	if !slices.Contains([]string{"coordinator", "discoverer", "other", "translator", "user", "vendor"}, pub.Category) {
		bad("publisher category %q is not a CSAF category", pub.Category)
	}
	if strings.TrimSpace(pub.Name) == "" {
		bad("publisher name is required")
	}
	if u, err := url.Parse(pub.Namespace); err != nil || u.Scheme == "" || u.Host == "" {
		bad("publisher namespace %q must be an absolute URL", pub.Namespace)
	}
	p := &Provider{cfg: cfg, base: base}
	if len(cfg.SigningKey) > 0 {
		if err := p.loadKey(); err != nil {
			bad("%v", err)
		}
	} else if cfg.PublicKeyURL != "" {
		bad("a public key URL without a signing key")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return p, nil
}

// Root returns the distribution directory in the repository.
func (p *Provider) Root() string { return p.cfg.Root }

// Build computes the provider files after the files at the repository
// paths changed were written into fsys (the repository tree); paths
// outside Root are ignored, so a publisher's whole change list can be
// passed. Changed documents are read, hashed and signed; every other
// document is taken from the existing ROLIE feeds, keeping its hash and
// signature files, and read only when the feeds do not list it or those
// files are missing. The cost of a publication therefore depends on the
// changes, not on the number of documents.
func (p *Provider) Build(fsys fs.FS, changed ...string) (Result, error) {
	set := make(map[string]bool, len(changed))
	var problems []string
	for _, c := range changed {
		rel, ok := strings.CutPrefix(c, p.cfg.Root+"/")
		switch {
		case !ok:
		case !isDocPath(rel):
			problems = append(problems, fmt.Sprintf("%s: not a CSAF document path %s/<YYYY>/<name>.json; not listed (requirement 11)", c, p.cfg.Root))
		default:
			set[rel] = true
		}
	}
	res, err := p.build(fsys, set, false)
	if err != nil {
		return Result{}, err
	}
	if len(problems) > 0 {
		if p.cfg.Strict {
			return Result{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
		}
		res.Problems = append(res.Problems, problems...)
		slices.Sort(res.Problems)
	}
	return res, nil
}

// Rebuild recomputes everything from the documents themselves: every
// document is read and its hash files rewritten, and every existing
// signature is verified and replaced when it does not verify with the
// configured key (after a key rotation, say). Use it for a first
// publication into an existing repository or a periodic repair.
func (p *Provider) Rebuild(fsys fs.FS) (Result, error) {
	return p.build(fsys, nil, true)
}

func (p *Provider) build(fsys fs.FS, changed map[string]bool, full bool) (Result, error) {
	docs, err := p.listDocs(fsys)
	if err != nil {
		return Result{}, err
	}
	for c := range changed {
		if _, ok := docs[c]; !ok {
			return Result{}, fmt.Errorf("%w: changed document %s/%s is not in the tree", ErrInvalid, p.cfg.Root, c)
		}
	}
	cached, err := p.readFeeds(fsys)
	if err != nil {
		return Result{}, err
	}
	// A signing key that the published metadata does not list yet (a new
	// or rotated key): check every existing signature against it.
	if p.signer != nil && !p.keyPublished(fsys) {
		full = true
	}

	var (
		res     Result
		entries []entry
	)
	for _, rel := range sortedKeys(docs) {
		siblings := docs[rel]
		needHashes := full || changed[rel] || !siblings[".sha256"] || !siblings[".sha512"]
		mustSign := p.signer != nil && (changed[rel] || !siblings[".asc"])
		checkSig := p.signer != nil && full && siblings[".asc"] && !changed[rel]
		e, fromCache := cached[rel]
		if full || changed[rel] || !fromCache || needHashes || mustSign || !p.entryCurrent(e, siblings) {
			content, err := fs.ReadFile(fsys, p.cfg.Root+"/"+rel)
			if err != nil {
				return Result{}, fmt.Errorf("read %s/%s: %w", p.cfg.Root, rel, err)
			}
			meta, problems, err := parseDoc(rel, content)
			if err != nil {
				return Result{}, err
			}
			res.Problems = append(res.Problems, problems...)
			e = p.newEntry(rel, meta, p.signer != nil || siblings[".asc"])
			if needHashes {
				res.Files = append(res.Files, hashFiles(p.cfg.Root+"/"+rel, content)...)
			}
			if mustSign || checkSig {
				sig, err := p.signature(fsys, rel, content, meta, checkSig)
				if err != nil {
					return Result{}, err
				}
				if sig != nil {
					res.Files = append(res.Files, *sig)
				}
			}
		}
		entries = append(entries, e)
	}
	if p.cfg.Strict && len(res.Problems) > 0 {
		slices.Sort(res.Problems)
		return Result{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(res.Problems, "; "))
	}
	slices.Sort(res.Problems)

	idx, err := p.indexFiles(entries)
	if err != nil {
		return Result{}, err
	}
	res.Files = append(res.Files, idx...)
	feeds, err := p.feedFiles(entries)
	if err != nil {
		return Result{}, err
	}
	res.Files = append(res.Files, feeds...)
	service, err := p.serviceFile(entries)
	if err != nil {
		return Result{}, err
	}
	res.Files = append(res.Files, service)
	if p.signer != nil && p.keyFile != "" {
		key, err := p.publicKey()
		if err != nil {
			return Result{}, err
		}
		res.Files = append(res.Files, File{Path: p.keyFile, Content: key})
	}
	meta, err := p.metadata(entries)
	if err != nil {
		return Result{}, err
	}
	res.Files = append(res.Files, meta)
	slices.SortFunc(res.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return res, nil
}

// keyPublished reports whether the existing provider-metadata.json lists
// the signing key.
func (p *Provider) keyPublished(fsys fs.FS) bool {
	b, err := fs.ReadFile(fsys, p.cfg.Root+"/"+metadataFile)
	if err != nil {
		return false
	}
	var md providerMetadata
	if json.Unmarshal(b, &md) != nil {
		return false
	}
	return slices.ContainsFunc(md.PublicOpenPGPKeys, func(k pgpKey) bool { return strings.EqualFold(k.Fingerprint, p.fpr) })
}

// listDocs returns the documents under Root/<YYYY>/ (relative to Root) with
// the suffixes of their sibling files (".sha256", ".sha512", ".asc").
func (p *Provider) listDocs(fsys fs.FS) (map[string]map[string]bool, error) {
	docs := map[string]map[string]bool{}
	years, err := fs.ReadDir(fsys, p.cfg.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return docs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p.cfg.Root, err)
	}
	for _, y := range years {
		if !y.IsDir() || !isYear(y.Name()) {
			continue
		}
		dir := p.cfg.Root + "/" + y.Name()
		files, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		names := map[string]bool{}
		for _, f := range files {
			if f.Type().IsRegular() {
				names[f.Name()] = true
			}
		}
		for n := range names {
			if !strings.HasSuffix(n, ".json") {
				continue
			}
			sib := map[string]bool{}
			for _, ext := range []string{".sha256", ".sha512", ".asc"} {
				sib[ext] = names[n+ext]
			}
			docs[y.Name()+"/"+n] = sib
		}
	}
	return docs, nil
}

func isYear(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isDocPath(rel string) bool {
	dir, name := path.Split(rel)
	return isYear(strings.TrimSuffix(dir, "/")) && strings.HasSuffix(name, ".json") && !strings.Contains(name, "/")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// docURL is the document's URL under the base URL.
func (p *Provider) url(rel string) string {
	return p.base.JoinPath(rel).String()
}

func (p *Provider) rel(u string) (string, bool) {
	rel, ok := strings.CutPrefix(u, p.base.String())
	return rel, ok && isDocPath(rel)
}

// entryCurrent reports whether a feed entry taken from the existing feed
// still describes the files as they are: the same links the entry would
// get now.
func (p *Provider) entryCurrent(e entry, siblings map[string]bool) bool {
	want := p.links(e.rel, p.signer != nil || siblings[".asc"])
	return slices.Equal(e.Link, want)
}

// hashFiles returns the SHA-256 and SHA-512 files of the document at
// repoPath (requirement 18): "<hex>  <file name>\n", as sha256sum writes.
func hashFiles(repoPath string, content []byte) []File {
	name := path.Base(repoPath)
	return []File{
		{Path: repoPath + ".sha256", Content: []byte(sha256Hex(content) + "  " + name + "\n")},
		{Path: repoPath + ".sha512", Content: []byte(sha512Hex(content) + "  " + name + "\n")},
	}
}

// render encodes v as JSON with a trailing newline, indented or compact
// (the feeds: they grow with every document, and are read and rewritten
// on every publication).
func render(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
