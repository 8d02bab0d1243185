// Package cverecord builds the CVE JSON 5.2.0 record of an EF-assigned CVE
// (publication-formats §4): the PUBLISHED record, or the REJECTED one when
// the pinned payload is a withdrawal. It is a pure function of the pinned
// version's payload, the CNA identity from configuration and the dates
// passed in (INV-VERSION-3); the same input gives byte-identical output,
// written by shared/canonjson.
package cverecord

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/canonjson"
	"github.com/eclipse-csi/advisoryhub/shared/cvss"
)

// DataVersion is the emitted CVE JSON format version.
const DataVersion = "5.2.0"

// DefaultShortName is PUB_CVE_ASSIGNER_SHORT_NAME's default.
const DefaultShortName = "eclipse"

// Input is what one CVE record is built from.
type Input struct {
	// Payload is the pinned version's payload; AssignedCVEID must be set.
	Payload advisory.Payload
	// Date is the pinned version's created_at: datePublished/dateRejected,
	// dateUpdated and providerMetadata.dateUpdated.
	Date time.Time
	// AdvisoryPublishedAt is the live advisory's published_at, the
	// REJECTED record's datePublished (omitted when nil).
	AdvisoryPublishedAt *time.Time
	// AssignerOrgID is PUB_CVE_ASSIGNER_ORG_ID (a v4 UUID).
	AssignerOrgID string
	// AssignerShortName is PUB_CVE_ASSIGNER_SHORT_NAME; empty omits it.
	AssignerShortName string
	// ProjectName is the live project's name, used when the payload
	// predates project_name.
	ProjectName string
}

// Needed reports whether p gets a CVE record: it has an EF-assigned CVE.
// Aliases that merely mention a CVE do not count.
func Needed(p advisory.Payload) bool { return strings.TrimSpace(string(p.AssignedCVEID)) != "" }

// Timestamp renders t as publication-formats §1.1 asks.
func Timestamp(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + fmt.Sprintf(".%03dZ", t.Nanosecond()/1e6)
}

