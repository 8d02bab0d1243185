// Package csaf builds the CSAF 2.0 document (csaf_security_advisory) of an
// advisory version. It is a pure function of the pinned version's payload
// and the publication facts passed in (INV-VERSION-3); the same input gives
// byte-identical output, written by shared/canonjson.
//
// Unlike the original's minimal document (publication-formats §3), the
// output is meant to pass every CSAF 2.0 mandatory test (§6.1): it has a
// product tree built from the affected packages, a product status, the
// CWE's catalogue name, scores, remediations, acknowledgments and a
// revision history with one entry per publication. See Build for the
// mapping.
package csaf

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/canonjson"
)

// Fixed document facts (publication-formats §3.1).
const (
	PublisherName      = "Eclipse Foundation"
	PublisherNamespace = "https://www.eclipse.org/security/"
	GeneratorName      = "AdvisoryHub"
	// IDSystemName is the system_name of vulnerabilities[0].ids entries.
	IDSystemName = "AdvisoryHub"
)

// Input is what one CSAF document is built from.
type Input struct {
	// Payload is the pinned version's payload.
	Payload advisory.Payload
	// VersionNumber is the pinned version's number (1, 2, …).
	VersionNumber int
	// Date is the pinned version's created_at: this publication's
	// revision date and tracking.current_release_date.
	Date time.Time
	// Earlier lists the advisory's earlier successful publications in any
	// order. Entries for the pinned version or a later one are ignored (a
	// retry or a re-publication of the same version adds no revision), and
	// duplicates of a version count once.
	Earlier []Publication
	// CanonicalURL, when set, is the URL the document is published at; it
	// becomes the document's "self" reference.
	CanonicalURL string
	// GeneratorVersion, when set, is tracking.generator.engine.version.
	GeneratorVersion string
}

// Publication is one earlier publication of the advisory: the pinned
// version it published and that version's created_at.
type Publication struct {
	VersionNumber int
	Date          time.Time
	Withdrawn     bool
}

// Timestamp renders t as publication-formats §1.1 asks: UTC,
// YYYY-MM-DDTHH:MM:SS.mmmZ, milliseconds truncated.
func Timestamp(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + fmt.Sprintf(".%03dZ", t.Nanosecond()/1e6)
}

var invalidFileChars = regexp.MustCompile(`[^+\-a-z0-9]+`)

// FileName returns the file name CSAF 2.0 §5.1 prescribes for a document
// with the given tracking id: lower case, runs of characters other than
// + - a-z 0-9 replaced by "_", and ".json".
func FileName(trackingID string) string {
	return invalidFileChars.ReplaceAllString(strings.ToLower(trackingID), "_") + ".json"
}

