package advisory

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// validContent exercises every field with acceptable values.
func validContent() Content {
	return Content{
		Summary: "Example XSS",
		Details: "Trust me, it's bad.",
		Aliases: []string{"CVE-2026-1234", "GHSA-xxxx-yyyy-zzzz"},
		References: []Reference{
			{Type: RefAdvisory, URL: "https://example.org/a"},
			{URL: "ftp://ftp.example.org/pub/x"}, // missing type = WEB
		},
		Affected: []Affected{
			{
				Package: Package{Ecosystem: "Maven", Name: "org.example:lib", Purl: "pkg:maven/org.example/lib"},
				Ranges: []Range{{
					Type:   RangeEcosystem,
					Events: []Event{{Introduced: "1.0.0"}, {Fixed: "1.0.5"}},
				}},
				EcosystemSpecific: json.RawMessage(`{"imports": ["x"]}`),
			},
			{
				Package:  Package{Ecosystem: "Debian:12", Name: "libfoo"},
				Versions: []string{"1.2-1"},
			},
			{
				Package: Package{Ecosystem: "GIT", Name: "https://github.com/eclipse/x"},
				Ranges: []Range{{
					Type:   RangeGit,
					Repo:   "https://github.com/eclipse/x",
					Events: []Event{{Introduced: "0"}, {LastAffected: "abc123"}, {Limit: "def456"}},
				}},
			},
		},
		Severity: []Severity{
			{Type: SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"},
			{Type: SeverityUbuntu, Score: "negligible"},
		},
		CWEIDs:  []string{"CWE-79", "CWE-1004"},
		Credits: []Credit{{Name: "Reporter Name", Type: CreditReporter, Contact: []string{"mailto:r@example.org"}}, {Name: "Anon"}},
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Content)
	}{
		{"full", func(*Content) {}},
		{"empty content", func(c *Content) { *c = Content{} }},
		{"empty summary", func(c *Content) { c.Summary = "" }},
		{"summary of 300 multi-byte characters", func(c *Content) { c.Summary = strings.Repeat("é", 300) }},
		{"alias equal to a CVE id", func(c *Content) { c.Aliases = []string{"CVE-2026-0001"} }},
		{"upper-case URL scheme", func(c *Content) { c.References[0].URL = "HTTPS://EXAMPLE.ORG/" }},
		{"ftps and http", func(c *Content) {
			c.References = []Reference{{Type: RefWeb, URL: "ftps://e.org/x"}, {Type: RefFix, URL: "http://e.org"}}
		}},
		{"every reference type", func(c *Content) {
			c.References = nil
			for _, rt := range ReferenceTypes() {
				c.References = append(c.References, Reference{Type: rt, URL: "https://e.org/" + string(rt)})
			}
		}},
		{"ecosystems npm PyPI Go crates.io", func(c *Content) {
			c.Affected = nil
			for _, e := range []string{"npm", "PyPI", "Go", "crates.io", "Ubuntu:22.04:LTS", "Red Hat:rhel_aus:8.4::appstream"} {
				c.Affected = append(c.Affected, Affected{Package: Package{Ecosystem: e, Name: "p"}, Versions: []string{"1"}})
			}
		}},
		{"SEMVER range with limit", func(c *Content) {
			c.Affected[0].Ranges[0] = Range{Type: RangeSemver, Events: []Event{{Introduced: "0"}, {Limit: "2.0.0"}}}
		}},
		{"ranges and versions together", func(c *Content) { c.Affected[0].Versions = []string{"1.0.0", "1.0.1"} }},
		{"range database_specific object", func(c *Content) { c.Affected[0].Ranges[0].DatabaseSpecific = json.RawMessage(` {"x": 1}`) }},
		{"every severity type", func(c *Content) {
			c.Severity = []Severity{
				{Type: SeverityCVSSV2, Score: "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
				{Type: SeverityCVSSV3, Score: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
				{Type: SeverityCVSSV4, Score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
				{Type: SeverityUbuntu, Score: "critical"},
			}
		}},
		{"per-affected severity", func(c *Content) {
			c.Severity = nil
			c.Affected[0].Severity = []Severity{{Type: SeverityUbuntu, Score: "low"}}
		}},
		{"every credit type", func(c *Content) {
			c.Credits = nil
			for _, ct := range CreditTypes() {
				c.Credits = append(c.Credits, Credit{Name: string(ct), Type: ct})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validContent()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Content)
		want   []Problem
	}{
		// summary
		{"summary too long", func(c *Content) { c.Summary = strings.Repeat("x", 301) },
			[]Problem{{"summary", "must be at most 300 characters (has 301)"}}},

		// aliases
		{"empty alias", func(c *Content) { c.Aliases = append(c.Aliases, "") },
			[]Problem{{"aliases[2]", "must not be empty"}}},
		{"blank alias", func(c *Content) { c.Aliases[0] = " \t" },
			[]Problem{{"aliases[0]", "must not be empty"}}},
		{"duplicate alias", func(c *Content) { c.Aliases = append(c.Aliases, "CVE-2026-1234") },
			[]Problem{{"aliases[2]", "duplicates an earlier alias"}}},

		// references
		{"reference without url", func(c *Content) { c.References[1].URL = "" },
			[]Problem{{"references[1].url", "is required"}}},
		{"javascript url", func(c *Content) { c.References[0].URL = "javascript:alert(1)" },
			[]Problem{{"references[0].url", "must be an http, https, ftp or ftps URL"}}},
		{"file url", func(c *Content) { c.References[0].URL = "file:///etc/passwd" },
			[]Problem{{"references[0].url", "must be an http, https, ftp or ftps URL"}}},
		{"relative url", func(c *Content) { c.References[0].URL = "/advisories/1" },
			[]Problem{{"references[0].url", "must be an http, https, ftp or ftps URL"}}},
		{"url without host", func(c *Content) { c.References[0].URL = "https:///x" },
			[]Problem{{"references[0].url", "must name a host"}}},
		// Found by FuzzExportValid: Go's URL parser takes "<" in a host,
		// but the CSAF export must percent-encode it there, which no URI
		// parser accepts, so publication would fail late.
		{"url with < in the host", func(c *Content) { c.References[0].URL = "https://github<com/jetty/issues/1" },
			[]Problem{{"references[0].url", "must name a valid host"}}},
		{"url with a quote in the host", func(c *Content) { c.References[0].URL = `https://a"b.example.org/` },
			[]Problem{{"references[0].url", "must name a valid host"}}},
		{"url with space", func(c *Content) { c.References[0].URL = "https://example.org/a b" },
			[]Problem{{"references[0].url", "must not contain spaces or control characters"}}},
		{"url too long", func(c *Content) { c.References[0].URL = "https://e.org/" + strings.Repeat("a", 2048) },
			[]Problem{{"references[0].url", "must be at most 2048 characters"}}},
		{"unknown reference type", func(c *Content) { c.References[0].Type = "BLOG" },
			[]Problem{{"references[0].type", "must be one of ADVISORY, ARTICLE, DETECTION, DISCUSSION, REPORT, FIX, INTRODUCED, GIT, PACKAGE, EVIDENCE, WEB"}}},
		{"lower-case reference type", func(c *Content) { c.References[0].Type = "web" },
			[]Problem{{"references[0].type", "must be one of ADVISORY, ARTICLE, DETECTION, DISCUSSION, REPORT, FIX, INTRODUCED, GIT, PACKAGE, EVIDENCE, WEB"}}},

		// affected: package
		{"package without name", func(c *Content) { c.Affected[1].Package.Name = " " },
			[]Problem{{"affected[1].package.name", "is required"}}},
		{"package without ecosystem", func(c *Content) { c.Affected[1].Package.Ecosystem = "" },
			[]Problem{{"affected[1].package.ecosystem", "is required"}}},
		{"unknown ecosystem", func(c *Content) { c.Affected[1].Package.Ecosystem = "Gradle" },
			[]Problem{{"affected[1].package.ecosystem", "is not a recognised OSV ecosystem (optionally followed by :suffix)"}}},
		{"ecosystem wrong case", func(c *Content) { c.Affected[1].Package.Ecosystem = "maven" },
			[]Problem{{"affected[1].package.ecosystem", "is not a recognised OSV ecosystem (optionally followed by :suffix)"}}},
		{"ecosystem empty suffix", func(c *Content) { c.Affected[1].Package.Ecosystem = "Debian:" },
			[]Problem{{"affected[1].package.ecosystem", "is not a recognised OSV ecosystem (optionally followed by :suffix)"}}},
		{"ecosystem suffix with newline", func(c *Content) { c.Affected[1].Package.Ecosystem = "Debian:12\n" },
			[]Problem{{"affected[1].package.ecosystem", "is not a recognised OSV ecosystem (optionally followed by :suffix)"}}},
		{"purl without scheme", func(c *Content) { c.Affected[0].Package.Purl = "maven/org.example/lib" },
			[]Problem{{"affected[0].package.purl", "must be a package URL of the form pkg:type/name"}}},
		{"purl without name", func(c *Content) { c.Affected[0].Package.Purl = "pkg:maven/" },
			[]Problem{{"affected[0].package.purl", "must be a package URL of the form pkg:type/name"}}},
		{"purl with space", func(c *Content) { c.Affected[0].Package.Purl = "pkg:maven/org.example/lib x" },
			[]Problem{{"affected[0].package.purl", "must be a package URL of the form pkg:type/name"}}},
		{"purl with unicode space", func(c *Content) { c.Affected[0].Package.Purl = "pkg:maven/lib\u00a0x" },
			[]Problem{{"affected[0].package.purl", "must be a package URL of the form pkg:type/name"}}},
		{"purl with trailing newline", func(c *Content) { c.Affected[0].Package.Purl = "pkg:maven/lib\n" },
			[]Problem{{"affected[0].package.purl", "must be a package URL of the form pkg:type/name"}}},
		{"neither ranges nor versions", func(c *Content) { c.Affected[1].Versions = nil },
			[]Problem{{"affected[1]", "needs at least one of ranges or versions"}}},
		{"empty version", func(c *Content) { c.Affected[1].Versions = []string{"1", ""} },
			[]Problem{{"affected[1].versions[1]", "must not be empty"}}},
		{"database_specific not an object", func(c *Content) { c.Affected[1].DatabaseSpecific = json.RawMessage(`[1]`) },
			[]Problem{{"affected[1].database_specific", "must be a JSON object"}}},
		{"ecosystem_specific null", func(c *Content) { c.Affected[1].EcosystemSpecific = json.RawMessage(`null`) },
			[]Problem{{"affected[1].ecosystem_specific", "must be a JSON object"}}},

		// affected: ranges
		{"range without type", func(c *Content) { c.Affected[0].Ranges[0].Type = "" },
			[]Problem{{"affected[0].ranges[0].type", "is required"}}},
		{"unknown range type", func(c *Content) { c.Affected[0].Ranges[0].Type = "SEMVER2" },
			[]Problem{{"affected[0].ranges[0].type", "must be one of SEMVER, ECOSYSTEM, GIT"}}},
		{"GIT range without repo", func(c *Content) { c.Affected[2].Ranges[0].Repo = "" },
			[]Problem{{"affected[2].ranges[0].repo", "is required for GIT ranges"}}},
		{"range without events", func(c *Content) { c.Affected[0].Ranges[0].Events = nil },
			[]Problem{{"affected[0].ranges[0].events", "needs at least one event"}}},
		{"event with two keys", func(c *Content) {
			c.Affected[0].Ranges[0].Events[1] = Event{Fixed: "1.0.5", Limit: "2"}
		}, []Problem{{"affected[0].ranges[0].events[1]", "must set exactly one of introduced, fixed, last_affected or limit to a non-empty string"}}},
		{"empty event", func(c *Content) {
			c.Affected[0].Ranges[0].Events = append(c.Affected[0].Ranges[0].Events, Event{})
		}, []Problem{{"affected[0].ranges[0].events[2]", "must set exactly one of introduced, fixed, last_affected or limit to a non-empty string"}}},
		{"no introduced event", func(c *Content) {
			c.Affected[0].Ranges[0].Events = []Event{{Fixed: "1.0.5"}}
		}, []Problem{{"affected[0].ranges[0].events", "needs at least one introduced event"}}},
		{"fixed and last_affected", func(c *Content) {
			c.Affected[0].Ranges[0].Events = append(c.Affected[0].Ranges[0].Events, Event{LastAffected: "1.0.4"})
		}, []Problem{{"affected[0].ranges[0].events", "must not contain both fixed and last_affected events"}}},
		{"range database_specific string", func(c *Content) { c.Affected[0].Ranges[0].DatabaseSpecific = json.RawMessage(`"x"`) },
			[]Problem{{"affected[0].ranges[0].database_specific", "must be a JSON object"}}},

		// severity
		{"unknown severity type", func(c *Content) { c.Severity[0].Type = "CVSS_V5" },
			[]Problem{{"severity[0].type", "must be one of CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu"}}},
		{"missing score", func(c *Content) { c.Severity[0].Score = "" },
			[]Problem{{"severity[0].score", "is required"}}},
		{"CVSS_V3 given a v4 vector", func(c *Content) {
			c.Severity[0].Score = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
		}, []Problem{{"severity[0].score", "CVSS:4.0 vector does not match type CVSS_V3"}}},
		{"CVSS_V4 given a v3.1 vector", func(c *Content) {
			c.Severity[0] = Severity{Type: SeverityCVSSV4, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}
		}, []Problem{{"severity[0].score", "CVSS:3.1 vector does not match type CVSS_V4"}}},
		{"CVSS_V2 given a v3 vector", func(c *Content) {
			c.Severity[0] = Severity{Type: SeverityCVSSV2, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}
		}, []Problem{{"severity[0].score", "CVSS_V2 takes a v2 vector without a CVSS: header, such as AV:N/AC:L/Au:N/C:P/I:P/A:P"}}},
		{"CVSS_V3 garbage", func(c *Content) { c.Severity[0].Score = "9.8" },
			[]Problem{{"severity[0].score", "CVSS_V3 takes a vector starting CVSS:3.0/ or CVSS:3.1/"}}},
		{"CVSS v3.1 missing metric", func(c *Content) { c.Severity[0].Score = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L" },
			[]Problem{{"severity[0].score", "invalid CVSS v3.1 vector: base metric A is not defined"}}},
		{"Ubuntu capitalised", func(c *Content) { c.Severity[1].Score = "Medium" },
			[]Problem{{"severity[1].score", "must be one of negligible, low, medium, high, critical"}}},
		{"per-affected severity", func(c *Content) {
			c.Severity = nil
			c.Affected[1].Severity = []Severity{{Type: SeverityUbuntu, Score: "urgent"}}
		}, []Problem{{"affected[1].severity[0].score", "must be one of negligible, low, medium, high, critical"}}},
		// OSV: one or the other (found by FuzzExportValid; the export
		// would fail the schema at publication).
		{"severity both top-level and per package", func(c *Content) {
			c.Affected[1].Severity = []Severity{{Type: SeverityUbuntu, Score: "low"}}
		}, []Problem{{"affected[1].severity", "must be empty when the advisory has a top-level severity (OSV allows one or the other)"}}},
		// The pinned OSV schema's enum, not a newer list (publication-formats §1).
		{"ecosystem the schema does not know", func(c *Content) { c.Affected[0].Package.Ecosystem = "TuxCare" },
			[]Problem{{"affected[0].package.ecosystem", "is not a recognised OSV ecosystem (optionally followed by :suffix)"}}},

		// cwe_ids
		{"lower-case cwe", func(c *Content) { c.CWEIDs[1] = "cwe-79" },
			[]Problem{{"cwe_ids[1]", "must be a CWE id such as CWE-79"}}},
		{"bare number", func(c *Content) { c.CWEIDs[1] = "79" },
			[]Problem{{"cwe_ids[1]", "must be a CWE id such as CWE-79"}}},
		{"leading zero", func(c *Content) { c.CWEIDs[1] = "CWE-079" },
			[]Problem{{"cwe_ids[1]", "must be a CWE id such as CWE-79"}}},
		{"category id", func(c *Content) { c.CWEIDs[1] = "CWE-16" }, // Configuration (category)
			[]Problem{{"cwe_ids[1]", "is not a weakness in the MITRE CWE catalogue 4.15"}}},
		{"view id", func(c *Content) { c.CWEIDs[1] = "CWE-1000" }, // Research Concepts (view)
			[]Problem{{"cwe_ids[1]", "is not a weakness in the MITRE CWE catalogue 4.15"}}},
		{"unknown id", func(c *Content) { c.CWEIDs[1] = "CWE-999999" },
			[]Problem{{"cwe_ids[1]", "is not a weakness in the MITRE CWE catalogue 4.15"}}},
		{"duplicate cwe", func(c *Content) { c.CWEIDs[1] = "CWE-79" },
			[]Problem{{"cwe_ids[1]", "duplicates an earlier CWE id"}}},

		// credits
		{"credit without name", func(c *Content) { c.Credits[1].Name = "" },
			[]Problem{{"credits[1].name", "is required"}}},
		{"unknown credit type", func(c *Content) { c.Credits[0].Type = "AUTHOR" },
			[]Problem{{"credits[0].type", "must be one of FINDER, REPORTER, ANALYST, COORDINATOR, REMEDIATION_DEVELOPER, REMEDIATION_REVIEWER, REMEDIATION_VERIFIER, TOOL, SPONSOR, OTHER"}}},
		{"empty contact", func(c *Content) { c.Credits[0].Contact = []string{""} },
			[]Problem{{"credits[0].contact[0]", "must not be empty"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validContent()
			tt.mutate(&c)
			if diff := cmp.Diff(tt.want, problems(t, c.Validate())); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// problems returns the problems of a *ValidationError (nil for nil).
func problems(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	return ve.Problems
}

func TestValidateAllProblemsAtOnce(t *testing.T) {
	c := validContent()
	c.Summary = strings.Repeat("s", 301)
	c.Aliases = []string{""}
	c.References[0].URL = "gopher://x"
	c.CWEIDs = []string{"CWE-16"}
	c.Credits[0] = Credit{Type: "X"}
	c.Severity[0].Score = ""
	// Eleven affected entries; 2 and 10 are broken, to check that indexes
	// sort numerically.
	for len(c.Affected) < 11 {
		c.Affected = append(c.Affected, c.Affected[1])
	}
	c.Affected[10] = Affected{Package: Package{Ecosystem: "nope", Name: "x"}, Versions: []string{"1"}}
	c.Affected[2].Ranges[0].Repo = ""
	c.Affected[2].Ranges[0].Events = []Event{{Fixed: "1"}, {LastAffected: "2"}}

	err := c.Validate()
	want := []Problem{
		{"affected[2].ranges[0].events", "must not contain both fixed and last_affected events"},
		{"affected[2].ranges[0].events", "needs at least one introduced event"},
		{"affected[2].ranges[0].repo", "is required for GIT ranges"},
		{"affected[10].package.ecosystem", "is not a recognised OSV ecosystem (optionally followed by :suffix)"},
		{"aliases[0]", "must not be empty"},
		{"credits[0].name", "is required"},
		{"credits[0].type", "must be one of FINDER, REPORTER, ANALYST, COORDINATOR, REMEDIATION_DEVELOPER, REMEDIATION_REVIEWER, REMEDIATION_VERIFIER, TOOL, SPONSOR, OTHER"},
		{"cwe_ids[0]", "is not a weakness in the MITRE CWE catalogue 4.15"},
		{"references[0].url", "must be an http, https, ftp or ftps URL"},
		{"severity[0].score", "is required"},
		{"summary", "must be at most 300 characters (has 301)"},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !errors.Is(err, apperr.Invalid) || apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("error does not unwrap to apperr.Invalid: %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid advisory content: affected[2].ranges[0].events: must not contain") ||
		!strings.HasSuffix(msg, "; summary: must be at most 300 characters (has 301)") {
		t.Errorf("Error() = %q", msg)
	}
	var ve *ValidationError
	errors.As(err, &ve)
	byPath := ve.ByPath()
	if got, want := byPath["affected[2].ranges[0].events"], "must not contain both fixed and last_affected events; needs at least one introduced event"; got != want {
		t.Errorf("ByPath events = %q, want %q", got, want)
	}
}

func TestComparePaths(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"affected[2]", "affected[10]", -1},
		{"affected[10].x", "affected[9].x", 1},
		{"affected[1]", "affected[1].package.name", -1},
		{"aliases[0]", "affected[0]", 1},
		{"summary", "summary", 0},
		{"x[007]", "x[7]", 0},
	}
	for _, tt := range tests {
		got := comparePaths(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("comparePaths(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestContentJSON(t *testing.T) {
	var c Content
	in := `{"summary":"s","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},` +
		`"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}],` +
		`"database_specific":{"b":1,"a":2}}],"references":[{"url":"https://e.org"}]}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"summary":"s","details":"","aliases":[],"references":[{"url":"https://e.org"}],` +
		`"affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}],` +
		`"database_specific":{"b":1,"a":2}}],"severity":[],"cwe_ids":[],"credits":[]}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	if got := c.References[0].EffectiveType(); got != RefWeb {
		t.Errorf("EffectiveType = %q, want WEB", got)
	}
}
