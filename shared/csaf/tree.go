package csaf

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/cvss"
)

// Product statuses used.
const (
	statusKnownAffected = "known_affected"
	statusLastAffected  = "last_affected"
	statusFixed         = "fixed"
)

type product struct {
	id       string
	category string // product_version_range, product_version or product_name
	name     string // the leaf branch name
	full     string // full_product_name.name
	purl     string
	status   string
	// remediation of an affected product
	remCategory, remDetails string
}

// pkgGroup is one (ecosystem, package name) of the affected list.
type pkgGroup struct {
	ecosystem, name string
	label           string // product_name branch name
	products        []*product
}

type treeBuilder struct {
	vendorFamily string
	groups       []*pkgGroup
	all          []*product
	byKey        map[string]*product
	// entryProducts[i] are the affected products of payload affected[i].
	entryProducts [][]*product
}

func newTreeBuilder(p advisory.Payload) *treeBuilder {
	t := &treeBuilder{byKey: map[string]*product{}}
	t.vendorFamily = strings.TrimSpace(p.ProjectName)
	if t.vendorFamily == "" {
		t.vendorFamily = strings.TrimSpace(p.ProjectSlug)
	}
	if t.vendorFamily == "" {
		t.vendorFamily = string(p.AdvisoryID)
	}
	affected := p.Content.Affected
	// Label package branches with their name, adding the ecosystem where
	// two ecosystems share a name.
	ecosystemsOf := map[string]map[string]bool{}
	for _, a := range affected {
		n := a.Package.Name
		if ecosystemsOf[n] == nil {
			ecosystemsOf[n] = map[string]bool{}
		}
		ecosystemsOf[n][a.Package.Ecosystem] = true
	}
	groupOf := map[[2]string]*pkgGroup{}
	for _, a := range affected {
		key := [2]string{a.Package.Ecosystem, a.Package.Name}
		g := groupOf[key]
		if g == nil {
			g = &pkgGroup{ecosystem: a.Package.Ecosystem, name: a.Package.Name, label: a.Package.Name}
			if len(ecosystemsOf[a.Package.Name]) > 1 || strings.TrimSpace(g.label) == "" {
				g.label = strings.TrimSpace(a.Package.Name + " (" + a.Package.Ecosystem + ")")
			}
			groupOf[key] = g
			t.groups = append(t.groups, g)
		}
		t.entryProducts = append(t.entryProducts, t.addEntry(g, a))
	}
	if len(t.all) == 0 {
		// No affected package: the project itself is the product.
		pr := &product{category: "product_name", name: t.vendorFamily, full: t.vendorFamily, status: statusKnownAffected,
			remCategory: "none_available", remDetails: "No fixed version is listed in this advisory."}
		t.add(nil, "project", pr)
	}
	return t
}

// add registers pr (deduplicated by key) and returns the registered one.
func (t *treeBuilder) add(g *pkgGroup, key string, pr *product) *product {
	if old := t.byKey[key]; old != nil {
		// A version both affected and fixed is affected (OSV: a version
		// is affected when any range or the versions list says so).
		if old.status == statusFixed && pr.status != statusFixed {
			old.status, old.remCategory, old.remDetails = pr.status, pr.remCategory, pr.remDetails
		}
		return old
	}
	pr.id = fmt.Sprintf("CSAFPID-%04d", len(t.all)+1)
	t.byKey[key] = pr
	t.all = append(t.all, pr)
	if g != nil {
		g.products = append(g.products, pr)
	}
	return pr
}

// interval is one stretch of a range: from lo (inclusive; "0" = from the
// start) to hi, which closes it as kind ("fixed", "last_affected",
// "limit", or "" for an open end).
type interval struct {
	lo, hi, kind string
	fixOnly      bool // no affected stretch, only the fixed version
}