// Build returns the CSAF document of in, canonically encoded.
//
// document: category csaf_security_advisory, csaf_version 2.0, lang en,
// title (summary, else the advisory id), publisher (vendor, Eclipse
// Foundation), distribution TLP:WHITE (published advisories are public),
// the canonical URL as the "self" reference when given, a "Withdrawn" note
// with the reason on a withdrawal, and tracking: id = advisory id, status
// final (also for withdrawals: CSAF has no withdrawn status), one revision
// per publication numbered 1…n in version order (dated with each pinned
// version's created_at), version = n, initial_release_date = the first
// revision's date, current_release_date = Date, generator AdvisoryHub.
//
// product_tree: vendor Eclipse Foundation > product_family project >
// product_name package > leaves. Each affected package gets a
// product_version_range leaf per interval of each of its ranges (a vers
// string for SEMVER/ECOSYSTEM ranges, a description for GIT ranges), a
// product_version leaf per explicit version, per fixed version and per
// last_affected version; the purl (when the schema accepts it) is the
// identification helper, with the version added for version leaves.
// Without affected packages the project itself is the product.
//
// vulnerabilities[0]: title, notes (summary and details, the CVSS v4.0
// vectors, extra CWEs), references and cve/ids as in publication-formats
// §3.2, cwe with the MITRE catalogue name, product_status (ranges and
// explicit versions known_affected, last_affected versions last_affected,
// fixed versions fixed; a version both listed as affected and as a fix is
// affected), remediations (vendor_fix for intervals closed by fixed or
// last_affected, none_available otherwise), scores (cvss_v2/cvss_v3 from
// the CVSS entries, the top-level ones for every affected product and each
// package's own for its products, at most one per CVSS version and
// product), threats (the Ubuntu priority as an impact) and acknowledgments
// from the credits. CSAF 2.0 has no CVSS v4.0 slot: v4.0 vectors are kept
// as an "other" note titled "CVSS v4.0".
func Build(in Input) ([]byte, error) {
	p := in.Payload
	if p.AdvisoryID == "" {
		return nil, errors.New("csaf: payload has no advisory_id")
	}
	if in.Date.IsZero() {
		return nil, errors.New("csaf: no release date")
	}
	if in.VersionNumber < 1 {
		return nil, errors.New("csaf: version number must be at least 1")
	}
	tracking, err := buildTracking(in)
	if err != nil {
		return nil, err
	}
	title := p.Content.Summary
	if title == "" {
		title = string(p.AdvisoryID)
	}
	doc := Document{
		Document: DocumentMeta{
			Category:    "csaf_security_advisory",
			CSAFVersion: "2.0",
			Lang:        "en",
			Title:       title,
			Publisher: Publisher{
				Category:  "vendor",
				Name:      PublisherName,
				Namespace: PublisherNamespace,
			},
			Distribution: &Distribution{TLP: TLP{Label: "WHITE", URL: "https://www.first.org/tlp/"}},
			Tracking:     tracking,
		},
	}
	if in.CanonicalURL != "" {
		doc.Document.References = []Reference{{Category: "self", Summary: "Canonical URL", URL: uriEscape(in.CanonicalURL)}}
	}
	if p.WithdrawnReason != "" {
		doc.Document.Notes = []Note{{Category: "other", Title: "Withdrawn", Text: p.WithdrawnReason}}
	}
	tree := newTreeBuilder(p)
	doc.ProductTree = tree.productTree()
	vuln := Vulnerability{
		Title:         title,
		ProductStatus: tree.status(),
		Remediations:  tree.remediations(),
	}
	vuln.Notes = vulnerabilityNotes(p)
	vuln.References = vulnerabilityReferences(p.Content.References)
	vuln.CVE, vuln.IDs = vulnerabilityIDs(p)
	var extraCWEs []string
	vuln.CWE, extraCWEs = weakness(p.Content.CWEIDs)
	if len(extraCWEs) > 0 {
		vuln.Notes = append(vuln.Notes, Note{Category: "other", Title: "Additional weaknesses", Text: strings.Join(extraCWEs, "\n")})
	}
	var v4 []Note
	vuln.Scores, vuln.Threats, v4 = tree.scores(p)
	vuln.Notes = append(vuln.Notes, v4...)
	vuln.Acknowledgments = acknowledgments(p.Content.Credits)
	doc.Vulnerabilities = []Vulnerability{vuln}
	out, err := canonjson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("csaf: %w", err)
	}
	return out, nil
}

func buildTracking(in Input) (Tracking, error) {
	seen := map[int]bool{}
	var revs []Publication
	for _, e := range in.Earlier {
		if e.VersionNumber >= in.VersionNumber || seen[e.VersionNumber] {
			continue
		}
		seen[e.VersionNumber] = true
		revs = append(revs, e)
	}
	slices.SortFunc(revs, func(a, b Publication) int { return a.VersionNumber - b.VersionNumber })
	revs = append(revs, Publication{VersionNumber: in.VersionNumber, Date: in.Date, Withdrawn: in.Payload.WithdrawnReason != ""})
	history := make([]Revision, len(revs))
	for i, r := range revs {
		if r.Date.IsZero() {
			return Tracking{}, fmt.Errorf("csaf: publication of version %d has no date", r.VersionNumber)
		}
		if i > 0 && r.Date.Before(revs[i-1].Date) {
			return Tracking{}, fmt.Errorf("csaf: publication of version %d is dated before that of version %d", r.VersionNumber, revs[i-1].VersionNumber)
		}
		summary := fmt.Sprintf("Update (advisory version %d)", r.VersionNumber)
		switch {
		case r.Withdrawn:
			summary = "Advisory withdrawn"
		case i == 0:
			summary = "Initial publication"
		}
		history[i] = Revision{Date: Timestamp(r.Date), Number: strconv.Itoa(i + 1), Summary: summary}
	}
	t := Tracking{
		ID:                 string(in.Payload.AdvisoryID),
		Status:             "final",
		Version:            strconv.Itoa(len(history)),
		InitialReleaseDate: history[0].Date,
		CurrentReleaseDate: Timestamp(in.Date),
		RevisionHistory:    history,
		Generator:          &Generator{Engine: Engine{Name: GeneratorName, Version: in.GeneratorVersion}},
	}
	return t, nil
}

