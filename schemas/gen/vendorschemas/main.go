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

	"github.com/eclipse-csi/advisoryhub/schemas/gen/internal/schemaversion"
)

// entry is one vendored output file.
type entry struct {
	Dst       string // path under schemas/
	Module    string // Go module path
	Version   string // pinned module version
	Src       string // file inside the module
	Transform func(src []byte) (out []byte, annotations []string, err error)
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
}

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
	for _, e := range entries {
		src, err := moduleFile(e.Module, e.Version, e.Src)
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
			Module:       e.Module,
			Version:      e.Version,
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
