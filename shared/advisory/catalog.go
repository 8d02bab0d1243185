package advisory

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/eclipse-csi/advisoryhub/schemas"
)

// gitEcosystem is accepted beside the schema's ecosystem enum: the pinned
// OSV schema allows it in ecosystemWithSuffix although ecosystemName omits
// it (publication-formats §1.4).
const gitEcosystem = "GIT"

type ecosystemCatalog struct {
	schemaVersion string
	names         []string // schema enum order, then GIT
}

// ecosystemData is read from the embedded schemas once.
var ecosystemData = sync.OnceValues(func() (*ecosystemCatalog, error) {
	b, err := schemas.FS.ReadFile("osv/ecosystems.json")
	if err != nil {
		return nil, fmt.Errorf("load OSV ecosystems: %w", err)
	}
	var doc struct {
		SchemaVersion string   `json:"schema_version"`
		Ecosystems    []string `json:"ecosystems"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("load OSV ecosystems: %w", err)
	}
	if len(doc.Ecosystems) == 0 {
		return nil, fmt.Errorf("load OSV ecosystems: empty list")
	}
	// Only what the vendored schema's ecosystemName enum also accepts: an
	// ecosystem the list knows but the schema does not (TuxCare at 1.7.5)
	// would validate here and fail the export at publication.
	enum, err := schemaEcosystems()
	if err != nil {
		return nil, err
	}
	names := slices.DeleteFunc(slices.Clone(doc.Ecosystems), func(n string) bool { return !slices.Contains(enum, n) })
	if !slices.Contains(names, gitEcosystem) {
		names = append(names, gitEcosystem)
	}
	return &ecosystemCatalog{schemaVersion: doc.SchemaVersion, names: names}, nil
})

// Ecosystems returns the recognised OSV ecosystem names: the vendored OSV
// schema's ecosystem enum plus GIT. It returns nil if the embedded data is
// unreadable (a build defect caught by the tests).
func Ecosystems() []string {
	cat, err := ecosystemData()
	if err != nil {
		return nil
	}
	return slices.Clone(cat.names)
}

// OSVSchemaVersion returns the version of the OSV schema the ecosystem list
// was taken from.
func OSVSchemaVersion() string {
	cat, err := ecosystemData()
	if err != nil {
		return ""
	}
	return cat.schemaVersion
}

// ValidEcosystem reports whether s is a recognised OSV ecosystem, optionally
// followed by ":suffix" (e.g. "Debian:12"), as the schema's
// ecosystemWithSuffix pattern ^(<ecosystem>)(:.+)?$ allows. Names are
// case-sensitive.
func ValidEcosystem(s string) bool {
	ok, _ := checkEcosystem(s)
	return ok
}

func checkEcosystem(s string) (bool, error) {
	cat, err := ecosystemData()
	if err != nil {
		return false, err
	}
	base, suffix, hasSuffix := strings.Cut(s, ":")
	if hasSuffix && (suffix == "" || strings.ContainsAny(suffix, "\n\r\u2028\u2029")) {
		// JSON Schema's "." matches no line terminator.
		return false, nil
	}
	return slices.Contains(cat.names, base), nil
}

type cweCatalog struct {
	version    string
	weaknesses map[string]string // "79" -> name
}

var cweData = sync.OnceValues(func() (*cweCatalog, error) {
	b, err := schemas.FS.ReadFile("cwe/cwe.json")
	if err != nil {
		return nil, fmt.Errorf("load CWE catalogue: %w", err)
	}
	var doc struct {
		Version    string            `json:"version"`
		Weaknesses map[string]string `json:"weaknesses"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("load CWE catalogue: %w", err)
	}
	if len(doc.Weaknesses) == 0 {
		return nil, fmt.Errorf("load CWE catalogue: no weaknesses")
	}
	return &cweCatalog{version: doc.Version, weaknesses: doc.Weaknesses}, nil
})

// cweIDPattern is the canonical CWE id spelling: no leading zeros.
var cweIDPattern = regexp.MustCompile(`^CWE-([1-9][0-9]{0,9})$`)

// CWEName returns the MITRE name of the weakness id ("CWE-79"), and whether
// it is a weakness in the vendored catalogue. Categories, views and
// non-canonical spellings ("cwe-79", "CWE-079") are not found.
func CWEName(id string) (string, bool) {
	name, ok, _ := lookupCWE(id)
	return name, ok
}

// CWEVersion returns the MITRE CWE version of the vendored catalogue.
func CWEVersion() string {
	cat, err := cweData()
	if err != nil {
		return ""
	}
	return cat.version
}

func lookupCWE(id string) (string, bool, error) {
	m := cweIDPattern.FindStringSubmatch(id)
	if m == nil {
		return "", false, nil
	}
	cat, err := cweData()
	if err != nil {
		return "", false, err
	}
	name, ok := cat.weaknesses[m[1]]
	return name, ok, nil
}

// schemaEcosystems returns the ecosystemName enum of the vendored OSV
// schema (osv/schema.json, $defs.ecosystemName.enum).
func schemaEcosystems() ([]string, error) {
	b, err := schemas.FS.ReadFile("osv/schema.json")
	if err != nil {
		return nil, fmt.Errorf("load OSV schema: %w", err)
	}
	var doc struct {
		Defs struct {
			EcosystemName struct {
				Enum []string `json:"enum"`
			} `json:"ecosystemName"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("load OSV schema: %w", err)
	}
	if len(doc.Defs.EcosystemName.Enum) == 0 {
		return nil, fmt.Errorf("load OSV schema: no ecosystemName enum")
	}
	return doc.Defs.EcosystemName.Enum, nil
}
