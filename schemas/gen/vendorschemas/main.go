// Command vendorschemas refreshes the vendored schema data under schemas/
// from pinned upstream Go modules and records their provenance in
// schemas/SCHEMAS.VERSION.
//
// Run from the repository root:
//
//	go run ./schemas/gen/vendorschemas          # rewrite the files
//	go run ./schemas/gen/vendorschemas -check   # fail if the tree has drifted
//
// Each entry names a Go module at a pinned version, a file inside it, the
// output path under schemas/ and a transform. Sources are fetched with
// `go mod download -json`, so the module proxy and checksum database vouch
// for their integrity. Only genuine Go modules may be listed here: the
// module proxy is not a general-purpose fetcher for non-Go repositories.
//
// A schema that no Go module ships (the full OSV JSON schema) is vendored
// as a pristine upstream copy under schemas/ instead, pinned by repository,
// commit and SHA-256 in pristine below; the generator checks the copy
// against that digest and derives the patched file from it.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/eclipse-csi/advisoryhub/schemas/gen/internal/schemaversion"
)

// entry is one vendored output file.
type entry struct {
	Dst     string // path under schemas/
	Module  string // Go module path
	Version string // pinned module version
	Src     string // file inside the module, or the pristine copy under schemas/
	// Local marks Src as a pristine upstream copy under schemas/ (see
	// pristine) rather than a file of a Go module.
	Local     bool
	Transform func(src []byte) (out []byte, annotations []string, err error)
}

// pristineCopy is an upstream file vendored verbatim under schemas/ because
// no Go module ships it. The copy itself gets a SCHEMAS.VERSION line too.
type pristineCopy struct {
	Path    string // under schemas/
	Repo    string // upstream repository, "git:host/owner/name"
	Commit  string // pinned commit
	File    string // path inside the repository
	SHA256  string // digest of the pinned upstream file
	Comment []string
}

// pristine lists the pristine upstream copies.
//
// The OSV schema: ossf/osv-schema's validation/schema.json. Its repository
// root is not a Go module (the Go bindings module does not ship the JSON
// schema), so the file was taken through the public-source index at the
// newest revision available there, from the GitHub fork conorfitch/osv-
// schema. Its ecosystem enum is the 1.7.5 list of osvconstants minus
// "TuxCare" (see TestOSVSchemaEcosystems in schemas/). Replace it with the
// upstream tag's file when one can be obtained with provenance.
var pristine = []pristineCopy{
	{
		Path:    "osv/upstream-schema.json",
		Repo:    "git:github.com/conorfitch/osv-schema",
		Commit:  "2e885df5784f307b62075c0b675b92788c12c212",
		File:    "validation/schema.json",
		SHA256:  "e91c22382da7763fb81b7cfe7f65e373b7c9f10ee6b88f80028b5e14ee5a5ffe",
		Comment: []string{"upstream=ossf/osv-schema", "fork=conorfitch/osv-schema"},
	},
}

// entries is the list of vendored files. Add new schemas here.
var entries = []entry{
	{
		// The OSV ecosystem enum ($defs/ecosystemName) of OSV schema 1.7.5,
		// as generated upstream into the official Go bindings from
		// validation/schema.json.
		Dst:       "osv/ecosystems.json",
		Module:    "github.com/ossf/osv-schema/bindings/go",
		Version:   "v0.0.0-20260525004216-afe0bddbf893",
		Src:       "osvconstants/constants.go",
		Transform: osvEcosystems,
	},
	{
		// The OSV JSON schema with the ECL id prefix patched in
		// (publication-formats §1.4).
		Dst:       "osv/schema.json",
		Src:       "osv/upstream-schema.json",
		Local:     true,
		Transform: osvPatchPrefix,
	},
	// CSAF 2.0 and the FIRST CVSS schemas it references, as shipped in the
	// gocsaf module (csaf/schema/), unmodified.
	csafEntry("csaf_json_schema.json"),
	csafEntry("cvss-v2.0.json"),
	csafEntry("cvss-v3.0.json"),
	csafEntry("cvss-v3.1.json"),
}

const (
	gocsafModule  = "github.com/gocsaf/csaf/v3"
	gocsafVersion = "v3.7.0"
)

func csafEntry(name string) entry {
	return entry{
		Dst:       "csaf/" + name,
		Module:    gocsafModule,
		Version:   gocsafVersion,
		Src:       "csaf/schema/" + name,
		Transform: verbatim,
	}
}

func verbatim(src []byte) ([]byte, []string, error) { return src, nil, nil }

