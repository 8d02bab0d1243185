package csaf_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/csaf"
)

// The BSI validator (@secvisogram/csaf-validator-lib, pinned by
// testdata/bsi/package-lock.json) runs through node. The test installs it
// with `npm ci` into testdata/bsi/node_modules (git-ignored) once; a stamp
// holding the lock file's digest lets later runs reuse the install.
const bsiDir = "testdata/bsi"

var bsiInstall = sync.OnceValue(func() error {
	lock, err := os.ReadFile(filepath.Join(bsiDir, "package-lock.json"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(lock)
	stamp := filepath.Join(bsiDir, ".installed")
	want := hex.EncodeToString(sum[:])
	if have, err := os.ReadFile(stamp); err == nil && string(have) == want {
		if _, err := os.Stat(filepath.Join(bsiDir, "node_modules", "@secvisogram", "csaf-validator-lib", "package.json")); err == nil {
			return nil
		}
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	cmd.Dir = bsiDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", bsiDir, err, out)
	}
	return os.WriteFile(stamp, []byte(want), 0o644)
})

type bsiResult struct {
	Name     string       `json:"name"`
	Kind     string       `json:"kind"`
	IsValid  bool         `json:"isValid"`
	Errors   []bsiMessage `json:"errors"`
	Warnings []bsiMessage `json:"warnings"`
	Infos    []bsiMessage `json:"infos"`
}

type bsiMessage struct {
	InstancePath string `json:"instancePath"`
	Message      string `json:"message"`
}

// TestBSIValidator checks the CSAF output of every golden case with BSI's
// validator: the strict CSAF 2.0 schema and every mandatory test (§6.1)
// must report no error; optional (§6.2) and informative (§6.3) findings
// are logged.
func TestBSIValidator(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not installed; the BSI validator check needs node and npm", tool)
		}
	}
	if err := bsiInstall(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for _, c := range cases() {
		out, err := csaf.Build(c.in)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, c.name+".json")
		if err := os.WriteFile(f, out, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	cmd := exec.Command("node", append([]string{"validate.mjs"}, files...)...)
	cmd.Dir = bsiDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node validate.mjs: %v\n%s", err, stderr.Bytes())
	}
	var results map[string][]bsiResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("validator output: %v\n%s", err, out)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		rs, ok := results[f]
		if !ok || len(rs) == 0 {
			t.Errorf("%s: no results", name)
			continue
		}
		counts := map[string]int{}
		var findings []string
		for _, r := range rs {
			counts[r.Kind]++
			switch r.Kind {
			case "schema", "mandatory":
				if !r.IsValid || len(r.Errors) > 0 {
					t.Errorf("%s: %s %s failed: %+v", name, r.Kind, r.Name, r.Errors)
				}
			default:
				for _, group := range []struct {
					level string
					msgs  []bsiMessage
				}{{"error", r.Errors}, {"warning", r.Warnings}, {"info", r.Infos}} {
					for _, m := range group.msgs {
						findings = append(findings, fmt.Sprintf("%s %s %s: %s at %s", r.Kind, r.Name, group.level, m.Message, m.InstancePath))
					}
				}
			}
		}
		if counts["mandatory"] < 40 || counts["schema"] != 1 {
			t.Errorf("%s: ran %v tests, want the schema test and every mandatory test", name, counts)
		}
		sort.Strings(findings)
		t.Logf("%s: schema + %d mandatory tests passed; %d optional and %d informative tests gave %d findings:\n  %s",
			name, counts["mandatory"], counts["optional"], counts["informative"], len(findings), strings.Join(findings, "\n  "))
	}
}
