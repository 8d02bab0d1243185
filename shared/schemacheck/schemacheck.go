// Package schemacheck validates the publication documents against the
// schemas vendored under schemas/ before anything is written or pushed
// (INV-PUB-6, publication-formats §1.4).
//
//   - OSV: schemas/osv/schema.json (JSON Schema 2020-12, the ECL id prefix
//     patched in).
//   - CSAF: schemas/csaf/csaf_json_schema.json with the FIRST CVSS schemas
//     it references, and then gocsaf's own validation: its schema check
//     (which also asserts "format") and its model check of the advisory
//     decoded strictly into csaf.Advisory.
//   - CVE record: the CVE JSON 5.x rules the CNA container uses, checked in
//     Go (see cve.go); the official CVE record schema is not vendored yet.
//
// Like the original, the vendored schemas treat "format" as an annotation.
// Schemas are compiled once per process, on first use, from the embedded
// schemas.FS; nothing is fetched.
package schemacheck

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gocsaf/csaf/v3/csaf"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/eclipse-csi/advisoryhub/schemas"
)

// Error reports why a document failed validation. Its message is
// "<kind>: <path>: <message>; <path>: <message>…", problems sorted by
// JSON pointer and then message.
type Error struct {
	Kind     string // "osv", "csaf" or "cve"
	Problems []Problem
}

// Problem is one failure: the JSON pointer of the offending value ("" for
// the document itself) and what is wrong with it.
type Problem struct {
	Path    string
	Message string
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString(e.Kind)
	sb.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			sb.WriteString("; ")
		}
		path := p.Path
		if path == "" {
			path = "/"
		}
		sb.WriteString(path)
		sb.WriteString(": ")
		sb.WriteString(p.Message)
	}
	return sb.String()
}

func newError(kind string, problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	slices.SortFunc(problems, func(a, b Problem) int {
		if c := comparePointers(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return &Error{Kind: kind, Problems: slices.Compact(problems)}
}

// comparePointers orders JSON pointers segment by segment, array indexes
// numerically.
func comparePointers(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, y := as[i], bs[i]
		if isIndex(x) && isIndex(y) && len(x) != len(y) {
			return len(x) - len(y)
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return len(as) - len(bs)
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Schema URLs: each vendored schema's own $id, so cross-references resolve
// to the embedded copies.
const (
	osvURL    = "https://raw.githubusercontent.com/ossf/osv-schema/main/validation/schema.json"
	csafURL   = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	cvss20URL = "https://www.first.org/cvss/cvss-v2.0.json"
	cvss30URL = "https://www.first.org/cvss/cvss-v3.0.json"
	cvss31URL = "https://www.first.org/cvss/cvss-v3.1.json"
)

var osvSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	return compile(osvURL, map[string]string{osvURL: "osv/schema.json"})
})

var csafSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	return compile(csafURL, map[string]string{
		csafURL:   "csaf/csaf_json_schema.json",
		cvss20URL: "csaf/cvss-v2.0.json",
		cvss30URL: "csaf/cvss-v3.0.json",
		cvss31URL: "csaf/cvss-v3.1.json",
	})
})

// compile registers the embedded files under their URLs and compiles root.
// No loader is configured, so an unknown reference fails instead of being
// fetched.
func compile(root string, files map[string]string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	for url, name := range files {
		b, err := schemas.FS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("schemacheck: %w", err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schemacheck: %s: %w", name, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("schemacheck: %s: %w", name, err)
		}
	}
	s, err := c.Compile(root)
	if err != nil {
		return nil, fmt.Errorf("schemacheck: compile %s: %w", root, err)
	}
	return s, nil
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not vendored", url)
}

// ValidateOSV checks an OSV document against schemas/osv/schema.json.
func ValidateOSV(doc []byte) error {
	s, err := osvSchema()
	if err != nil {
		return err
	}
	inst, err := decode(doc)
	if err != nil {
		return &Error{Kind: "osv", Problems: []Problem{{Message: err.Error()}}}
	}
	return newError("osv", schemaProblems(s, inst))
}

// ValidateCSAF checks a CSAF document against the vendored CSAF 2.0 schema
// and then runs gocsaf's validation: csaf.ValidateCSAF (its embedded copy
// of the same schema, with formats asserted) and the model check of
// csaf.Advisory, decoded with unknown fields rejected.
func ValidateCSAF(doc []byte) error {
	s, err := csafSchema()
	if err != nil {
		return err
	}
	inst, err := decode(doc)
	if err != nil {
		return &Error{Kind: "csaf", Problems: []Problem{{Message: err.Error()}}}
	}
	problems := schemaProblems(s, inst)
	msgs, err := csaf.ValidateCSAF(inst)
	if err != nil {
		return fmt.Errorf("csaf: gocsaf validation: %w", err)
	}
	for _, m := range msgs {
		path, msg, ok := strings.Cut(m, ": ")
		if !ok || !strings.HasPrefix(path, "/") && path != "" {
			path, msg = "", m
		}
		problems = append(problems, Problem{Path: path, Message: msg + " (gocsaf)"})
	}
	// Not decoded strictly: gocsaf v3.7.0's model spells the vulnerability
	// member "acknowledgements" where the CSAF 2.0 schema has
	// "acknowledgments", so its strict loader rejects valid documents.
	// Unknown members are the schema checks' business.
	var adv csaf.Advisory
	if err := json.Unmarshal(doc, &adv); err != nil {
		problems = append(problems, Problem{Message: "gocsaf model: " + err.Error()})
	} else if err := adv.Validate(); err != nil {
		problems = append(problems, Problem{Message: "gocsaf model: " + err.Error()})
	}
	return newError("csaf", problems)
}

func decode(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("not JSON: trailing data after the document")
	}
	return v, nil
}

// schemaProblems validates inst and flattens the failures to their leaves.
func schemaProblems(s *jsonschema.Schema, inst any) []Problem {
	err := s.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{Message: err.Error()}}
	}
	var problems []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			problems = append(problems, Problem{
				Path:    pointer(e.InstanceLocation),
				Message: e.ErrorKind.LocalizedString(printer),
			})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.SortStableFunc(problems, func(a, b Problem) int { return cmp.Compare(a.Path, b.Path) })
	return problems
}

var printer = message.NewPrinter(language.English)

// pointer renders a location as a JSON pointer.
func pointer(loc []string) string {
	var sb strings.Builder
	for _, seg := range loc {
		sb.WriteByte('/')
		seg = strings.ReplaceAll(seg, "~", "~0")
		sb.WriteString(strings.ReplaceAll(seg, "/", "~1"))
	}
	return sb.String()
}
