package schemacheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/cverecord"
	"github.com/eclipse-csi/advisoryhub/shared/exporttest"
	"github.com/eclipse-csi/advisoryhub/shared/schemacheck"
)

func TestValidateOSV(t *testing.T) {
	ok := `{"schema_version":"1.6.0","id":"ECL-q2f7-38cm-9wrx","modified":"2026-01-02T03:04:05.000Z"}`
	if err := schemacheck.ValidateOSV([]byte(ok)); err != nil {
		t.Fatalf("ECL id rejected: %v", err)
	}
	for _, c := range []struct{ doc, want string }{
		{`{"id":"NOPE-1","modified":"2026-01-02T03:04:05.000Z"}`, "osv: /id: "},
		{`{"id":"GHSA-x","modified":"2026-01-02T03:04:05+00:00"}`, "osv: /modified: "},
		{`{"id":"ECL-x","modified":"2026-01-02T03:04:05Z","extra":1}`, "osv: /: additional properties 'extra' not allowed"},
		{`{"id":"ECL-x","modified":"2026-01-02T03:04:05Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N"}],` +
			`"affected":[{"package":{"ecosystem":"Nope","name":"x"},"severity":[{"type":"Ubuntu","score":"low"}]}]}`, "/affected/0/package/ecosystem: "},
		{`not json`, "osv: /: not JSON"},
	} {
		err := schemacheck.ValidateOSV([]byte(c.doc))
		var se *schemacheck.Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateOSV(%s) = %v, want an error containing %q", c.doc, err, c.want)
		}
	}
}

func TestValidateCSAF(t *testing.T) {
	err := schemacheck.ValidateCSAF([]byte(`{"document":{"category":"csaf_security_advisory","csaf_version":"2.0","title":"t",
		"publisher":{"category":"vendor","name":"n","namespace":"not a uri"},
		"tracking":{"id":"x","status":"final","version":"1","initial_release_date":"2026-01-01T00:00:00.000Z",
		"current_release_date":"2026-01-01T00:00:00.000Z","revision_history":[]}},
		"product_tree":{"branches":[{"category":"vendor","name":"v","product":{"name":"p","product_id":"CSAFPID-1"}}]},
		"vulnerabilities":[{"cwe":{"id":"CWE-79"}}]}`))
	if err == nil {
		t.Fatal("invalid CSAF accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"csaf: ",
		"/document/tracking/revision_history: minItems: got 0, want 1",
		"/vulnerabilities/0/cwe: missing property 'name'",
		"(gocsaf)", // gocsaf's schema check asserts formats: the namespace is not a URI
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// Problems are sorted by path.
	if i, j := strings.Index(msg, "/document/"), strings.Index(msg, "/vulnerabilities/"); i < 0 || j < 0 || i > j {
		t.Errorf("problems not sorted by path:\n%s", msg)
	}
}

func TestValidateCVERecord(t *testing.T) {
	in := cverecord.Input{Payload: exporttest.Rich(), Date: exporttest.V3Date,
		AssignerOrgID: exporttest.AssignerOrgID, AssignerShortName: exporttest.AssignerShortName}
	doc, err := cverecord.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemacheck.ValidateCVERecord(doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"state": "PUBLISHED"`, `"state": "DRAFT"`, `/cveMetadata/state: must be "PUBLISHED" or "REJECTED"`},
		{`"cveId": "CVE-2026-12345"`, `"cveId": "CVE-26-1"`, "/cveMetadata/cveId: does not match"},
		{`"lang": "en"`, `"lang": "english!"`, "/lang: does not match"},
		{`"baseSeverity": "HIGH"`, `"baseSeverity": "SEVERE"`, "/baseSeverity: must be one of"},
		{`"status": "affected"`, `"status": "maybe"`, "/versions/0/status: must be one of"},
		{`"dataVersion": "5.2.0"`, `"dataVersion": "5.2.0", "extra": 1`, "/extra: additional property not allowed"},
		{`"assignerShortName": "eclipse"`, `"assignerShortName": "e"`, "/cveMetadata/assignerShortName: must be at least 2 characters"},
	} {
		bad := strings.Replace(string(doc), c.from, c.to, 1)
		if bad == string(doc) {
			t.Fatalf("fixture lacks %s", c.from)
		}
		err := schemacheck.ValidateCVERecord([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "cve: ") {
			t.Errorf("%s → %s: err = %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
