package schemaversion

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUpdate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "SCHEMAS.VERSION")
	osv := Line{"osv/x.json", "example.org/m", "v1.0.0", "aa", "bb", []string{"k=v"}}
	cwe := Line{"cwe/cwe.json", "npm:cwe-sdk", "1.1.19", "cc", "dd", nil}
	if err := Update(file, osv); err != nil {
		t.Fatal(err)
	}
	if err := Update(file, cwe); err != nil {
		t.Fatal(err)
	}
	osv.Version = "v1.1.0"
	if err := Update(file, osv); err != nil { // replaces by path
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := Header +
		"cwe/cwe.json npm:cwe-sdk 1.1.19 cc dd\n" +
		"osv/x.json example.org/m v1.1.0 aa bb k=v\n"
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	lines, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Line{cwe, osv}, lines); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	if _, err := Parse([]byte("a b c\n")); err == nil {
		t.Error("short line accepted")
	}
}