// intervals walks the events in order, as the CVE record mapping does:
// introduced opens, fixed / last_affected / limit close, an interval left
// open runs to the end. A fixed or last_affected event before any
// introduced one closes a stretch from the start; a closing event with
// nothing open adds no stretch (a fixed one still names a fixed version).
func intervals(events []advisory.Event) []interval {
	var out []interval
	open, isOpen, sawIntroduced := "", false, false
	closeWith := func(hi, kind string) {
		switch {
		case isOpen:
			out = append(out, interval{lo: open, hi: hi, kind: kind})
		case !sawIntroduced && kind != "limit":
			// A fix listed before any introduced event: from the start.
			out = append(out, interval{lo: "0", hi: hi, kind: kind})
		case kind == "fixed":
			// Closes nothing, but the version is still a fix.
			out = append(out, interval{hi: hi, kind: kind, fixOnly: true})
		}
		open, isOpen = "", false
	}
	for _, e := range events {
		switch {
		case e.Introduced != "":
			open, isOpen, sawIntroduced = e.Introduced, true, true
		case e.Fixed != "":
			closeWith(e.Fixed, "fixed")
		case e.LastAffected != "":
			closeWith(e.LastAffected, "last_affected")
		case e.Limit != "":
			closeWith(e.Limit, "limit")
		}
	}
	if isOpen {
		out = append(out, interval{lo: open})
	}
	return out
}

func (t *treeBuilder) addEntry(g *pkgGroup, a advisory.Affected) []*product {
	purl := csafPURL(a.Package.Purl)
	var affected []*product
	groupKey := g.ecosystem + "\x00" + g.name + "\x00"
	for _, r := range a.Ranges {
		git := r.Type == advisory.RangeGit
		for _, iv := range intervals(r.Events) {
			if iv.fixOnly {
				t.add(g, groupKey+"version\x00"+iv.hi, t.versionProduct(g, iv.hi, purl, statusFixed, git))
				continue
			}
			name := rangeName(g.ecosystem, g.name, r, iv)
			pr := &product{category: "product_version_range", name: name, full: g.label + " " + name,
				purl: purl, status: statusKnownAffected}
			switch iv.kind {
			case "fixed":
				pr.remCategory = "vendor_fix"
				if git {
					pr.remDetails = fmt.Sprintf("Update %s to a revision that contains commit %s.", g.label, iv.hi)
				} else {
					pr.remDetails = fmt.Sprintf("Update %s to version %s or later.", g.label, iv.hi)
				}
			case "last_affected":
				pr.remCategory = "vendor_fix"
				pr.remDetails = laterThan(g.label, iv.hi, git)
			default:
				pr.remCategory = "none_available"
				pr.remDetails = fmt.Sprintf("No fixed version of %s is listed in this advisory.", g.label)
			}
			affected = append(affected, t.add(g, groupKey+"range\x00"+name, pr))
			switch iv.kind {
			case "fixed":
				t.add(g, groupKey+"version\x00"+iv.hi, t.versionProduct(g, iv.hi, purl, statusFixed, git))
			case "last_affected":
				affected = append(affected, t.add(g, groupKey+"version\x00"+iv.hi, t.versionProduct(g, iv.hi, purl, statusLastAffected, git)))
			}
		}
	}
	for _, v := range a.Versions {
		if strings.TrimSpace(v) == "" {
			continue
		}
		affected = append(affected, t.add(g, groupKey+"version\x00"+v, t.versionProduct(g, v, purl, statusKnownAffected, false)))
	}
	return affected
}

func laterThan(label, v string, git bool) string {
	if git {
		return fmt.Sprintf("Update %s to a revision after commit %s.", label, v)
	}
	return fmt.Sprintf("Update %s to a version later than %s.", label, v)
}

func (t *treeBuilder) versionProduct(g *pkgGroup, v, purl, status string, git bool) *product {
	pr := &product{category: "product_version", name: v, full: g.label + " " + v, purl: purlWithVersion(purl, v), status: status}
	switch status {
	case statusLastAffected:
		pr.remCategory = "vendor_fix"
		pr.remDetails = laterThan(g.label, v, git)
	case statusKnownAffected:
		pr.remCategory = "none_available"
		pr.remDetails = fmt.Sprintf("No fixed version of %s is listed in this advisory.", g.label)
	}
	return pr
}

// versScheme maps an OSV ecosystem (without suffix) to a vers scheme.
var versScheme = map[string]string{
	"Maven": "maven", "npm": "npm", "PyPI": "pypi", "Go": "golang", "NuGet": "nuget",
	"RubyGems": "gem", "crates.io": "cargo", "Packagist": "composer", "Pub": "pub",
	"Hex": "hex", "Hackage": "hackage", "CRAN": "cran", "ConanCenter": "conan",
	"SwiftURL": "swift", "GitHub Actions": "github", "Debian": "deb", "Ubuntu": "deb",
	"Alpine": "apk", "Wolfi": "apk", "Chainguard": "apk", "Red Hat": "rpm",
	"Rocky Linux": "rpm", "AlmaLinux": "rpm", "SUSE": "rpm", "openSUSE": "rpm",
	"Mageia": "rpm", "Photon OS": "rpm", "openEuler": "rpm", "Azure Linux": "rpm",
}

