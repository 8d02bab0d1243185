// Command cwecatalog writes schemas/cwe/cwe.json, the compact MITRE CWE
// weakness catalogue that shared/advisory validates cwe_ids against, and
// records its provenance in schemas/SCHEMAS.VERSION.
//
// The MITRE data comes from the npm package cwe-sdk, which ships MITRE's
// cwec XML (raw/cwe-archive.xml). Run from the repository root:
//
//	go run ./schemas/gen/cwecatalog              # npm pack the pinned version
//	go run ./schemas/gen/cwecatalog -pkg DIR     # use an unpacked package dir
//	go run ./schemas/gen/cwecatalog -check       # fail if the tree has drifted
//
// Only Weakness entries are kept (no categories, views or external
// references). Deprecated weaknesses stay in the catalogue: they are still
// weaknesses in MITRE's list and their names start with "DEPRECATED:".
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eclipse-csi/advisoryhub/schemas/gen/internal/schemaversion"
)

const (
	npmPackage = "cwe-sdk"
	npmVersion = "1.1.19"
	// npmIntegrity is the registry's dist.integrity for npmVersion.
	npmIntegrity = "sha512-pCmiSmBV2/QOPh3I12VnNZXbTZTdCk2H2oW05phN7APXHvyA7hF7qifzBp7RFVEaBJcOjlfsgcUZz7jSzDStGA=="
	archivePath  = "raw/cwe-archive.xml"
	outPath      = "cwe/cwe.json"
)

func main() {
	dir := flag.String("dir", "schemas", "the schemas/ directory to write into")
	pkg := flag.String("pkg", "", "an unpacked cwe-sdk package directory (default: npm pack it)")
	check := flag.Bool("check", false, "compare instead of writing; exit 1 on drift")
	flag.Parse()
	if err := run(*dir, *pkg, *check); err != nil {
		fmt.Fprintln(os.Stderr, "cwecatalog:", err)
		os.Exit(1)
	}
}

func run(dir, pkg string, check bool) error {
	var src []byte
	var err error
	if pkg != "" {
		src, err = fromDir(pkg)
	} else {
		src, err = fromNPM()
	}
	if err != nil {
		return err
	}
	cat, err := parseCatalog(bytes.NewReader(src))
	if err != nil {
		return fmt.Errorf("parse %s: %w", archivePath, err)
	}
	out, err := cat.render()
	if err != nil {
		return err
	}
	line := schemaversion.Line{
		Path:         outPath,
		Module:       "npm:" + npmPackage,
		Version:      npmVersion,
		SourceSHA256: schemaversion.SHA256(src),
		OutputSHA256: schemaversion.SHA256(out),
		Annotations:  []string{"cwe=" + cat.Version, "cwe_date=" + cat.Date},
	}
	dst := filepath.Join(dir, filepath.FromSlash(outPath))
	ledger := filepath.Join(dir, "SCHEMAS.VERSION")
	if check {
		have, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(have, out) {
			return fmt.Errorf("%s is out of date (run go run ./schemas/gen/cwecatalog)", outPath)
		}
		data, err := os.ReadFile(ledger)
		if err != nil {
			return err
		}
		lines, err := schemaversion.Parse(data)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(lines, func(l schemaversion.Line) bool { return l.String() == line.String() }) {
			return fmt.Errorf("SCHEMAS.VERSION line for %s is out of date", outPath)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: CWE %s (%s), %d weaknesses\n", dst, cat.Version, cat.Date, len(cat.Weaknesses))
	return schemaversion.Update(ledger, line)
}

// fromDir reads the archive from an unpacked package, checking its version.
func fromDir(dir string) ([]byte, error) {
	meta, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	if err := checkPackageJSON(meta); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, filepath.FromSlash(archivePath)))
}