var (
	cveIDPattern = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)
	uuidV4       = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$`)
)

// ErrBuild marks the build errors of §4.1 (bad CVE id, CNA not configured,
// missing affected products or references, blank rejection reason).
var ErrBuild = errors.New("cve record")

func buildErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBuild, fmt.Sprintf(format, args...))
}

type record struct {
	DataType    string     `json:"dataType"`
	DataVersion string     `json:"dataVersion"`
	CVEMetadata metadata   `json:"cveMetadata"`
	Containers  containers `json:"containers"`
}

type metadata struct {
	CVEID             string `json:"cveId"`
	AssignerOrgID     string `json:"assignerOrgId"`
	AssignerShortName string `json:"assignerShortName,omitempty"`
	State             string `json:"state"`
	DatePublished     string `json:"datePublished,omitempty"`
	DateUpdated       string `json:"dateUpdated"`
	DateRejected      string `json:"dateRejected,omitempty"`
}

type containers struct {
	CNA cna `json:"cna"`
}

type providerMetadata struct {
	OrgID       string `json:"orgId"`
	ShortName   string `json:"shortName,omitempty"`
	DateUpdated string `json:"dateUpdated"`
}

type cna struct {
	ProviderMetadata providerMetadata `json:"providerMetadata"`
	Title            string           `json:"title,omitempty"`
	Descriptions     []langValue      `json:"descriptions,omitempty"`
	Affected         []product        `json:"affected,omitempty"`
	References       []reference      `json:"references,omitempty"`
	ProblemTypes     []problemType    `json:"problemTypes,omitempty"`
	Metrics          []metric         `json:"metrics,omitempty"`
	Credits          []credit         `json:"credits,omitempty"`
	RejectedReasons  []langValue      `json:"rejectedReasons,omitempty"`
}

type langValue struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

type reference struct {
	URL string `json:"url"`
}

type problemType struct {
	Descriptions []problemDescription `json:"descriptions"`
}

type problemDescription struct {
	Lang        string `json:"lang"`
	Description string `json:"description"`
	CWEID       string `json:"cweId"`
	Type        string `json:"type"`
}

type credit struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
	Type  string `json:"type,omitempty"`
}

type product struct {
	Vendor        string    `json:"vendor"`
	Product       string    `json:"product"`
	CollectionURL string    `json:"collectionURL,omitempty"`
	PackageName   string    `json:"packageName,omitempty"`
	DefaultStatus string    `json:"defaultStatus,omitempty"`
	Versions      []version `json:"versions,omitempty"`
}

type version struct {
	Version         string `json:"version"`
	Status          string `json:"status"`
	VersionType     string `json:"versionType,omitempty"`
	LessThan        string `json:"lessThan,omitempty"`
	LessThanOrEqual string `json:"lessThanOrEqual,omitempty"`
}

type metric struct {
	CVSSV2_0 *cvssMetric `json:"cvssV2_0,omitempty"`
	CVSSV3_0 *cvssMetric `json:"cvssV3_0,omitempty"`
	CVSSV3_1 *cvssMetric `json:"cvssV3_1,omitempty"`
	CVSSV4_0 *cvssMetric `json:"cvssV4_0,omitempty"`
	Other    *other      `json:"other,omitempty"`
}

type cvssMetric struct {
	Version      string          `json:"version"`
	VectorString string          `json:"vectorString"`
	BaseScore    canonjson.Float `json:"baseScore"`
	BaseSeverity string          `json:"baseSeverity,omitempty"`
}

type other struct {
	Type    string            `json:"type"`
	Content map[string]string `json:"content"`
}

// Build returns the CVE record of in, canonically encoded, or an error
// wrapping ErrBuild when a §4.1 pre-condition fails.
func Build(in Input) ([]byte, error) {
	p := in.Payload
	cveID := strings.TrimSpace(string(p.AssignedCVEID))
	if !cveIDPattern.MatchString(cveID) {
		return nil, buildErr("assigned CVE id '%s' is malformed; expected CVE-YYYY-NNNN with a 4–19 digit sequence number.", cveID)
	}
	org := strings.TrimSpace(in.AssignerOrgID)
	if org == "" || !uuidV4.MatchString(org) {
		return nil, buildErr("CVE assigner not configured: PUB_CVE_ASSIGNER_ORG_ID must be the CNA's organisation UUID (a v4 UUID).")
	}
	if in.Date.IsZero() {
		return nil, buildErr("%s: no version date", cveID)
	}
	short := strings.TrimSpace(in.AssignerShortName)
	date := Timestamp(in.Date)
	rec := record{
		DataType:    "CVE_RECORD",
		DataVersion: DataVersion,
		CVEMetadata: metadata{CVEID: cveID, AssignerOrgID: org, AssignerShortName: short, DateUpdated: date},
	}
	rec.Containers.CNA.ProviderMetadata = providerMetadata{OrgID: org, ShortName: short, DateUpdated: date}
	if reason := strings.TrimSpace(p.WithdrawnReason); p.WithdrawnReason != "" {
		if reason == "" {
			return nil, buildErr("%s: a rejected CVE record requires a rejection reason.", cveID)
		}
		rec.CVEMetadata.State = "REJECTED"
		rec.CVEMetadata.DateRejected = date
		if in.AdvisoryPublishedAt != nil {
			rec.CVEMetadata.DatePublished = Timestamp(*in.AdvisoryPublishedAt)
		}
		rec.Containers.CNA.RejectedReasons = []langValue{{Lang: "en", Value: cut(reason, 4096)}}
		return encode(rec)
	}
	rec.CVEMetadata.State = "PUBLISHED"
	rec.CVEMetadata.DatePublished = date
	c := &rec.Containers.CNA
	title := p.Content.Summary
	if title == "" {
		title = string(p.AdvisoryID)
	}
	c.Title = cut(title, 256)
	desc := strings.TrimSpace(p.Content.Details)
	if desc == "" {
		desc = strings.TrimSpace(p.Content.Summary)
	}
	if desc == "" {
		desc = "Security advisory " + string(p.AdvisoryID) + "."
	}
	c.Descriptions = []langValue{{Lang: "en", Value: cut(desc, 4096)}}
	c.Affected = affected(p, in.ProjectName)
	if len(c.Affected) == 0 {
		return nil, buildErr("%s: a CVE record requires at least one affected product; add an affected package with a name.", cveID)
	}
	seen := map[string]bool{}
	for _, r := range p.Content.References {
		if r.URL == "" || seen[r.URL] {
			continue
		}
		seen[r.URL] = true
		c.References = append(c.References, reference{URL: r.URL})
	}
	if len(c.References) == 0 {
		return nil, buildErr("%s: a CVE record requires at least one reference; add a reference URL.", cveID)
	}
	c.ProblemTypes = problemTypes(p.Content.CWEIDs)
	c.Metrics = metrics(p.Content.Severity)
	c.Credits = credits(p.Content.Credits)
	return encode(rec)
}

func encode(rec record) ([]byte, error) {
	out, err := canonjson.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("cve record: %w", err)
	}
	return out, nil
}

// cut truncates s to n characters.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// collections maps ecosystems to CVE collectionURLs.
var collections = map[string]string{
	"Maven": "https://repo.maven.apache.org/maven2", "npm": "https://registry.npmjs.org",
	"PyPI": "https://pypi.python.org", "Go": "https://golang.org/pkg",
	"NuGet": "https://nuget.org/packages", "RubyGems": "https://rubygems.org",
	"crates.io": "https://crates.io", "Packagist": "https://packagist.org",
	"Pub": "https://pub.dev", "Hex": "https://repo.hex.pm",
}

func versionType(rangeType advisory.RangeType, ecosystem string) string {
	switch rangeType {
	case advisory.RangeSemver:
		return "semver"
	case advisory.RangeGit:
		return "git"
	}
	switch ecosystem {
	case "Maven":
		return "maven"
	case "PyPI":
		return "python"
	case "npm", "Go", "NuGet", "RubyGems", "crates.io", "Packagist", "Pub", "Hex":
		return "semver"
	}
	return "custom"
}

func affected(p advisory.Payload, liveProject string) []product {
	vendor := strings.TrimSpace(p.ProjectName)
	if vendor == "" {
		vendor = strings.TrimSpace(liveProject)
	}
	if vendor == "" {
		vendor = "Eclipse Foundation"
	}
	vendor = cut(vendor, 512)
	var out []product
	for _, a := range p.Content.Affected {
		name := strings.TrimSpace(a.Package.Name)
		if name == "" {
			continue
		}
		pr := product{Vendor: vendor, Product: cut(name, 2048)}
		if u, ok := collections[a.Package.Ecosystem]; ok {
			pr.CollectionURL, pr.PackageName = u, cut(name, 2048)
		}
		var versions []version
		var ranges int
		ordered := true
		for _, r := range a.Ranges {
			vt := versionType(r.Type, a.Package.Ecosystem)
			start, open := "", false
			emit := func(v version) {
				ranges++
				if vt != "semver" && vt != "maven" && vt != "python" {
					ordered = false
				}
				versions = append(versions, v)
			}
			for _, e := range r.Events {
				switch {
				case e.Introduced != "":
					start, open = e.Introduced, true
				case e.Fixed != "":
					emit(version{Version: cut(startOr(start, open), 1024), Status: "affected", VersionType: vt, LessThan: cut(e.Fixed, 1024)})
					start, open = "", false
				case e.LastAffected != "":
					emit(version{Version: cut(startOr(start, open), 1024), Status: "affected", VersionType: vt, LessThanOrEqual: cut(e.LastAffected, 1024)})
					start, open = "", false
				}
			}
			if open && start != "" {
				emit(version{Version: cut(start, 1024), Status: "affected", VersionType: vt, LessThan: "*"})
			}
		}
		for _, v := range a.Versions {
			if v == "" {
				continue
			}
			versions = append(versions, version{Version: cut(v, 1024), Status: "affected"})
		}
		pr.Versions = dedupe(versions)
		switch {
		case len(pr.Versions) == 0:
			pr.DefaultStatus = "affected"
		case ordered || ranges == 0:
			pr.DefaultStatus = "unaffected"
		}
		out = append(out, pr)
	}
	return out
}

func startOr(start string, open bool) string {
	if open && start != "" {
		return start
	}
	return "0"
}

func dedupe(vs []version) []version {
	var out []version
	seen := map[version]bool{}
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func problemTypes(ids []string) []problemType {
	var descs []problemDescription
	seen := map[string]bool{}
	for _, raw := range ids {
		id := strings.ToUpper(strings.TrimSpace(raw))
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		name, ok := advisory.CWEName(id)
		if !ok {
			name = id
		}
		descs = append(descs, problemDescription{Lang: "en", Description: cut(name, 4096), CWEID: id, Type: "CWE"})
	}
	if len(descs) == 0 {
		return nil
	}
	return []problemType{{Descriptions: descs}}
}

func metrics(entries []advisory.Severity) []metric {
	var out []metric
	seen := map[string]bool{}
	for _, s := range entries {
		if strings.TrimSpace(s.Score) == "" {
			continue
		}
		var m metric
		switch s.Type {
		case advisory.SeverityUbuntu:
			m.Other = &other{Type: "Ubuntu", Content: map[string]string{"severity": s.Score}}
		case advisory.SeverityCVSSV2, advisory.SeverityCVSSV3, advisory.SeverityCVSSV4:
			c, err := cvss.Parse(s.Type, s.Score)
			if err != nil {
				m.Other = &other{Type: string(s.Type), Content: map[string]string{"vectorString": s.Score}}
				break
			}
			cm := &cvssMetric{Version: c.Version, VectorString: c.Vector, BaseScore: canonjson.Float(c.BaseScore), BaseSeverity: c.Severity}
			switch c.Version {
			case "2.0":
				cm.BaseSeverity = ""
				m.CVSSV2_0 = cm
			case "3.0":
				m.CVSSV3_0 = cm
			case "3.1":
				m.CVSSV3_1 = cm
			case "4.0":
				m.CVSSV4_0 = cm
			}
		default:
			continue
		}
		key, err := canonjson.Marshal(m)
		if err != nil || seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		out = append(out, m)
	}
	return out
}

var creditTypes = map[advisory.CreditType]string{
	advisory.CreditFinder: "finder", advisory.CreditReporter: "reporter", advisory.CreditAnalyst: "analyst",
	advisory.CreditCoordinator: "coordinator", advisory.CreditRemediationDeveloper: "remediation developer",
	advisory.CreditRemediationReviewer: "remediation reviewer", advisory.CreditRemediationVerifier: "remediation verifier",
	advisory.CreditTool: "tool", advisory.CreditSponsor: "sponsor", advisory.CreditOther: "other",
}

func credits(cs []advisory.Credit) []credit {
	var out []credit
	seen := map[credit]bool{}
	for _, c := range cs {
		name := strings.TrimSpace(c.Name)
		if name == "" {
			continue
		}
		cr := credit{Lang: "en", Value: cut(name, 4096), Type: creditTypes[c.Type]}
		if !seen[cr] {
			seen[cr] = true
			out = append(out, cr)
		}
	}
	return out
}
