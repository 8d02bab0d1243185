// Package archtest enforces the dependency rules of GO-STYLE §2: the domain
// core imports no database driver, AWS, HTTP or logging package, and AWS
// types stay in the functions and the two AWS adapters.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/eclipse-csi/advisoryhub"

// core lists the pure domain packages (level 5). A package not present in
// the tree yet is simply not listed by go list.
var core = []string{
	"shared/apperr", "shared/access", "shared/advisory", "shared/audit", "shared/redact",
	"shared/project", "shared/identity", "shared/comment", "shared/grant", "shared/intake",
	"shared/osv", "shared/csaf", "shared/cverecord", "shared/csafprovider", "shared/canonjson", "shared/cvss",
}

var forbiddenInCore = []string{
	"github.com/jackc/", "github.com/aws/", "net/http", "log/slog", "database/sql",
	module + "/shared/postgres", module + "/shared/app", module + "/shared/boot",
}

// awsAllowed are the packages that may import the AWS SDK or aws-lambda-go.
var awsAllowed = []string{
	module + "/functions/", module + "/shared/queue/sqsqueue", module + "/shared/awssecrets",
	module + "/shared/boot", // wires the adapters; it imports them, not AWS types
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func list(t *testing.T, args ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// matches reports whether path is pkg or below it; a prefix ending in "/"
// matches anything below.
func matches(path, pkg string) bool {
	if strings.HasSuffix(pkg, "/") {
		return strings.HasPrefix(path, pkg)
	}
	return path == pkg || strings.HasPrefix(path, pkg+"/")
}

func TestCoreIsPure(t *testing.T) {
	all := list(t, "./...")
	present := map[string]bool{}
	for _, p := range all {
		present[p.ImportPath] = true
	}
	checked := 0
	for _, c := range core {
		path := module + "/" + c
		if !present[path] {
			continue
		}
		checked++
		for _, p := range list(t, "-deps", "./"+c) {
			for _, bad := range forbiddenInCore {
				if matches(p.ImportPath, bad) {
					t.Errorf("%s depends on %s (domain core must stay pure)", c, p.ImportPath)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d core packages found; the list is stale", checked)
	}
}

func TestAWSStaysAtTheEdges(t *testing.T) {
	for _, p := range list(t, "./...") {
		if strings.HasSuffix(p.ImportPath, "_test") || strings.Contains(p.ImportPath, "/sqstest") {
			continue
		}
		allowed := false
		for _, a := range awsAllowed {
			if strings.HasPrefix(p.ImportPath, a) {
				allowed = true
			}
		}
		if allowed {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/aws/") {
				t.Errorf("%s imports %s: AWS belongs in functions/, queue/sqsqueue or awssecrets", p.ImportPath, imp)
			}
		}
	}
}
