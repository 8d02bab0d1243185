package csafprovider

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

const (
	csafSchemaURL   = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	rolieCategory   = "urn:ietf:params:rolie:category:information-type"
	metadataFile    = "provider-metadata.json"
	serviceFile     = "service.json"
	maxSummaryRunes = 1000
)

// The TLP labels that may be published in a public repository, with the
// feed of each (requirement 15). AMBER and RED documents must be access
// protected (requirement 5) and are refused.
var feedLabels = []string{"WHITE", "GREEN", "UNLABELED"}

func feedName(label string) string { return "feed-tlp-" + strings.ToLower(label) + ".json" }

// docMeta is what the layout needs of a CSAF document.
type docMeta struct {
	id, title, summary string
	initial, current   string // as written in the document
	currentTime        time.Time
	tlp                string
}

// parseDoc reads the fields of a CSAF document the layout needs, and the
// file-name and folder problems of requirements 2 and 11.
func parseDoc(rel string, content []byte) (docMeta, []string, error) {
	var doc struct {
		Document struct {
			CSAFVersion  string `json:"csaf_version"`
			Title        string `json:"title"`
			Distribution *struct {
				TLP *struct {
					Label string `json:"label"`
				} `json:"tlp"`
			} `json:"distribution"`
			Notes []struct {
				Category string `json:"category"`
				Text     string `json:"text"`
			} `json:"notes"`
			Tracking struct {
				ID                 string `json:"id"`
				InitialReleaseDate string `json:"initial_release_date"`
				CurrentReleaseDate string `json:"current_release_date"`
			} `json:"tracking"`
		} `json:"document"`
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, rel, fmt.Sprintf(format, args...))
	}
	if err := json.Unmarshal(content, &doc); err != nil {
		return docMeta{}, nil, bad("not a JSON document: %v", err)
	}
	d := doc.Document
	m := docMeta{
		id:      d.Tracking.ID,
		title:   d.Title,
		initial: d.Tracking.InitialReleaseDate,
		current: d.Tracking.CurrentReleaseDate,
		tlp:     "UNLABELED",
	}
	switch {
	case d.CSAFVersion != "2.0":
		return docMeta{}, nil, bad("csaf_version is %q, want 2.0", d.CSAFVersion)
	case strings.TrimSpace(m.id) == "":
		return docMeta{}, nil, bad("no /document/tracking/id")
	case strings.TrimSpace(m.title) == "":
		return docMeta{}, nil, bad("no /document/title")
	}
	initial, err := time.Parse(time.RFC3339, m.initial)
	if err != nil {
		return docMeta{}, nil, bad("initial_release_date %q is not RFC 3339", m.initial)
	}
	if m.currentTime, err = time.Parse(time.RFC3339, m.current); err != nil {
		return docMeta{}, nil, bad("current_release_date %q is not RFC 3339", m.current)
	}
	if d.Distribution != nil && d.Distribution.TLP != nil && d.Distribution.TLP.Label != "" {
		m.tlp = d.Distribution.TLP.Label
		if !slices.Contains(feedLabels, m.tlp) {
			return docMeta{}, nil, bad("TLP:%s documents must not be published in a public repository (CSAF 2.0 requirement 5)", m.tlp)
		}
	}
	for _, n := range d.Notes {
		if n.Category == "summary" && strings.TrimSpace(n.Text) != "" {
			m.summary = truncate(strings.TrimSpace(n.Text), maxSummaryRunes)
			break
		}
	}
	var problems []string
	dir, name := path.Split(rel)
	if want := FileName(m.id); name != want {
		problems = append(problems, fmt.Sprintf("%s: file name should be %s, the lower-cased tracking id (CSAF 2.0 §5.1, requirement 2)", rel, want))
	}
	if year := fmt.Sprintf("%04d", initial.UTC().Year()); strings.TrimSuffix(dir, "/") != year {
		problems = append(problems, fmt.Sprintf("%s: should be in folder %s, the year of initial_release_date (requirement 11)", rel, year))
	}
	return m, problems, nil
}

