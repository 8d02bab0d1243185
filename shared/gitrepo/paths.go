package gitrepo

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Default path templates (publication-formats.md §5).
const (
	DefaultOSVTemplate  = "osv/{year}/{advisory_id}.json"
	DefaultCSAFTemplate = "csaf/{year}/{advisory_id}.json"
	DefaultCVETemplate  = "cves/{year}/{bucket}/{cve_id}.json"
)

// Templates are the path templates of the three documents. Placeholders:
// OSV and CSAF take {year} (the year of first publication) and
// {advisory_id}; CVE takes {year}, {bucket} and {cve_id}, all derived from
// the CVE id (cvelistV5 layout). {advisory_id_lower} (OSV, CSAF) is the
// advisory id in lower case: CSAF 2.0 §5.1 wants the CSAF file name to be
// the lower-cased tracking id, so a CSAF trusted provider uses
// "csaf/{year}/{advisory_id_lower}.json". Unknown placeholders are an
// error. A zero field means the default.
type Templates struct {
	OSV  string
	CSAF string
	CVE  string
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

var (
	advisoryVars = []string{"{year}", "{advisory_id}", "{advisory_id_lower}"}
	cveVars      = []string{"{year}", "{bucket}", "{cve_id}"}
)

func (t Templates) withDefaults() Templates {
	if t.OSV == "" {
		t.OSV = DefaultOSVTemplate
	}
	if t.CSAF == "" {
		t.CSAF = DefaultCSAFTemplate
	}
	if t.CVE == "" {
		t.CVE = DefaultCVETemplate
	}
	return t
}

// validate checks every template by expanding it with sample values.
func (t Templates) validate() error {
	t = t.withDefaults()
	if _, err := t.OSVPath("ECL-abcd-efgh-ijkl", 2026); err != nil {
		return err
	}
	if _, err := t.CSAFPath("ECL-abcd-efgh-ijkl", 2026); err != nil {
		return err
	}
	_, err := t.CVEPath("CVE-2026-12345")
	return err
}

// OSVPath returns the OSV document's path for an advisory first published
// in year.
func (t Templates) OSVPath(advisoryID string, year int) (string, error) {
	return expandAdvisory("OSV", t.withDefaults().OSV, advisoryID, year)
}

// CSAFPath returns the CSAF document's path for an advisory first
// published in year.
func (t Templates) CSAFPath(advisoryID string, year int) (string, error) {
	return expandAdvisory("CSAF", t.withDefaults().CSAF, advisoryID, year)
}

// CVEPath returns the CVE record's path; year and bucket come from the id
// (CVE-2026-0001 → 2026/0xxx, CVE-2026-12345 → 2026/12xxx).
func (t Templates) CVEPath(cveID string) (string, error) {
	year, bucket := CVEBucket(cveID)
	return expand("CVE", t.withDefaults().CVE, cveVars, map[string]string{
		"{year}": year, "{bucket}": bucket, "{cve_id}": cveID,
	})
}

func expandAdvisory(kind, tmpl, advisoryID string, year int) (string, error) {
	return expand(kind, tmpl, advisoryVars, map[string]string{
		"{year}":              strconv.Itoa(year),
		"{advisory_id}":       advisoryID,
		"{advisory_id_lower}": strings.ToLower(advisoryID),
	})
}

// CVEBucket splits a CVE id into the cvelistV5 year and bucket: the
// sequence number divided by 1000 followed by "xxx". A non-numeric sequence
// gives bucket "xxx"; any other shape gives year "unknown", bucket "xxx".
func CVEBucket(cveID string) (year, bucket string) {
	parts := strings.Split(cveID, "-")
	if len(parts) != 3 || parts[0] != "CVE" {
		return "unknown", "xxx"
	}
	seq, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil || parts[2] == "" || strings.TrimLeft(parts[2], "0123456789") != "" {
		return parts[1], "xxx"
	}
	return parts[1], strconv.FormatUint(seq/1000, 10) + "xxx"
}

func expand(kind, tmpl string, allowed []string, values map[string]string) (string, error) {
	var bad []string
	out := placeholder.ReplaceAllStringFunc(tmpl, func(ph string) string {
		for _, a := range allowed {
			if ph == a {
				return values[ph]
			}
		}
		bad = append(bad, ph)
		return ph
	})
	if len(bad) > 0 {
		return "", &Error{Op: "path", Kind: ErrConfig,
			Detail: fmt.Sprintf("%s path template %q: unknown placeholder %s", kind, tmpl, strings.Join(bad, ", "))}
	}
	if strings.ContainsAny(out, "{}") {
		return "", &Error{Op: "path", Kind: ErrConfig, Detail: fmt.Sprintf("%s path template %q: unbalanced braces", kind, tmpl)}
	}
	if err := CheckPath(out); err != nil {
		return "", err
	}
	return out, nil
}

// CheckPath reports whether p is a safe path for a file in the publication
// tree (INV-PUB-8): relative, clean, slash-separated, no "." or ".."
// element, no ".git" element (in any case), no backslash, NUL or control
// character, and at most 4096 bytes.
func CheckPath(p string) error {
	bad := func(why string) error {
		return &Error{Op: "path", Kind: ErrPath, Detail: fmt.Sprintf("%q: %s", p, why)}
	}
	switch {
	case p == "":
		return bad("empty path")
	case len(p) > 4096:
		return bad("too long")
	case strings.HasPrefix(p, "/"):
		return bad("absolute path")
	case strings.ContainsAny(p, "\\\x00"):
		return bad("backslash or NUL")
	case path.Clean(p) != p:
		return bad("not a clean path")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("control character")
		}
	}
	for _, el := range strings.Split(p, "/") {
		switch {
		case el == "." || el == "..":
			return bad("dot element")
		case strings.EqualFold(strings.TrimRight(el, ". "), ".git"):
			return bad(".git element")
		}
	}
	return nil
}
