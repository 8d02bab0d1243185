package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestProvenance checks that every file listed in SCHEMAS.VERSION is
// embedded byte-for-byte as recorded, and that every embedded file is listed.
func TestProvenance(t *testing.T) {
	data, err := os.ReadFile("SCHEMAS.VERSION")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			t.Fatalf("malformed line %q", line)
		}
		path, want := f[0], f[4]
		listed[path] = true
		b, err := FS.ReadFile(path)
		if err != nil {
			t.Errorf("%s listed but not embedded: %v", path, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, SCHEMAS.VERSION says %s (regenerate with schemas/gen)", path, got, want)
		}
	}
	for _, dir := range []string{"osv", "cwe"} {
		entries, err := FS.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if p := dir + "/" + e.Name(); !listed[p] {
				t.Errorf("%s embedded but not listed in SCHEMAS.VERSION", p)
			}
		}
	}
}
