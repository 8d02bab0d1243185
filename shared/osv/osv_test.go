package osv_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/exporttest"
	"github.com/eclipse-csi/advisoryhub/shared/osv"
	"github.com/eclipse-csi/advisoryhub/shared/schemacheck"
)

func cases() []struct {
	name string
	in   osv.Input
} {
	return []struct {
		name string
		in   osv.Input
	}{
		{"rich", osv.Input{Payload: exporttest.Rich(), Modified: exporttest.V3Date}},
		{"withdrawn", osv.Input{Payload: exporttest.Withdrawn(), Modified: exporttest.V6Date}},
		{"minimal", osv.Input{Payload: exporttest.Minimal(), Modified: exporttest.V1Date}},
		{"package_severity", osv.Input{Payload: exporttest.PackageSeverity(), Modified: exporttest.V5Date, Published: exporttest.V1Date}},
	}
}

// TestGolden builds the OSV document of each fixture, validates it against
// the vendored OSV schema and compares it with
// testdata/TestGolden/<case>.json (-update rewrites).
func TestGolden(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := osv.Build(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemacheck.ValidateOSV(got); err != nil {
				t.Errorf("schema: %v", err)
			}
			exporttest.Golden(t, c.name, got)
		})
	}
}

func TestDeterministic(t *testing.T) {
	in := osv.Input{Payload: exporttest.Rich(), Modified: exporttest.V3Date}
	a, err := osv.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := osv.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same input differ")
	}
	// Aliases are sorted: their input order does not matter.
	r := rand.New(rand.NewPCG(1, 2))
	for range 10 {
		p := exporttest.Rich()
		p.Content.Aliases = append(slices.Clone(p.Content.Aliases), string(p.AssignedCVEID))
		r.Shuffle(len(p.Content.Aliases), func(i, j int) {
			p.Content.Aliases[i], p.Content.Aliases[j] = p.Content.Aliases[j], p.Content.Aliases[i]
		})
		c, err := osv.Build(osv.Input{Payload: p, Modified: exporttest.V3Date})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, c) {
			t.Fatalf("aliases %v give different bytes", p.Content.Aliases)
		}
	}
}

func TestMapping(t *testing.T) {
	p := exporttest.Rich()
	got, err := osv.Build(osv.Input{Payload: p, Modified: exporttest.V5Date})
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, want := range []string{
		`"modified": "2026-03-04T04:06:07.891Z"`, // UTC, milliseconds truncated
		`"published": "2026-03-04T04:06:07.891Z"`,
		`"schema_version": "1.6.0"`,
		`"aliases": [
    "CVE-2026-12345",
    "GHSA-9x4m-c6fh-2wq3",
    "OSV-2026-17"
  ]`,
		"Jetty’s parser <chunked> & trailers", // raw UTF-8, no HTML escaping
		"\u2028",                              // raw line separator
		`\u0001`, `\t`, `\"RFC 9112\"`,
		`"ratio": 1e3`, `"weight": 1.50`, `"n": -0.0`, // user numbers as written
		`"url": "https://example.org/untyped?a=1&b=<2>"`,
		`"project_slug": "rt.jetty"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(s, "withdrawn") {
		t.Error("withdrawn set on a live advisory")
	}
	if !strings.HasSuffix(s, "}\n") || strings.HasSuffix(s, "\n\n") {
		t.Error("want exactly one trailing newline")
	}
	w, err := osv.Build(osv.Input{Payload: exporttest.Withdrawn(), Modified: exporttest.V6Date})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(w), `"withdrawn": "2026-04-01T00:00:00.000Z"`) || strings.Contains(string(w), "Duplicate of") {
		t.Errorf("withdrawal not mapped as §2 says:\n%s", w)
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := osv.Build(osv.Input{Payload: advisory.Payload{}, Modified: exporttest.V1Date}); err == nil {
		t.Error("payload without id accepted")
	}
	if _, err := osv.Build(osv.Input{Payload: exporttest.Minimal()}); err == nil {
		t.Error("missing modified time accepted")
	}
}

func TestTimestamp(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000Z"},
		{"2026-01-02T03:04:05.999999999+02:00", "2026-01-02T01:04:05.999Z"},
		{"2026-12-31T23:59:59.0005-01:00", "2027-01-01T00:59:59.000Z"},
	} {
		tm, err := timeParse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := osv.Timestamp(tm); got != c.want {
			t.Errorf("Timestamp(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
