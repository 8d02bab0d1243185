package csaf_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/csaf"
	"github.com/eclipse-csi/advisoryhub/shared/exporttest"
	"github.com/eclipse-csi/advisoryhub/shared/schemacheck"
)

type testCase struct {
	name string
	in   csaf.Input
}

func cases() []testCase {
	earlier := []csaf.Publication{
		{VersionNumber: 3, Date: exporttest.V3Date},
		{VersionNumber: 1, Date: exporttest.V1Date},
		{VersionNumber: 3, Date: exporttest.V3Date}, // a second push of version 3
		{VersionNumber: 7, Date: exporttest.V6Date}, // later than the pinned version: ignored
	}
	return []testCase{
		{"rich", csaf.Input{Payload: exporttest.Rich(), VersionNumber: 3, Date: exporttest.V3Date}},
		{"republished", csaf.Input{Payload: exporttest.Rich(), VersionNumber: 5, Date: exporttest.V5Date, Earlier: earlier,
			CanonicalURL: "https://example.org/advisories/csaf/2026/ecl-q2f7-38cm-9wrx.json", GeneratorVersion: "1.4.0"}},
		{"withdrawn", csaf.Input{Payload: exporttest.Withdrawn(), VersionNumber: 6, Date: exporttest.V6Date,
			Earlier: []csaf.Publication{{VersionNumber: 1, Date: exporttest.V1Date}, {VersionNumber: 5, Date: exporttest.V5Date}}}},
		{"minimal", csaf.Input{Payload: exporttest.Minimal(), VersionNumber: 1, Date: exporttest.V1Date}},
		{"package_severity", csaf.Input{Payload: exporttest.PackageSeverity(), VersionNumber: 2, Date: exporttest.V5Date}},
	}
}

// TestGolden builds the CSAF document of each fixture, validates it
// against the vendored CSAF 2.0 schema and gocsaf's checks, and compares it
// with testdata/TestGolden/<case>.json (-update rewrites).
func TestGolden(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := csaf.Build(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemacheck.ValidateCSAF(got); err != nil {
				t.Errorf("schema: %v", err)
			}
			exporttest.Golden(t, c.name, got)
		})
	}
}

func TestDeterministic(t *testing.T) {
	base := cases()[1].in
	a, err := csaf.Build(base)
	if err != nil {
		t.Fatal(err)
	}
	b, err := csaf.Build(base)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same input differ")
	}
	// ids are sorted and the publication history is ordered by version:
	// input order does not matter.
	r := rand.New(rand.NewPCG(3, 4))
	for range 10 {
		in := base
		in.Earlier = slices.Clone(base.Earlier)
		r.Shuffle(len(in.Earlier), func(i, j int) { in.Earlier[i], in.Earlier[j] = in.Earlier[j], in.Earlier[i] })
		in.Payload = exporttest.Rich()
		r.Shuffle(len(in.Payload.Content.Aliases), func(i, j int) {
			in.Payload.Content.Aliases[i], in.Payload.Content.Aliases[j] = in.Payload.Content.Aliases[j], in.Payload.Content.Aliases[i]
		})
		c, err := csaf.Build(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, c) {
			t.Fatalf("shuffled input (%v, %v) gives different bytes", in.Earlier, in.Payload.Content.Aliases)
		}
	}
}

func decode(t *testing.T, b []byte) csaf.Document {
	t.Helper()
	var d csaf.Document
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTracking(t *testing.T) {
	c := cases()
	rich, err := csaf.Build(c[0].in)
	if err != nil {
		t.Fatal(err)
	}
	tr := decode(t, rich).Document.Tracking
	if tr.Version != "1" || len(tr.RevisionHistory) != 1 || tr.InitialReleaseDate != "2026-02-03T14:05:06.789Z" ||
		tr.CurrentReleaseDate != tr.InitialReleaseDate || tr.Status != "final" || tr.ID != "ECL-q2f7-38cm-9wrx" {
		t.Errorf("first publication tracking: %+v", tr)
	}
	re, err := csaf.Build(c[1].in)
	if err != nil {
		t.Fatal(err)
	}
	tr = decode(t, re).Document.Tracking
	var got []string
	for _, r := range tr.RevisionHistory {
		got = append(got, r.Number+" "+r.Date+" "+r.Summary)
	}
	want := []string{
		"1 2026-01-12T09:30:00.123Z Initial publication",
		"2 2026-02-03T14:05:06.789Z Update (advisory version 3)",
		"3 2026-03-04T04:06:07.891Z Update (advisory version 5)",
	}
	if !slices.Equal(got, want) || tr.Version != "3" || tr.InitialReleaseDate != "2026-01-12T09:30:00.123Z" ||
		tr.CurrentReleaseDate != "2026-03-04T04:06:07.891Z" {
		t.Errorf("re-publication tracking: %+v\nrevisions %q", tr, got)
	}
	wd, err := csaf.Build(c[2].in)
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, wd)
	if h := d.Document.Tracking.RevisionHistory; len(h) != 3 || h[2].Summary != "Advisory withdrawn" || d.Document.Tracking.Status != "final" {
		t.Errorf("withdrawal tracking: %+v", d.Document.Tracking)
	}
	if len(d.Document.Notes) != 1 || d.Document.Notes[0].Title != "Withdrawn" || !strings.HasPrefix(d.Document.Notes[0].Text, "Duplicate of") {
		t.Errorf("withdrawal note: %+v", d.Document.Notes)
	}
	// A publication history going back in time is refused.
	bad := c[1].in
	bad.Earlier = []csaf.Publication{{VersionNumber: 1, Date: exporttest.V6Date}}
	if _, err := csaf.Build(bad); err == nil {
		t.Error("revision dated after the current one accepted")
	}
}

