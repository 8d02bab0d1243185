package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
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
	for _, dir := range []string{"osv", "cwe", "csaf"} {
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

// TestOSVSchemaEcosystems compares the vendored OSV schema's ecosystem enum
// with osv/ecosystems.json, the allowlist the editor validates against
// (publication-formats §1.4 wants them equal). The only known difference
// is "TuxCare": osv/ecosystems.json comes from osvconstants at 1.7.5, the
// schema copy from the newest revision obtainable (see SCHEMAS.VERSION and
// schemas/gen/vendorschemas). The editor accepts only the intersection
// (shared/advisory's catalogue), so "TuxCare" is refused at edit time
// rather than at publication. Any other drift fails.
func TestOSVSchemaEcosystems(t *testing.T) {
	var schema struct {
		Defs struct {
			EcosystemName struct {
				Enum []string `json:"enum"`
			} `json:"ecosystemName"`
		} `json:"$defs"`
	}
	var allow struct {
		Ecosystems []string `json:"ecosystems"`
	}
	for name, v := range map[string]any{"osv/schema.json": &schema, "osv/ecosystems.json": &allow} {
		b, err := FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	inSchema := map[string]bool{}
	for _, e := range schema.Defs.EcosystemName.Enum {
		inSchema[e] = true
	}
	var onlyAllow []string
	for _, e := range allow.Ecosystems {
		if !inSchema[e] {
			onlyAllow = append(onlyAllow, e)
		}
		delete(inSchema, e)
	}
	if want := []string{"TuxCare"}; !slices.Equal(onlyAllow, want) {
		t.Errorf("ecosystems accepted by the editor but not by the OSV schema: %v, want %v", onlyAllow, want)
	}
	if len(inSchema) > 0 {
		t.Errorf("ecosystems in the OSV schema but not in osv/ecosystems.json: %v", inSchema)
	}
}
