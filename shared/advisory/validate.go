package advisory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// MaxSummaryLength is the summary limit, in characters (varchar(300)).
const MaxSummaryLength = 300

// maxURLLength bounds reference URLs, as Django's URLValidator does.
const maxURLLength = 2048

// Problem is one validation failure. Path names the offending field in the
// content's JSON form, e.g. "affected[0].ranges[1].events" or
// "references[2].url".
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in a piece of content, sorted
// by path (numeric indexes compared as numbers) and then message. It
// unwraps to apperr.Invalid.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var sb strings.Builder
	sb.WriteString("invalid advisory content: ")
	for i, p := range e.Problems {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(p.Path)
		sb.WriteString(": ")
		sb.WriteString(p.Message)
	}
	return sb.String()
}

// Unwrap classifies the error as apperr.Invalid.
func (e *ValidationError) Unwrap() error { return apperr.Invalid }

// ByPath returns the problems keyed by path, messages for the same path
// joined with "; " (for re-rendering a form next to its fields).
func (e *ValidationError) ByPath() map[string]string {
	m := make(map[string]string, len(e.Problems))
	for _, p := range e.Problems {
		if prev, ok := m[p.Path]; ok {
			m[p.Path] = prev + "; " + p.Message
		} else {
			m[p.Path] = p.Message
		}
	}
	return m
}

// Validate checks c against the content rules of requirements §4.1 and
// data-model §4.1 and returns nil or a *ValidationError carrying every
// problem at once.
//
// Rules: summary at most 300 characters (it may be empty); aliases
// non-blank and unique; references need an http, https, ftp or ftps URL and
// an optional known type (missing means WEB); affected entries need
// package.name and a recognised package.ecosystem (optionally ":suffix"), an
// optional purl of the form pkg:type/name, and at least one of ranges and
// versions; each range needs a known type, a repo when GIT, at least one
// event, each event exactly one non-empty introduced / fixed /
// last_affected / limit, at least one introduced, and not both fixed and
// last_affected; severity entries need a known type and a score that parses
// as a CVSS vector of that type (scored with go-cvss) or is an Ubuntu
// priority; cwe_ids must be unique CWE-<n> weaknesses of the vendored MITRE
// catalogue; credits need a name and an optional known type;
// database_specific and ecosystem_specific must be JSON objects.
func (c Content) Validate() error {
	v := &validator{}
	v.content(c)
	return v.err()
}

