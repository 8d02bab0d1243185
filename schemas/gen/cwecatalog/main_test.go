package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sampleXML = `<?xml version="1.0" encoding="UTF-8"?>
<Weakness_Catalog Name="CWE" Version="4.15" Date="2024-07-16" xmlns="http://cwe.mitre.org/cwe-7">
  <Weaknesses>
    <Weakness ID="79" Name="Improper Neutralization of Input During Web Page Generation (&apos;Cross-site Scripting&apos;)" Status="Stable">
      <Related_Weaknesses><Related_Weakness Nature="ChildOf" CWE_ID="74"/></Related_Weaknesses>
    </Weakness>
    <Weakness ID="1004" Name="Sensitive Cookie Without 'HttpOnly' Flag" Status="Incomplete"/>
    <Weakness ID="5" Name="J2EE   Misconfiguration:&#10;Data" Status="Draft"/>
  </Weaknesses>
  <Categories>
    <Category ID="16" Name="Configuration"/>
  </Categories>
  <Views>
    <View ID="1000" Name="Research Concepts"/>
  </Views>
</Weakness_Catalog>`

func TestParseAndRender(t *testing.T) {
	cat, err := parseCatalog(strings.NewReader(sampleXML))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		5:    "J2EE Misconfiguration: Data",
		79:   "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
		1004: "Sensitive Cookie Without 'HttpOnly' Flag",
	}
	if diff := cmp.Diff(want, cat.Weaknesses); diff != "" {
		t.Errorf("weaknesses (-want +got):\n%s", diff)
	}
	if cat.Version != "4.15" || cat.Date != "2024-07-16" {
		t.Errorf("version %q date %q", cat.Version, cat.Date)
	}
	out, err := cat.render()
	if err != nil {
		t.Fatal(err)
	}
	wantOut := `{
  "version": "4.15",
  "date": "2024-07-16",
  "source": "npm:cwe-sdk@1.1.19 raw/cwe-archive.xml",
  "weaknesses": {
    "5": "J2EE Misconfiguration: Data",
    "79": "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    "1004": "Sensitive Cookie Without 'HttpOnly' Flag"
  }
}
`
	if diff := cmp.Diff(wantOut, string(out)); diff != "" {
		t.Errorf("render (-want +got):\n%s", diff)
	}
	var doc struct{ Weaknesses map[string]string }
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.Weaknesses) != 3 {
		t.Errorf("rendered JSON: %v, %d weaknesses", err, len(doc.Weaknesses))
	}
}

func TestParseRejectsDuplicates(t *testing.T) {
	dup := strings.Replace(sampleXML, `ID="1004"`, `ID="79"`, 1)
	if _, err := parseCatalog(strings.NewReader(dup)); err == nil {
		t.Error("duplicate weakness accepted")
	}
}