func TestVulnerabilityMapping(t *testing.T) {
	out, err := csaf.Build(cases()[0].in)
	if err != nil {
		t.Fatal(err)
	}
	v := decode(t, out).Vulnerabilities[0]
	if v.CVE != "CVE-2026-12345" {
		t.Errorf("cve = %q", v.CVE)
	}
	if v.CWE == nil || v.CWE.ID != "CWE-444" || v.CWE.Name != "Inconsistent Interpretation of HTTP Requests ('HTTP Request/Response Smuggling')" {
		t.Errorf("cwe = %+v, want the catalogue name", v.CWE)
	}
	var ids []string
	for _, id := range v.IDs {
		ids = append(ids, id.Text)
	}
	if !slices.Equal(ids, []string{"GHSA-9x4m-c6fh-2wq3", "OSV-2026-17"}) {
		t.Errorf("ids = %v", ids)
	}
	// One score per CVSS version and product; v4.0 as a note.
	for _, s := range v.Scores {
		if s.CVSSv3 != nil && s.CVSSv3.VectorString == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N" && float64(s.CVSSv3.BaseScore) != 7.5 {
			t.Errorf("score %+v", s.CVSSv3)
		}
	}
	if len(v.Scores) != 3 {
		t.Errorf("want 3 scores (v3.1, v3.0, v2.0), got %d", len(v.Scores))
	}
	if !strings.Contains(string(out), `"text": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N (score 8.7, HIGH)"`) {
		t.Error("CVSS v4.0 note missing")
	}
	if !strings.Contains(string(out), `"baseScore": 5.0`) {
		t.Error("CVSS v2 score of 5 must be written 5.0")
	}
	ps := v.ProductStatus
	if len(ps.KnownAffected) == 0 || len(ps.Fixed) == 0 || len(ps.LastAffected) == 0 {
		t.Errorf("product status: %+v", ps)
	}
	for _, id := range ps.Fixed {
		if slices.Contains(ps.KnownAffected, id) || slices.Contains(ps.LastAffected, id) {
			t.Errorf("%s both fixed and affected", id)
		}
	}
	// 9.4.57 is listed as affected and as the fix of 9.4.0: affected wins.
	if !strings.Contains(string(out), `"name": "org.eclipse.jetty:jetty-http 9.4.57"`) {
		t.Error("version product 9.4.57 missing")
	}
	if len(v.Acknowledgments) != 6 || v.Acknowledgments[0].Summary != "finder" ||
		!slices.Equal(v.Acknowledgments[0].URLs, []string{"https://example.org/~ada", "mailto:ada@example.org"}) {
		t.Errorf("acknowledgments: %+v", v.Acknowledgments)
	}
}

func TestFileName(t *testing.T) {
	if got := csaf.FileName("ECL-q2f7-38cm-9wrx"); got != "ecl-q2f7-38cm-9wrx.json" {
		t.Errorf("FileName = %q", got)
	}
	if got := csaf.FileName("A B//c+d"); got != "a_b_c+d.json" {
		t.Errorf("FileName = %q", got)
	}
}

func TestBuildErrors(t *testing.T) {
	ok := cases()[0].in
	for name, mut := range map[string]func(*csaf.Input){
		"no id":      func(in *csaf.Input) { in.Payload.AdvisoryID = "" },
		"no date":    func(in *csaf.Input) { in.Date = zero() },
		"no version": func(in *csaf.Input) { in.VersionNumber = 0 },
	} {
		in := ok
		mut(&in)
		if _, err := csaf.Build(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
