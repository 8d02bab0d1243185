// Package schemaversion reads and rewrites schemas/SCHEMAS.VERSION, the
// provenance ledger of every vendored file under schemas/.
//
// Each non-comment line describes one written file:
//
//	path module version source-sha256 output-sha256 [key=value ...]
//
// path is relative to schemas/; module names where the source came from (a
// Go module path, or "npm:<package>"); version is the pinned upstream
// version; source-sha256 is the digest of the upstream file the output was
// derived from and output-sha256 the digest of the file as written. Optional
// key=value annotations record extra facts (e.g. the CWE catalogue version).
// Lines are kept sorted by path, so regenerating is diff-stable.
package schemaversion

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Header is the comment written at the top of the file.
const Header = `# Provenance of the vendored files under schemas/ (generated; do not edit).
# Regenerate with: go run ./schemas/gen/vendorschemas && go run ./schemas/gen/cwecatalog
# path module version source-sha256 output-sha256 [key=value ...]
`

// Line is one entry of the ledger.
type Line struct {
	Path         string
	Module       string
	Version      string
	SourceSHA256 string
	OutputSHA256 string
	Annotations  []string // key=value, in the order given
}

func (l Line) String() string {
	f := []string{l.Path, l.Module, l.Version, l.SourceSHA256, l.OutputSHA256}
	return strings.Join(append(f, l.Annotations...), " ")
}

// Parse reads the ledger. A missing file yields no lines.
func Parse(data []byte) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 5 {
			return nil, fmt.Errorf("line %d: want at least 5 fields, got %d", n, len(f))
		}
		l := Line{Path: f[0], Module: f[1], Version: f[2], SourceSHA256: f[3], OutputSHA256: f[4]}
		if len(f) > 5 {
			l.Annotations = f[5:]
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// Update replaces (by path) or adds the given lines in the ledger file and
// rewrites it sorted by path; lines for other paths are kept.
func Update(file string, updates ...Line) error {
	data, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	lines, err := Parse(data)
	if err != nil {
		return fmt.Errorf("parse %s: %w", file, err)
	}
	for _, u := range updates {
		i := slices.IndexFunc(lines, func(l Line) bool { return l.Path == u.Path })
		if i >= 0 {
			lines[i] = u
		} else {
			lines = append(lines, u)
		}
	}
	slices.SortFunc(lines, func(a, b Line) int { return strings.Compare(a.Path, b.Path) })
	var buf bytes.Buffer
	buf.WriteString(Header)
	for _, l := range lines {
		buf.WriteString(l.String())
		buf.WriteByte('\n')
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// SHA256 returns the lowercase hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