func vulnerabilityNotes(p advisory.Payload) []Note {
	var notes []Note
	if s := p.Content.Summary; s != "" {
		notes = append(notes, Note{Category: "summary", Title: "Summary", Text: s})
	}
	if d := p.Content.Details; d != "" {
		notes = append(notes, Note{Category: "description", Title: "Details", Text: d})
	}
	if len(notes) == 0 {
		// Each vulnerability needs notes (mandatory test 6.1.27.5).
		notes = append(notes, Note{Category: "summary", Title: "Summary", Text: "Security advisory " + string(p.AdvisoryID) + "."})
	}
	return notes
}

// vulnerabilityReferences maps the OSV references (publication-formats
// §3.2): ADVISORY is "self", anything else "external"; the summary is the
// OSV type, "reference" for an untyped one.
func vulnerabilityReferences(refs []advisory.Reference) []Reference {
	var out []Reference
	for _, r := range refs {
		ref := Reference{Category: "external", Summary: string(r.Type), URL: uriEscape(r.URL)}
		if r.Type == advisory.RefAdvisory {
			ref.Category = "self"
		}
		if r.Type == "" {
			ref.Summary = "reference"
		}
		out = append(out, ref)
	}
	return out
}

var cvePattern = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)

// vulnerabilityIDs returns cve and ids (publication-formats §3.2): the
// first CVE id of [assigned CVE] + aliases, and every other alias,
// de-duplicated and sorted.
func vulnerabilityIDs(p advisory.Payload) (string, []ID) {
	var all []string
	if p.AssignedCVEID != "" {
		all = append(all, string(p.AssignedCVEID))
	}
	all = append(all, p.Content.Aliases...)
	cve := ""
	for _, a := range all {
		if cvePattern.MatchString(a) {
			cve = a
			break
		}
	}
	var rest []string
	for _, a := range all {
		if a != cve && strings.TrimSpace(a) != "" {
			rest = append(rest, a)
		}
	}
	slices.Sort(rest)
	rest = slices.Compact(rest)
	var ids []ID
	for _, a := range rest {
		ids = append(ids, ID{SystemName: IDSystemName, Text: a})
	}
	return cve, ids
}

// weakness returns the cwe of the first CWE id the catalogue knows, with
// its MITRE name (mandatory test 6.1.11), and the others as "id: name"
// lines.
func weakness(ids []string) (*CWE, []string) {
	var first *CWE
	var rest []string
	for _, id := range ids {
		name, ok := advisory.CWEName(id)
		if ok && first == nil {
			first = &CWE{ID: id, Name: name}
			continue
		}
		if ok {
			rest = append(rest, id+": "+name)
		} else {
			rest = append(rest, id)
		}
	}
	return first, rest
}

func creditSummary(t advisory.CreditType) string {
	return strings.ToLower(strings.ReplaceAll(string(t), "_", " "))
}

// acknowledgments maps each named credit to an acknowledgment: the name,
// the credit type as summary, and the contacts that are http(s) or mailto
// URIs as urls.
func acknowledgments(credits []advisory.Credit) []Acknowledgment {
	var out []Acknowledgment
	for _, c := range credits {
		name := strings.TrimSpace(c.Name)
		if name == "" {
			continue
		}
		a := Acknowledgment{Names: []string{name}, Summary: creditSummary(c.Type)}
		for _, ct := range c.Contact {
			if isAckURL(ct) {
				a.URLs = append(a.URLs, uriEscape(ct))
			}
		}
		out = append(out, a)
	}
	return out
}

func isAckURL(s string) bool {
	if strings.ContainsAny(s, " \t\r\n\"<>\\^`{|}") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != ""
	}
	return false
}

// uriEscape percent-encodes the bytes RFC 3986 does not allow anywhere in
// a URI (controls, space, "<>\\^`{|} and non-ASCII), so a URL the editor
// accepted also passes the CSAF schema's "uri" format. Valid URIs are
// unchanged.
func uriEscape(s string) string {
	var sb strings.Builder
	for _, b := range []byte(s) {
		if b <= 0x20 || b >= 0x7f || strings.IndexByte("\"<>\\^`{|}", b) >= 0 {
			fmt.Fprintf(&sb, "%%%02X", b)
		} else {
			sb.WriteByte(b)
		}
	}
	return sb.String()
}
