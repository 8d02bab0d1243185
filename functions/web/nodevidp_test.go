package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The development identity provider is linked only into the local shim,
// never into a Lambda function.
func TestNoDevIdPInFunctions(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/eclipse-csi/advisoryhub/functions/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasSuffix(pkg, "/shared/devidp") {
			t.Fatalf("a Lambda function links %s", pkg)
		}
	}
}
