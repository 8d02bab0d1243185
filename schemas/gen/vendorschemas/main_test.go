package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOSVEcosystems(t *testing.T) {
	src := `// Code generated. DO NOT EDIT.
package osvconstants

const SchemaVersion = "1.7.5"

type Ecosystem string

const (
	EcosystemCratesIO Ecosystem = "crates.io"
	EcosystemGo       Ecosystem = "Go"
	EcosystemRedHat   Ecosystem = "Red Hat"
)

const notAnEcosystem = "x"
`
	out, ann, err := osvEcosystems([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "schema_version": "1.7.5",
  "ecosystems": [
    "crates.io",
    "Go",
    "Red Hat"
  ]
}
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"osv_schema=1.7.5"}, ann); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if _, _, err := osvEcosystems([]byte("package x\n")); err == nil {
		t.Error("source without constants accepted")
	}
}

func TestOSVPatchPrefix(t *testing.T) {
	src := `{
  "$defs": {
    "prefix": {
      "type": "string",
      "pattern": "^(x_|(GHSA|OSV)-)"
    }
  }
}
`
	out, ann, err := osvPatchPrefix([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(src, `"^(x_|`, `"^(ECL|x_|`, 1)
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"patch=ecl-prefix"}, ann); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		`{"$defs": {"prefix": {"pattern": "(GHSA)-"}}}`,             // no leading ^(
		`{"$defs": {"prefix": {"pattern": "^(ECL|GHSA)-"}}}`,        // already patched
		`{"$defs": {"prefix": {"pattern": "^(A)-"}}, "x": "^(A)-"}`, // ambiguous text
	} {
		if _, _, err := osvPatchPrefix([]byte(bad)); err == nil {
			t.Errorf("osvPatchPrefix(%s) succeeded", bad)
		}
	}
}
