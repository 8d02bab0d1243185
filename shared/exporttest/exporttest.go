// Package exporttest holds the advisory payloads the publication exporters
// (shared/osv, shared/csaf, shared/cverecord) are tested with, and the
// golden-file helper their tests share. Only tests import it.
package exporttest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Golden compares got with testdata/<test name>/<name>.json, or rewrites
// the file when the test binary runs with -update.
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	test := t.Name()
	if i := bytes.IndexByte([]byte(test), '/'); i >= 0 {
		test = test[:i]
	}
	path := filepath.Join("testdata", test, name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; rerun with -update if intended):\n%s", path, diff)
	}
}

// Dates of the fixture's versions; sub-millisecond digits are there to be
// truncated.
var (
	V1Date = time.Date(2026, 1, 12, 9, 30, 0, 123456789, time.UTC)
	V3Date = time.Date(2026, 2, 3, 14, 5, 6, 789999999, time.UTC)
	V5Date = time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.FixedZone("CET", 3600))
	V6Date = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	// PublishedAt is the live advisory's first publication.
	PublishedAt = time.Date(2026, 1, 12, 9, 31, 2, 0, time.UTC)
)

// CNA identity used with the CVE records.
const (
	AssignerOrgID     = "0f6a2e7e-8c3b-4d21-9a57-3e4b5c6d7e8f"
	AssignerShortName = "eclipse"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// Rich returns a payload with every field kind the exports map: several
// affected packages with ECOSYSTEM, SEMVER and GIT ranges, fixed /
// last_affected / limit events, explicit versions and purls, severity
// entries of every type (CVSS v2, v3.0, v3.1, v4.0, Ubuntu), two CWEs,
// credits of several types with contacts, references of every type plus
// an untyped one, aliases, raw ecosystem/database-specific JSON with
// numbers that must keep their spelling, an assigned CVE, and text with
// markup, non-ASCII and control characters.
func Rich() advisory.Payload {
	return advisory.Payload{
		AdvisoryID:  "ECL-q2f7-38cm-9wrx",
		ProjectSlug: "rt.jetty",
		ProjectName: "Eclipse Jetty",
		Content: advisory.Content{
			Summary: "HTTP/1.1 request smuggling in Jetty’s parser <chunked> & trailers",
			Details: "Jetty accepts a `Transfer-Encoding` header with\ttabs.\n\n" +
				"An attacker can smuggle a request past a proxy (see \"RFC 9112\" §6.1).\u2028" +
				"Line separator kept raw; a control char \x01 is escaped.",
			Aliases: []string{"GHSA-9x4m-c6fh-2wq3", "OSV-2026-17"},
			References: []advisory.Reference{
				{Type: advisory.RefAdvisory, URL: "https://github.com/jetty/jetty.project/security/advisories/GHSA-9x4m-c6fh-2wq3"},
				{Type: advisory.RefArticle, URL: "https://example.org/blog/jetty-smuggling"},
				{Type: advisory.RefDetection, URL: "https://example.org/detect/jetty.yaml"},
				{Type: advisory.RefDiscussion, URL: "https://github.com/jetty/jetty.project/discussions/1"},
				{Type: advisory.RefReport, URL: "https://github.com/jetty/jetty.project/issues/12345"},
				{Type: advisory.RefFix, URL: "https://github.com/jetty/jetty.project/pull/12346"},
				{Type: advisory.RefIntroduced, URL: "https://github.com/jetty/jetty.project/commit/1a2b3c4d"},
				{Type: advisory.RefGit, URL: "https://github.com/jetty/jetty.project"},
				{Type: advisory.RefPackage, URL: "https://central.sonatype.com/artifact/org.eclipse.jetty/jetty-http"},
				{Type: advisory.RefEvidence, URL: "https://example.org/poc/smuggle.py"},
				{Type: advisory.RefWeb, URL: "https://jetty.org/security.html"},
				{URL: "https://example.org/untyped?a=1&b=<2>"},
				{Type: advisory.RefWeb, URL: "https://jetty.org/security.html"},
			},
			Affected: []advisory.Affected{
				{
					Package: advisory.Package{Ecosystem: "Maven", Name: "org.eclipse.jetty:jetty-http", Purl: "pkg:maven/org.eclipse.jetty/jetty-http"},
					Ranges: []advisory.Range{{
						Type: advisory.RangeEcosystem,
						Events: []advisory.Event{
							{Introduced: "9.4.0"}, {Fixed: "9.4.57"},
							{Introduced: "10.0.0"}, {Fixed: "10.0.24"},
							{Introduced: "12.0.0"},
						},
						DatabaseSpecific: raw(`{"source":"advisoryhub","weight":1.50}`),
					}},
					Versions:          []string{"9.4.56", "9.4.57"},
					EcosystemSpecific: raw(`{"affected_functions":["org.eclipse.jetty.http.HttpParser.parseNext"],"ratio":1e3}`),
				},
				{
					Package: advisory.Package{Ecosystem: "npm", Name: "@eclipse-theia/core", Purl: "pkg:npm/%40eclipse-theia/core"},
					Ranges: []advisory.Range{{
						Type:   advisory.RangeSemver,
						Events: []advisory.Event{{Introduced: "0"}, {LastAffected: "1.2.3"}},
					}},
				},
				{
					Package: advisory.Package{Ecosystem: "GIT", Name: "https://github.com/jetty/jetty.project"},
					Ranges: []advisory.Range{
						{
							Type: advisory.RangeGit, Repo: "https://github.com/jetty/jetty.project",
							Events: []advisory.Event{{Introduced: "1a2b3c4d5e6f"}, {Fixed: "6f5e4d3c2b1a"}},
						},
						{
							Type: advisory.RangeGit, Repo: "https://github.com/jetty/jetty.project",
							Events: []advisory.Event{{Introduced: "0"}, {LastAffected: "0a1b2c3d"}, {Limit: "9f8e7d6c"}},
						},
					},
				},
				{
					Package:          advisory.Package{Ecosystem: "PyPI", Name: "eclipse-zenoh"},
					Versions:         []string{"0.10.0", "0.10.1rc1"},
					DatabaseSpecific: raw(`{"n":-0.0,"z":[1,2.50]}`),
				},
				{
					Package: advisory.Package{Ecosystem: "Debian:12", Name: "jetty9", Purl: "pkg:deb/debian/jetty9?distro=bookworm"},
					Ranges: []advisory.Range{{
						Type:   advisory.RangeEcosystem,
						Events: []advisory.Event{{Introduced: "0"}, {Fixed: "9.4.50-4+deb12u3"}},
					}},
				},
			},
			Severity: []advisory.Severity{
				{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"},
				{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:H/A:N"},
				{Type: advisory.SeverityCVSSV2, Score: "AV:N/AC:L/Au:N/C:N/I:P/A:N"},
				{Type: advisory.SeverityCVSSV4, Score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N"},
				{Type: advisory.SeverityUbuntu, Score: "high"},
				{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"},
			},
			CWEIDs: []string{"CWE-444", "CWE-79"},
			Credits: []advisory.Credit{
				{Name: "Ada Lovelace", Type: advisory.CreditFinder, Contact: []string{"https://example.org/~ada", "mailto:ada@example.org", "@ada"}},
				{Name: "Grace Hopper", Type: advisory.CreditReporter},
				{Name: "Jetty Team", Type: advisory.CreditRemediationDeveloper, Contact: []string{"https://jetty.org"}},
				{Name: "Fuzzer 3000", Type: advisory.CreditTool},
				{Name: "Anonymous"},
				{Name: "Grace Hopper", Type: advisory.CreditReporter},
			},
		},
		AssignedCVEID: "CVE-2026-12345",
		Kind:          advisory.KindNative,
	}
}

// Withdrawn is Rich withdrawn.
func Withdrawn() advisory.Payload {
	p := Rich()
	p.WithdrawnReason = "Duplicate of CVE-2026-11111; the issue is not in Jetty.\n"
	return p
}

// Minimal is a bare advisory: no summary, no affected package, no
// reference, no severity, no CVE.
func Minimal() advisory.Payload {
	return advisory.Payload{
		AdvisoryID:  "ECL-2222-3333-4444",
		ProjectSlug: "technology.example",
		Kind:        advisory.KindNative,
	}
}

// PackageSeverity has severities on the affected packages only (OSV
// forbids mixing them with top-level ones) and a GHSA-linked origin.
func PackageSeverity() advisory.Payload {
	return advisory.Payload{
		AdvisoryID:  "ECL-cf23-gh45-jm67",
		ProjectSlug: "iot.paho",
		ProjectName: "Eclipse Paho",
		Content: advisory.Content{
			Summary: "Denial of service in the MQTT client",
			Aliases: []string{"GHSA-aaaa-bbbb-cccc", "CVE-2025-0001", "CVE-2025-0002"},
			References: []advisory.Reference{
				{Type: advisory.RefAdvisory, URL: "https://github.com/eclipse/paho.mqtt.java/security/advisories/GHSA-aaaa-bbbb-cccc"},
			},
			Affected: []advisory.Affected{
				{
					Package:  advisory.Package{Ecosystem: "Maven", Name: "org.eclipse.paho:org.eclipse.paho.client.mqttv3", Purl: "pkg:maven/org.eclipse.paho/org.eclipse.paho.client.mqttv3"},
					Severity: []advisory.Severity{{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}},
					Ranges: []advisory.Range{{Type: advisory.RangeEcosystem,
						Events: []advisory.Event{{Introduced: "1.0.0"}, {Fixed: "1.2.6"}}}},
				},
				{
					Package:  advisory.Package{Ecosystem: "Go", Name: "github.com/eclipse/paho.golang"},
					Severity: []advisory.Severity{{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"}, {Type: advisory.SeverityUbuntu, Score: "medium"}},
					Ranges: []advisory.Range{{Type: advisory.RangeSemver,
						Events: []advisory.Event{{Introduced: "0"}, {Fixed: "0.21.0"}}}},
				},
			},
			CWEIDs: []string{"CWE-400"},
		},
		Kind:      advisory.KindGHSALinked,
		GHSAID:    "GHSA-aaaa-bbbb-cccc",
		GHSAOwner: "eclipse",
		GHSARepo:  "paho.mqtt.java",
	}
}