// FileName is the CSAF file name of a tracking id (CSAF 2.0 §5.1): lower
// case, every character outside [+\-a-z0-9] replaced by "_", then ".json".
func FileName(trackingID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(trackingID) {
		if r == '+' || r == '-' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + ".json"
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// The ROLIE feed (RFC 8322 in JSON, as CSAF 2.0 requirement 15 shows it).
type (
	feedDoc struct {
		Feed feed `json:"feed"`
	}
	feed struct {
		ID       string     `json:"id"`
		Title    string     `json:"title"`
		Link     []link     `json:"link"`
		Category []category `json:"category"`
		Updated  string     `json:"updated"`
		Entry    []entry    `json:"entry"`
	}
	link struct {
		Rel  string `json:"rel"`
		HRef string `json:"href"`
	}
	category struct {
		Scheme string `json:"scheme"`
		Term   string `json:"term"`
	}
	entry struct {
		ID        string   `json:"id"`
		Title     string   `json:"title"`
		Link      []link   `json:"link"`
		Published string   `json:"published"`
		Updated   string   `json:"updated"`
		Summary   *summary `json:"summary,omitempty"`
		Content   content  `json:"content"`
		Format    format   `json:"format"`

		rel     string    // path relative to Root
		tlp     string    // the feed's label
		updated time.Time // parsed Updated
	}
	summary struct {
		Content string `json:"content"`
	}
	content struct {
		Type string `json:"type"`
		Src  string `json:"src"`
	}
	format struct {
		Schema  string `json:"schema"`
		Version string `json:"version"`
	}
)

func (p *Provider) newEntry(rel string, m docMeta, signed bool) entry {
	e := entry{
		ID:        m.id,
		Title:     m.title,
		Link:      p.links(rel, signed),
		Published: m.initial,
		Updated:   m.current,
		Content:   content{Type: "application/json", Src: p.url(rel)},
		Format:    format{Schema: csafSchemaURL, Version: "2.0"},
		rel:       rel,
		tlp:       m.tlp,
		updated:   m.currentTime,
	}
	if m.summary != "" {
		e.Summary = &summary{Content: m.summary}
	}
	return e
}

// links are an entry's links: the document, its hash files and, when
// signed, its signature (requirements 15, 18, 19).
func (p *Provider) links(rel string, signed bool) []link {
	u := p.url(rel)
	l := []link{{"self", u}, {"hash", u + ".sha256"}, {"hash", u + ".sha512"}}
	if signed {
		l = append(l, link{"signature", u + ".asc"})
	}
	return l
}

// readFeeds returns the entries of the existing feeds by document path.
// An entry that does not parse or does not point into this distribution
// is left out (its document is then read again).
func (p *Provider) readFeeds(fsys fs.FS) (map[string]entry, error) {
	out := map[string]entry{}
	for _, label := range feedLabels {
		b, err := fs.ReadFile(fsys, p.cfg.Root+"/"+feedName(label))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		var fd feedDoc
		if json.Unmarshal(b, &fd) != nil {
			continue // rebuilt from the documents
		}
		for _, e := range fd.Feed.Entry {
			if len(e.Link) == 0 || e.Link[0].Rel != "self" || e.ID == "" || e.Title == "" {
				continue
			}
			rel, ok := p.rel(e.Link[0].HRef)
			if !ok || e.Content.Src != e.Link[0].HRef {
				continue
			}
			t, err := time.Parse(time.RFC3339, e.Updated)
			if err != nil {
				continue
			}
			if _, err := time.Parse(time.RFC3339, e.Published); err != nil {
				continue
			}
			e.rel, e.tlp, e.updated = rel, label, t
			out[rel] = e
		}
	}
	return out, nil
}

// byNewest orders entries newest first, then by path.
func byNewest(a, b entry) int {
	if c := b.updated.Compare(a.updated); c != 0 {
		return c
	}
	return strings.Compare(a.rel, b.rel)
}

// indexFiles renders index.txt (every document, by path) and changes.csv
// (every document with its current_release_date, newest first, no
// heading) at the distribution root (requirements 12, 13).
func (p *Provider) indexFiles(entries []entry) ([]File, error) {
	var index bytes.Buffer
	for _, e := range entries { // sorted by path
		index.WriteString(e.rel + "\n")
	}
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, byNewest)
	var changes bytes.Buffer
	for _, e := range sorted {
		changes.WriteString(csvQuote(e.rel) + "," + csvQuote(e.Updated) + "\n")
	}
	return []File{
		{Path: p.cfg.Root + "/index.txt", Content: index.Bytes()},
		{Path: p.cfg.Root + "/changes.csv", Content: changes.Bytes()},
	}, nil
}

func csvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// feedFiles renders one ROLIE feed per TLP label in use.
func (p *Provider) feedFiles(entries []entry) ([]File, error) {
	var files []File
	for _, label := range p.labels(entries) {
		var es []entry
		for _, e := range entries {
			if e.tlp == label {
				es = append(es, e)
			}
		}
		slices.SortFunc(es, byNewest)
		name := feedName(label)
		fd := feedDoc{Feed: feed{
			ID:       strings.TrimSuffix(name, ".json"),
			Title:    p.feedTitle(label),
			Link:     []link{{"self", p.base.JoinPath(name).String()}},
			Category: []category{{rolieCategory, "csaf"}},
			Updated:  es[0].Updated,
			Entry:    es,
		}}
		b, err := render(fd, false)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: p.cfg.Root + "/" + name, Content: b})
	}
	return files, nil
}

