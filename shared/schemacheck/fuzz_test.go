package schemacheck_test

import (
	"encoding/json"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/csaf"
	"github.com/eclipse-csi/advisoryhub/shared/cverecord"
	"github.com/eclipse-csi/advisoryhub/shared/exporttest"
	"github.com/eclipse-csi/advisoryhub/shared/osv"
	"github.com/eclipse-csi/advisoryhub/shared/schemacheck"
)

// FuzzExportValid: any content the advisory validator accepts exports to
// an OSV document and a CSAF document that pass the vendored schemas (and
// gocsaf's checks), and with an assigned CVE to a CVE record that passes
// ValidateCVERecord. The seed corpus runs under a plain `go test`.
func FuzzExportValid(f *testing.F) {
	for _, p := range []advisory.Payload{exporttest.Rich(), exporttest.Minimal(), exporttest.PackageSeverity(), exporttest.Withdrawn()} {
		b, err := json.Marshal(p.Content)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(3))
	}
	for _, s := range []string{
		`{"summary":"","affected":[{"package":{"ecosystem":"Debian:12","name":"x","purl":"pkg:1deb/x"},"versions":["1<2>"]}],"references":[{"url":"https://h/a b?x=<y>"}]}`,
		`{"affected":[{"package":{"ecosystem":"npm","name":"p"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1"},{"introduced":"0"},{"limit":"9"}]}]}]}`,
		`{"credits":[{"name":"x","contact":["mailto:","https://","javascript:alert(1)"]}],"cwe_ids":["CWE-79","CWE-89"]}`,
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		var c advisory.Content
		if json.Unmarshal(data, &c) != nil || c.Validate() != nil {
			return
		}
		p := advisory.Payload{AdvisoryID: "ECL-q2f7-38cm-9wrx", ProjectSlug: "technology.example", ProjectName: "Example", Content: c, Kind: advisory.KindNative}
		if flags&1 != 0 {
			p.AssignedCVEID = "CVE-2026-1234"
		}
		if flags&2 != 0 {
			p.WithdrawnReason = "withdrawn"
		}
		doc, err := osv.Build(osv.Input{Payload: p, Modified: exporttest.V3Date})
		if err != nil {
			t.Fatalf("osv.Build: %v", err)
		}
		if err := schemacheck.ValidateOSV(doc); err != nil {
			t.Fatalf("OSV of accepted content invalid: %v\n%s", err, doc)
		}
		doc, err = csaf.Build(csaf.Input{Payload: p, VersionNumber: 2, Date: exporttest.V3Date,
			Earlier: []csaf.Publication{{VersionNumber: 1, Date: exporttest.V1Date}}})
		if err != nil {
			t.Fatalf("csaf.Build: %v", err)
		}
		if err := schemacheck.ValidateCSAF(doc); err != nil {
			t.Fatalf("CSAF of accepted content invalid: %v\n%s", err, doc)
		}
		if p.AssignedCVEID == "" {
			return
		}
		doc, err = cverecord.Build(cverecord.Input{Payload: p, Date: exporttest.V3Date,
			AssignerOrgID: exporttest.AssignerOrgID, AssignerShortName: exporttest.AssignerShortName})
		if err != nil {
			// Missing affected products or references are §4.1 build
			// errors, reported as such.
			return
		}
		if err := schemacheck.ValidateCVERecord(doc); err != nil {
			t.Fatalf("CVE record of accepted content invalid: %v\n%s", err, doc)
		}
	})
}