type validator struct {
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	slices.SortStableFunc(v.problems, func(a, b Problem) int {
		if c := comparePaths(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return &ValidationError{Problems: v.problems}
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func blank(s string) bool { return strings.TrimSpace(s) == "" }

func (v *validator) content(c Content) {
	if n := utf8.RuneCountInString(c.Summary); n > MaxSummaryLength {
		v.add("summary", "must be at most %d characters (has %d)", MaxSummaryLength, n)
	}
	seen := map[string]bool{}
	for i, a := range c.Aliases {
		p := index("aliases", i)
		switch {
		case blank(a):
			v.add(p, "must not be empty")
		case seen[a]:
			v.add(p, "duplicates an earlier alias")
		}
		seen[a] = true
	}
	for i, r := range c.References {
		v.reference(index("references", i), r)
	}
	for i, a := range c.Affected {
		v.affected(index("affected", i), a)
		// OSV allows a severity either for the whole advisory or per
		// package, never both (the schema forbids affected[].severity
		// when severity is present), and the export must pass it.
		if len(c.Severity) > 0 && len(a.Severity) > 0 {
			v.add(index("affected", i)+".severity", "must be empty when the advisory has a top-level severity (OSV allows one or the other)")
		}
	}
	for i, s := range c.Severity {
		v.severity(index("severity", i), s)
	}
	seen = map[string]bool{}
	for i, id := range c.CWEIDs {
		v.cwe(index("cwe_ids", i), id, seen)
	}
	for i, cr := range c.Credits {
		v.credit(index("credits", i), cr)
	}
}

func (v *validator) reference(path string, r Reference) {
	if r.Type != "" && !r.Type.Valid() {
		v.add(path+".type", "must be one of %s", joinValues(ReferenceTypes()))
	}
	if msg := checkURL(r.URL); msg != "" {
		v.add(path+".url", "%s", msg)
	}
}

func checkURL(s string) string {
	if blank(s) {
		return "is required"
	}
	if len(s) > maxURLLength {
		return fmt.Sprintf("must be at most %d characters", maxURLLength)
	}
	if strings.IndexFunc(s, func(r rune) bool { return isSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "must not contain spaces or control characters"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a valid URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ftp", "ftps":
	default:
		return "must be an http, https, ftp or ftps URL"
	}
	if u.Hostname() == "" {
		return "must name a host"
	}
	// Characters RFC 3986 allows nowhere in a URI are percent-encoded by
	// the CSAF export (csaf.uriEscape); in a host that encoding is invalid,
	// so such a host is refused here rather than at publication. Of those,
	// url.Parse lets only these three through in a host.
	if strings.ContainsAny(u.Host, `"<>`) {
		return "must name a valid host"
	}
	return ""
}

// purlPrefix is the start of ^pkg:[A-Za-z0-9.+-]+/\S+$; the \S+ tail is
// checked rune by rune with Python's (Unicode) notion of whitespace, which
// RE2's ASCII \S does not share.
var purlPrefix = regexp.MustCompile(`^pkg:[A-Za-z0-9.+-]+/`)

func validPurl(s string) bool {
	loc := purlPrefix.FindStringIndex(s)
	if loc == nil {
		return false
	}
	tail := s[loc[1]:]
	return tail != "" && strings.IndexFunc(tail, isSpace) < 0
}

// isSpace matches what Python's str.isspace() accepts (and so \s in the
// original's regexes): Unicode whitespace plus the ASCII separators
// U+001C..U+001F.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func (v *validator) affected(path string, a Affected) {
	pkg := path + ".package"
	if blank(a.Package.Name) {
		v.add(pkg+".name", "is required")
	}
	if blank(a.Package.Ecosystem) {
		v.add(pkg+".ecosystem", "is required")
	} else if ok, err := checkEcosystem(a.Package.Ecosystem); err != nil {
		v.add(pkg+".ecosystem", "cannot be checked: %v", err)
	} else if !ok {
		v.add(pkg+".ecosystem", "is not a recognised OSV ecosystem (optionally followed by :suffix)")
	}
	if a.Package.Purl != "" && !validPurl(a.Package.Purl) {
		v.add(pkg+".purl", "must be a package URL of the form pkg:type/name")
	}
	if len(a.Ranges) == 0 && len(a.Versions) == 0 {
		v.add(path, "needs at least one of ranges or versions")
	}
	for i, s := range a.Severity {
		v.severity(index(path+".severity", i), s)
	}
	for i, r := range a.Ranges {
		v.rangeOf(index(path+".ranges", i), r)
	}
	for i, ver := range a.Versions {
		if blank(ver) {
			v.add(index(path+".versions", i), "must not be empty")
		}
	}
	v.object(path+".ecosystem_specific", a.EcosystemSpecific)
	v.object(path+".database_specific", a.DatabaseSpecific)
}

func (v *validator) rangeOf(path string, r Range) {
	switch {
	case r.Type == "":
		v.add(path+".type", "is required")
	case !r.Type.Valid():
		v.add(path+".type", "must be one of %s", joinValues(RangeTypes()))
	case r.Type == RangeGit && blank(r.Repo):
		v.add(path+".repo", "is required for GIT ranges")
	}
	events := path + ".events"
	if len(r.Events) == 0 {
		v.add(events, "needs at least one event")
	}
	var introduced, fixed, lastAffected int
	for i, e := range r.Events {
		set := 0
		for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
			if s != "" {
				set++
			}
		}
		if set != 1 {
			v.add(index(events, i), "must set exactly one of introduced, fixed, last_affected or limit to a non-empty string")
			continue
		}
		switch {
		case e.Introduced != "":
			introduced++
		case e.Fixed != "":
			fixed++
		case e.LastAffected != "":
			lastAffected++
		}
	}
	if len(r.Events) > 0 && introduced == 0 {
		v.add(events, "needs at least one introduced event")
	}
	if fixed > 0 && lastAffected > 0 {
		v.add(events, "must not contain both fixed and last_affected events")
	}
	v.object(path+".database_specific", r.DatabaseSpecific)
}

// object checks that an optional raw JSON member, when present, is an
// object.
func (v *validator) object(path string, raw json.RawMessage) {
	if raw == nil {
		return
	}
	var m map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &m) != nil {
		v.add(path, "must be a JSON object")
	}
}

func (v *validator) severity(path string, s Severity) {
	if !s.Type.Valid() {
		v.add(path+".type", "must be one of %s", joinValues(SeverityTypes()))
	}
	switch {
	case blank(s.Score):
		v.add(path+".score", "is required")
	case s.Type == SeverityUbuntu:
		if !slices.Contains(UbuntuPriorities(), s.Score) {
			v.add(path+".score", "must be one of %s", strings.Join(UbuntuPriorities(), ", "))
		}
	case s.Type.Valid():
		if _, err := CVSSBaseScore(s.Type, s.Score); err != nil {
			v.add(path+".score", "%v", err)
		}
	}
}

func (v *validator) cwe(path, id string, seen map[string]bool) {
	defer func() { seen[id] = true }()
	if !cweIDPattern.MatchString(id) {
		v.add(path, "must be a CWE id such as CWE-79")
		return
	}
	if seen[id] {
		v.add(path, "duplicates an earlier CWE id")
		return
	}
	_, ok, err := lookupCWE(id)
	switch {
	case err != nil:
		v.add(path, "cannot be checked: %v", err)
	case !ok:
		v.add(path, "is not a weakness in the MITRE CWE catalogue %s", CWEVersion())
	}
}

func (v *validator) credit(path string, c Credit) {
	if blank(c.Name) {
		v.add(path+".name", "is required")
	}
	if c.Type != "" && !c.Type.Valid() {
		v.add(path+".type", "must be one of %s", joinValues(CreditTypes()))
	}
	for i, ct := range c.Contact {
		if blank(ct) {
			v.add(index(path+".contact", i), "must not be empty")
		}
	}
}

func joinValues[T ~string](vals []T) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// comparePaths orders field paths with bracketed indexes compared as
// numbers, so affected[2] sorts before affected[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		ad, bd := isDigit(a[0]), isDigit(b[0])
		if ad && bd {
			na, ra := leadingDigits(a)
			nb, rb := leadingDigits(b)
			if c := compareNumbers(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// compareNumbers compares decimal digit strings numerically.
func compareNumbers(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