// fromNPM packs the pinned package into a temporary directory with the npm
// client, verifies the tarball against the pinned integrity and returns the
// archive member.
func fromNPM() ([]byte, error) {
	tmp, err := os.MkdirTemp("", "cwecatalog-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "pack", "--silent", npmPackage+"@"+npmVersion)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("npm pack %s@%s: %w: %s", npmPackage, npmVersion, err, stderr.Bytes())
	}
	name := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(name, '\n'); i >= 0 {
		name = name[i+1:]
	}
	tgz, err := os.ReadFile(filepath.Join(tmp, filepath.Base(name)))
	if err != nil {
		return nil, err
	}
	sum := sha512.Sum512(tgz)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != npmIntegrity {
		return nil, fmt.Errorf("%s integrity %s, want %s", name, got, npmIntegrity)
	}
	files, err := untar(tgz, "package/package.json", "package/"+archivePath)
	if err != nil {
		return nil, err
	}
	if err := checkPackageJSON(files["package/package.json"]); err != nil {
		return nil, err
	}
	return files["package/"+archivePath], nil
}

func checkPackageJSON(data []byte) error {
	var meta struct{ Name, Version string }
	if err := json.Unmarshal(data, &meta); err != nil {
		return fmt.Errorf("package.json: %w", err)
	}
	if meta.Name != npmPackage || meta.Version != npmVersion {
		return fmt.Errorf("package is %s@%s, want %s@%s", meta.Name, meta.Version, npmPackage, npmVersion)
	}
	return nil
}

func untar(tgz []byte, names ...string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := make(map[string][]byte)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if slices.Contains(names, h.Name) {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			files[h.Name] = b
		}
	}
	for _, n := range names {
		if _, ok := files[n]; !ok {
			return nil, fmt.Errorf("tarball lacks %s", n)
		}
	}
	return files, nil
}

type catalog struct {
	Version    string
	Date       string
	Weaknesses map[int]string
}

// parseCatalog streams MITRE's cwec XML and keeps the ID and Name of every
// Weakness_Catalog/Weaknesses/Weakness element.
func parseCatalog(r io.Reader) (*catalog, error) {
	dec := xml.NewDecoder(r)
	cat := &catalog{Weaknesses: make(map[int]string)}
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			switch {
			case len(stack) == 1 && t.Name.Local == "Weakness_Catalog":
				cat.Version = attr(t, "Version")
				cat.Date = attr(t, "Date")
			case len(stack) == 3 && stack[1] == "Weaknesses" && t.Name.Local == "Weakness":
				id, err := strconv.Atoi(attr(t, "ID"))
				if err != nil || id <= 0 {
					return nil, fmt.Errorf("weakness with bad ID %q", attr(t, "ID"))
				}
				name := strings.Join(strings.Fields(attr(t, "Name")), " ")
				if name == "" {
					return nil, fmt.Errorf("weakness %d has no name", id)
				}
				if _, dup := cat.Weaknesses[id]; dup {
					return nil, fmt.Errorf("weakness %d listed twice", id)
				}
				cat.Weaknesses[id] = name
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if cat.Version == "" {
		return nil, errors.New("no Weakness_Catalog Version")
	}
	if len(cat.Weaknesses) == 0 {
		return nil, errors.New("no weaknesses")
	}
	return cat, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// render writes the catalogue as JSON with one weakness per line in
// ascending numeric order, so diffs between CWE releases stay readable.
func (c *catalog) render() ([]byte, error) {
	ids := make([]int, 0, len(c.Weaknesses))
	for id := range c.Weaknesses {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var buf bytes.Buffer
	str := func(s string) error {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			return err
		}
		buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
		return nil
	}
	buf.WriteString("{\n  \"version\": ")
	if err := str(c.Version); err != nil {
		return nil, err
	}
	buf.WriteString(",\n  \"date\": ")
	if err := str(c.Date); err != nil {
		return nil, err
	}
	buf.WriteString(",\n  \"source\": ")
	if err := str("npm:" + npmPackage + "@" + npmVersion + " " + archivePath); err != nil {
		return nil, err
	}
	buf.WriteString(",\n  \"weaknesses\": {")
	for i, id := range ids {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := str(strconv.Itoa(id)); err != nil {
			return nil, err
		}
		buf.WriteString(": ")
		if err := str(c.Weaknesses[id]); err != nil {
			return nil, err
		}
	}
	buf.WriteString("\n  }\n}\n")
	if !json.Valid(buf.Bytes()) {
		return nil, errors.New("rendered catalogue is not valid JSON")
	}
	return buf.Bytes(), nil
}