// The ROLIE service document (requirement 16, optional): the feeds.
type (
	serviceDoc struct {
		Service struct {
			Workspace []workspace `json:"workspace"`
		} `json:"service"`
	}
	workspace struct {
		Title      string       `json:"title"`
		Collection []collection `json:"collection"`
	}
	collection struct {
		Title      string `json:"title"`
		HRef       string `json:"href"`
		Categories struct {
			Category []category `json:"category"`
		} `json:"categories"`
	}
)

func (p *Provider) serviceFile(entries []entry) (File, error) {
	ws := workspace{Title: p.cfg.Publisher.Name + " CSAF feeds"}
	for _, label := range p.labels(entries) {
		c := collection{Title: p.feedTitle(label), HRef: p.base.JoinPath(feedName(label)).String()}
		c.Categories.Category = []category{{rolieCategory, "csaf"}}
		ws.Collection = append(ws.Collection, c)
	}
	var sd serviceDoc
	sd.Service.Workspace = []workspace{ws}
	b, err := render(sd, true)
	if err != nil {
		return File{}, err
	}
	return File{Path: p.cfg.Root + "/" + serviceFile, Content: b}, nil
}

func (p *Provider) feedTitle(label string) string {
	if label == "UNLABELED" {
		return p.cfg.Publisher.Name + " CSAF feed (unlabeled)"
	}
	return p.cfg.Publisher.Name + " CSAF feed (TLP:" + label + ")"
}

func (p *Provider) labels(entries []entry) []string {
	var out []string
	for _, label := range feedLabels {
		if slices.ContainsFunc(entries, func(e entry) bool { return e.tlp == label }) {
			out = append(out, label)
		}
	}
	return out
}

// The provider metadata (requirement 7; provider_json_schema.json).
type (
	providerMetadata struct {
		CanonicalURL            string         `json:"canonical_url"`
		Distributions           []distribution `json:"distributions"`
		LastUpdated             string         `json:"last_updated"`
		ListOnCSAFAggregators   bool           `json:"list_on_CSAF_aggregators"`
		MetadataVersion         string         `json:"metadata_version"`
		MirrorOnCSAFAggregators bool           `json:"mirror_on_CSAF_aggregators"`
		PublicOpenPGPKeys       []pgpKey       `json:"public_openpgp_keys,omitempty"`
		Publisher               Publisher      `json:"publisher"`
		Role                    string         `json:"role"`
	}
	distribution struct {
		DirectoryURL string `json:"directory_url,omitempty"`
		Rolie        *rolie `json:"rolie,omitempty"`
	}
	rolie struct {
		Feeds    []feedRef `json:"feeds"`
		Services []string  `json:"services,omitempty"`
	}
	feedRef struct {
		Summary  string `json:"summary"`
		TLPLabel string `json:"tlp_label"`
		URL      string `json:"url"`
	}
	pgpKey struct {
		Fingerprint string `json:"fingerprint"`
		URL         string `json:"url"`
	}
)

func (p *Provider) metadata(entries []entry) (File, error) {
	if len(entries) == 0 {
		return File{}, fmt.Errorf("%w: no CSAF documents under %s/<YYYY>/", ErrInvalid, p.cfg.Root)
	}
	newest := slices.MinFunc(entries, byNewest)
	md := providerMetadata{
		CanonicalURL:            p.base.JoinPath(metadataFile).String(),
		LastUpdated:             newest.Updated,
		ListOnCSAFAggregators:   p.cfg.ListOnAggregators,
		MetadataVersion:         "2.0",
		MirrorOnCSAFAggregators: p.cfg.MirrorOnAggregators,
		Publisher:               p.cfg.Publisher,
		Role:                    "csaf_provider",
	}
	var r rolie
	for _, label := range p.labels(entries) {
		summary := "All TLP:" + label + " advisories of " + p.cfg.Publisher.Name + "."
		if label == "UNLABELED" {
			summary = "All unlabeled advisories of " + p.cfg.Publisher.Name + "."
		}
		r.Feeds = append(r.Feeds, feedRef{Summary: summary, TLPLabel: label, URL: p.base.JoinPath(feedName(label)).String()})
	}
	r.Services = []string{p.base.JoinPath(serviceFile).String()}
	md.Distributions = []distribution{{Rolie: &r}}
	if p.cfg.AnnounceDirectory {
		md.Distributions[0].DirectoryURL = p.base.String()
	}
	if p.signer != nil {
		md.Role = "csaf_trusted_provider"
		md.PublicOpenPGPKeys = []pgpKey{{Fingerprint: p.fpr, URL: p.keyURL}}
	}
	b, err := render(md, true)
	if err != nil {
		return File{}, err
	}
	return File{Path: p.cfg.Root + "/" + metadataFile, Content: b}, nil
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sha512Hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }
