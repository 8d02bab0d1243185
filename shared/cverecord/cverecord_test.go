package cverecord_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/cverecord"
	"github.com/eclipse-csi/advisoryhub/shared/exporttest"
	"github.com/eclipse-csi/advisoryhub/shared/schemacheck"
)

func input(p advisory.Payload) cverecord.Input {
	published := exporttest.PublishedAt
	return cverecord.Input{
		Payload:             p,
		Date:                exporttest.V3Date,
		AdvisoryPublishedAt: &published,
		AssignerOrgID:       exporttest.AssignerOrgID,
		AssignerShortName:   exporttest.AssignerShortName,
	}
}

// TestGolden builds the CVE record of each fixture, checks it with
// schemacheck.ValidateCVERecord and compares it with
// testdata/TestGolden/<case>.json (-update rewrites).
func TestGolden(t *testing.T) {
	pkgSev := exporttest.PackageSeverity()
	pkgSev.AssignedCVEID = "CVE-2026-0042"
	pkgSev.ProjectName = ""
	noShort := input(pkgSev)
	noShort.AssignerShortName = ""
	noShort.ProjectName = "Eclipse Paho (live)"
	for _, c := range []struct {
		name string
		in   cverecord.Input
	}{
		{"rich", input(exporttest.Rich())},
		{"rejected", input(exporttest.Withdrawn())},
		{"package_severity", noShort},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := cverecord.Build(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemacheck.ValidateCVERecord(got); err != nil {
				t.Errorf("schema: %v", err)
			}
			exporttest.Golden(t, c.name, got)
			again, err := cverecord.Build(c.in)
			if err != nil || !bytes.Equal(got, again) {
				t.Errorf("second build differs (%v)", err)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	got, err := cverecord.Build(input(exporttest.Rich()))
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, want := range []string{
		`"state": "PUBLISHED"`, `"datePublished": "2026-02-03T14:05:06.789Z"`,
		`"cvssV3_1": {
            "baseScore": 7.5,
            "baseSeverity": "HIGH",`,
		`"cvssV2_0": {
            "baseScore": 5.0,`,
		`"cvssV4_0"`, `"type": "Ubuntu"`,
		`"description": "Inconsistent Interpretation of HTTP Requests ('HTTP Request/Response Smuggling')"`,
		`"type": "remediation developer"`,
		`"lessThan": "*"`, `"lessThanOrEqual": "1.2.3"`, `"versionType": "git"`,
		`"collectionURL": "https://repo.maven.apache.org/maven2"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("record lacks %s", want)
		}
	}
	if strings.Count(s, `"url": "https://jetty.org/security.html"`) != 1 {
		t.Error("references not de-duplicated by url")
	}
	if strings.Count(s, `"value": "Grace Hopper"`) != 1 {
		t.Error("credits not de-duplicated")
	}
	if strings.Count(s, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N") != 1 {
		t.Error("metrics not de-duplicated")
	}
	rej, err := cverecord.Build(input(exporttest.Withdrawn()))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"state": "REJECTED"`, `"dateRejected": "2026-02-03T14:05:06.789Z"`,
		`"datePublished": "2026-01-12T09:31:02.000Z"`, `"rejectedReasons"`} {
		if !strings.Contains(string(rej), want) {
			t.Errorf("rejected record lacks %s", want)
		}
	}
	if strings.Contains(string(rej), `"affected"`) {
		t.Error("rejected record has affected")
	}
}

func TestPreconditions(t *testing.T) {
	for name, mut := range map[string]func(*cverecord.Input){
		"malformed cve":  func(in *cverecord.Input) { in.Payload.AssignedCVEID = "CVE-26-1" },
		"no assigner":    func(in *cverecord.Input) { in.AssignerOrgID = " " },
		"bad assigner":   func(in *cverecord.Input) { in.AssignerOrgID = "0f6a2e7e-8c3b-1d21-9a57-3e4b5c6d7e8f" },
		"no affected":    func(in *cverecord.Input) { in.Payload.Content.Affected = nil },
		"no references":  func(in *cverecord.Input) { in.Payload.Content.References = nil },
		"blank rejected": func(in *cverecord.Input) { in.Payload.WithdrawnReason = "  " },
	} {
		in := input(exporttest.Rich())
		mut(&in)
		if _, err := cverecord.Build(in); !errors.Is(err, cverecord.ErrBuild) {
			t.Errorf("%s: err = %v, want ErrBuild", name, err)
		}
	}
	if cverecord.Needed(exporttest.PackageSeverity()) {
		t.Error("aliases that mention a CVE must not trigger a record")
	}
	if !cverecord.Needed(exporttest.Rich()) {
		t.Error("assigned CVE must trigger a record")
	}
}