func main() {
	dir := flag.String("dir", "schemas", "the schemas/ directory to write into")
	check := flag.Bool("check", false, "compare instead of writing; exit 1 on drift")
	flag.Parse()
	if err := run(*dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "vendorschemas:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	var lines []schemaversion.Line
	var drift []string
	pristineSrc := map[string]pristineCopy{}
	for _, p := range pristine {
		src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p.Path)))
		if err != nil {
			return fmt.Errorf("%s: %w", p.Path, err)
		}
		if got := schemaversion.SHA256(src); got != p.SHA256 {
			drift = append(drift, p.Path)
			if !check {
				return fmt.Errorf("%s: sha256 %s, pinned %s: the pristine upstream copy was modified", p.Path, got, p.SHA256)
			}
		}
		pristineSrc[p.Path] = p
		lines = append(lines, schemaversion.Line{
			Path:         p.Path,
			Module:       p.Repo,
			Version:      p.Commit,
			SourceSHA256: p.SHA256,
			OutputSHA256: schemaversion.SHA256(src),
			Annotations:  append([]string{"file=" + p.File}, p.Comment...),
		})
	}
	for _, e := range entries {
		var src []byte
		var err error
		module, version := e.Module, e.Version
		if e.Local {
			p, ok := pristineSrc[e.Src]
			if !ok {
				return fmt.Errorf("%s: %s is not a pinned pristine copy", e.Dst, e.Src)
			}
			module, version = p.Repo, p.Commit
			src, err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Src)))
		} else {
			src, err = moduleFile(e.Module, e.Version, e.Src)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", e.Dst, err)
		}
		out, ann, err := e.Transform(src)
		if err != nil {
			return fmt.Errorf("%s: transform: %w", e.Dst, err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(e.Dst))
		if check {
			have, err := os.ReadFile(dst)
			if err != nil || !bytes.Equal(have, out) {
				drift = append(drift, e.Dst)
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(dst, out, 0o644); err != nil {
				return err
			}
		}
		lines = append(lines, schemaversion.Line{
			Path:         e.Dst,
			Module:       module,
			Version:      version,
			SourceSHA256: schemaversion.SHA256(src),
			OutputSHA256: schemaversion.SHA256(out),
			Annotations:  ann,
		})
	}
	ledger := filepath.Join(dir, "SCHEMAS.VERSION")
	if check {
		data, err := os.ReadFile(ledger)
		if err != nil {
			return err
		}
		have, err := schemaversion.Parse(data)
		if err != nil {
			return err
		}
		for _, want := range lines {
			if !containsLine(have, want) {
				drift = append(drift, "SCHEMAS.VERSION "+want.Path)
			}
		}
		if len(drift) > 0 {
			return fmt.Errorf("out of date (run go run ./schemas/gen/vendorschemas): %v", drift)
		}
		return nil
	}
	return schemaversion.Update(ledger, lines...)
}

func containsLine(lines []schemaversion.Line, want schemaversion.Line) bool {
	for _, l := range lines {
		if l.String() == want.String() {
			return true
		}
	}
	return false
}

// moduleFile downloads module@version through the Go toolchain (module proxy
// plus checksum database) and returns the named file from it.
func moduleFile(module, version, file string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "vendorschemas-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = tmp // outside any main module: go.mod/go.sum stay untouched
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct {
		Dir   string
		Sum   string
		Error string
	}
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return nil, fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	if err != nil {
		return nil, fmt.Errorf("go mod download %s@%s: %w: %s", module, version, err, stderr.Bytes())
	}
	if info.Dir == "" {
		return nil, fmt.Errorf("go mod download %s@%s: no directory reported", module, version)
	}
	return os.ReadFile(filepath.Join(info.Dir, filepath.FromSlash(file)))
}

// osvEcosystems extracts SchemaVersion and the Ecosystem constants from the
// generated osvconstants package and renders them as JSON:
//
//	{"schema_version": "1.7.5", "ecosystems": ["AlmaLinux", ...]}
//
// The order is the upstream (schema enum) order.
func osvEcosystems(src []byte) ([]byte, []string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "constants.go", src, 0)
	if err != nil {
		return nil, nil, err
	}
	var version string
	var ecosystems []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Names) != 1 || len(vs.Values) != 1 {
				continue
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			val, err := strconv.Unquote(lit.Value)
			if err != nil {
				return nil, nil, err
			}
			switch {
			case vs.Names[0].Name == "SchemaVersion":
				version = val
			case isIdent(vs.Type, "Ecosystem"):
				ecosystems = append(ecosystems, val)
			}
		}
	}
	if version == "" {
		return nil, nil, errors.New("no SchemaVersion constant")
	}
	if len(ecosystems) == 0 {
		return nil, nil, errors.New("no Ecosystem constants")
	}
	doc := struct {
		SchemaVersion string   `json:"schema_version"`
		Ecosystems    []string `json:"ecosystems"`
	}{version, ecosystems}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return append(out, '\n'), []string{"osv_schema=" + version}, nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// osvPatchPrefix adds the ECL home-database prefix to the id pattern
// ($defs/prefix/pattern gains "ECL|" right after its leading "^(") and
// changes nothing else: the pattern string is replaced in place, so the
// output differs from the upstream file in exactly that string.
func osvPatchPrefix(src []byte) ([]byte, []string, error) {
	var doc struct {
		Defs map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, nil, err
	}
	old := doc.Defs["prefix"].Pattern
	if !strings.HasPrefix(old, "^(") {
		return nil, nil, fmt.Errorf("$defs/prefix/pattern %q does not start with ^(", old)
	}
	if strings.HasPrefix(old, "^(ECL|") {
		return nil, nil, errors.New("$defs/prefix/pattern already has ECL")
	}
	patched := "^(ECL|" + old[len("^("):]
	oldJSON, err := json.Marshal(old)
	if err != nil {
		return nil, nil, err
	}
	newJSON, err := json.Marshal(patched)
	if err != nil {
		return nil, nil, err
	}
	if n := bytes.Count(src, oldJSON); n != 1 {
		return nil, nil, fmt.Errorf("$defs/prefix/pattern occurs %d times as text, want 1", n)
	}
	return bytes.Replace(src, oldJSON, newJSON, 1), []string{"patch=ecl-prefix"}, nil
}