// rangeName names an interval: a vers string for SEMVER and ECOSYSTEM
// ranges, a description for GIT ranges (commit hashes have no order vers
// could express).
func rangeName(ecosystem, pkgName string, r advisory.Range, iv interval) string {
	if r.Type == advisory.RangeGit {
		prefix := "git " + r.Repo + ": "
		if r.Repo == pkgName {
			prefix = "git: "
		}
		parts := []string{"introduced " + iv.lo}
		if iv.lo == "0" {
			parts[0] = "from the first commit"
		}
		switch iv.kind {
		case "fixed":
			parts = append(parts, "fixed "+iv.hi)
		case "last_affected":
			parts = append(parts, "last affected "+iv.hi)
		case "limit":
			parts = append(parts, "limit "+iv.hi)
		}
		return prefix + strings.Join(parts, ", ")
	}
	base, _, _ := strings.Cut(ecosystem, ":")
	scheme := versScheme[base]
	if scheme == "" {
		scheme = "generic"
		if r.Type == advisory.RangeSemver {
			scheme = "semver"
		}
	}
	var cons []string
	if iv.lo != "0" {
		cons = append(cons, ">="+versEscape(iv.lo))
	}
	switch iv.kind {
	case "fixed", "limit":
		cons = append(cons, "<"+versEscape(iv.hi))
	case "last_affected":
		cons = append(cons, "<="+versEscape(iv.hi))
	}
	if len(cons) == 0 {
		cons = []string{"*"}
	}
	return "vers:" + scheme + "/" + strings.Join(cons, "|")
}

// versEscape percent-encodes what vers reserves in a version.
func versEscape(v string) string {
	var sb strings.Builder
	for _, b := range []byte(v) {
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte(".-_~+:", b) >= 0 {
			sb.WriteByte(b)
		} else {
			fmt.Fprintf(&sb, "%%%02X", b)
		}
	}
	return sb.String()
}

// purlPattern is the CSAF 2.0 schema's purl pattern; a purl it rejects is
// left out of the document (the OSV document keeps it).
var purlPattern = regexp.MustCompile(`^pkg:[A-Za-z\.\-\+][A-Za-z0-9\.\-\+]*/.+`)

func csafPURL(purl string) string {
	if !purlPattern.MatchString(purl) || strings.ContainsAny(purl, " \t\r\n") {
		return ""
	}
	return purl
}

// purlWithVersion adds @version to a purl without one.
func purlWithVersion(purl, version string) string {
	if purl == "" {
		return ""
	}
	end := len(purl)
	if i := strings.IndexAny(purl, "?#"); i >= 0 {
		end = i
	}
	base, rest := purl[:end], purl[end:]
	if strings.Contains(base[len("pkg:"):], "@") {
		return purl
	}
	var sb strings.Builder
	for _, b := range []byte(version) {
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte(".-_~", b) >= 0 {
			sb.WriteByte(b)
		} else {
			fmt.Fprintf(&sb, "%%%02X", b)
		}
	}
	return base + "@" + sb.String() + rest
}

func (t *treeBuilder) leaf(pr *product) Branch {
	fpn := &FullProductName{Name: pr.full, ProductID: pr.id}
	if pr.purl != "" {
		fpn.ProductIdentificationHelper = &ProductIdentificationHelper{PURL: pr.purl}
	}
	return Branch{Category: pr.category, Name: pr.name, Product: fpn}
}

func (t *treeBuilder) productTree() ProductTree {
	family := Branch{Category: "product_family", Name: t.vendorFamily}
	if len(t.groups) == 0 {
		family.Branches = []Branch{t.leaf(t.all[0])}
	}
	for _, g := range t.groups {
		b := Branch{Category: "product_name", Name: g.label}
		for _, pr := range g.products {
			b.Branches = append(b.Branches, t.leaf(pr))
		}
		family.Branches = append(family.Branches, b)
	}
	vendor := Branch{Category: "vendor", Name: PublisherName, Branches: []Branch{family}}
	return ProductTree{Branches: []Branch{vendor}}
}

