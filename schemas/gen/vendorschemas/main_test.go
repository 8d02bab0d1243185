package main

import (
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