func (t *treeBuilder) status() ProductStatus {
	var s ProductStatus
	for _, pr := range t.all {
		switch pr.status {
		case statusKnownAffected:
			s.KnownAffected = append(s.KnownAffected, pr.id)
		case statusLastAffected:
			s.LastAffected = append(s.LastAffected, pr.id)
		case statusFixed:
			s.Fixed = append(s.Fixed, pr.id)
		}
	}
	return s
}

func (t *treeBuilder) affected() []*product {
	var out []*product
	for _, pr := range t.all {
		if pr.status != statusFixed {
			out = append(out, pr)
		}
	}
	return out
}

// remediations gives every affected product one remediation; products
// with the same category and details share an entry.
func (t *treeBuilder) remediations() []Remediation {
	var out []Remediation
	index := map[[2]string]int{}
	for _, pr := range t.affected() {
		key := [2]string{pr.remCategory, pr.remDetails}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, Remediation{Category: pr.remCategory, Details: pr.remDetails})
		}
		out[i].ProductIDs = append(out[i].ProductIDs, pr.id)
	}
	return out
}

// scores maps the severity entries: CVSS v2/v3 to scores, Ubuntu to an
// impact threat, CVSS v4 to notes. Top-level entries apply to every
// affected product, an affected entry's own to its products; a product
// gets at most one score per CVSS version (mandatory test 6.1.7), the
// first one listed.
func (t *treeBuilder) scores(p advisory.Payload) ([]Score, []Threat, []Note) {
	type applied struct {
		sev      advisory.Severity
		products []*product
	}
	var todo []applied
	all := t.affected()
	for _, s := range p.Content.Severity {
		todo = append(todo, applied{s, all})
	}
	for i, a := range p.Content.Affected {
		for _, s := range a.Severity {
			todo = append(todo, applied{s, t.entryProducts[i]})
		}
	}
	var scores []Score
	scoreIndex := map[string]int{}
	has := map[string]bool{} // product id + "\x00" + CVSS version
	var threats []Threat
	threatIndex := map[string]int{}
	var notes []Note
	noted := map[string]bool{}
	for _, ap := range todo {
		s := ap.sev
		if s.Type == advisory.SeverityUbuntu {
			details := "Ubuntu priority: " + s.Score
			i, ok := threatIndex[details]
			if !ok {
				i = len(threats)
				threatIndex[details] = i
				threats = append(threats, Threat{Category: "impact", Details: details})
			}
			for _, pr := range ap.products {
				if !containsID(threats[i].ProductIDs, pr.id) {
					threats[i].ProductIDs = append(threats[i].ProductIDs, pr.id)
				}
			}
			continue
		}
		m, err := cvss.Parse(s.Type, s.Score)
		if err != nil {
			continue // the content validator rejects these
		}
		if m.Version == "4.0" {
			text := fmt.Sprintf("%s (score %s, %s)", m.Vector, formatScore(m.BaseScore), m.Severity)
			if !noted[text] {
				noted[text] = true
				notes = append(notes, Note{Category: "other", Title: "CVSS v4.0", Text: text})
			}
			continue
		}
		key := m.Version + " " + m.Vector
		for _, pr := range ap.products {
			if has[pr.id+"\x00"+m.Version] {
				continue
			}
			has[pr.id+"\x00"+m.Version] = true
			i, ok := scoreIndex[key]
			if !ok {
				i = len(scores)
				scoreIndex[key] = i
				scores = append(scores, newScore(m))
			}
			scores[i].Products = append(scores[i].Products, pr.id)
		}
	}
	return scores, threats, notes
}

func newScore(m cvss.Metric) Score {
	if m.Version == "2.0" {
		return Score{CVSSv2: &CVSSv2{Version: "2.0", VectorString: m.Vector, BaseScore: floatOf(m.BaseScore)}}
	}
	return Score{CVSSv3: &CVSSv3{Version: m.Version, VectorString: m.Vector, BaseScore: floatOf(m.BaseScore), BaseSeverity: m.Severity}}
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func formatScore(f float64) string { return fmt.Sprintf("%.1f", f) }
