package advisory

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// Each fuzz target also runs its seed corpus under a plain `go test`.

func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"ECL-cf23-gh45-jm67", "ECL-2222-3333-4444", "ecl-cf23-gh45-jm67",
		"ECL-cf23-gh45-jm6", "ECL-cf23-gh45-jm67\n", "", "ECL----", "ECL-ÿÿÿÿ-gh45-jm67",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if id != "" {
				t.Fatalf("ParseID(%q) returned %q with error", s, id)
			}
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("ParseID(%q) error %v is not ErrInvalidID", s, err)
			}
			return
		}
		// Accepted: round-trips exactly and has the canonical shape.
		if string(id) != s || len(s) != len("ECL-xxxx-xxxx-xxxx") {
			t.Fatalf("ParseID(%q) = %q", s, id)
		}
		for i, c := range s[3:] {
			if i%5 == 0 {
				if c != '-' {
					t.Fatalf("ParseID accepted %q", s)
				}
			} else if !strings.ContainsRune(IDAlphabet, c) {
				t.Fatalf("ParseID accepted %q with %q", s, c)
			}
		}
		again, err := ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("re-parse of %q: %q, %v", id, again, err)
		}
	})
}

func FuzzValidateAffected(f *testing.F) {
	for _, s := range []string{
		`[{"package":{"ecosystem":"Maven","name":"org.example:lib","purl":"pkg:maven/org.example/lib"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0.0"},{"fixed":"1.0.5"}]}]}]`,
		`[{"package":{"ecosystem":"Debian:12","name":"libfoo"},"versions":["1.2-1"],"ecosystem_specific":{"a":1},"database_specific":{}}]`,
		`[{"package":{"ecosystem":"GIT","name":"x"},"ranges":[{"type":"GIT","repo":"https://g/x","events":[{"introduced":"0"},{"last_affected":"abc"},{"limit":"def"}],"database_specific":{"k":[1,2]}}]}]`,
		`[{"package":{"ecosystem":"npm","name":"p"},"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}],"versions":["1"]}]`,
		`[{"package":{"ecosystem":"npm","name":""},"ranges":[{"type":"SEMVER","events":[{"fixed":"1","last_affected":"2"}]}]}]`,
		`[{"package":{},"ranges":[],"versions":[""],"database_specific":null}]`,
		`[{"package":{"ecosystem":"PyPI","name":"x"},"versions":["1"],"database_specific":{"b":"\u003c","a":1e400}}]`,
		`[]`, `null`, `[{}]`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var affected []Affected
		if json.Unmarshal(data, &affected) != nil {
			return
		}
		err := Content{Affected: affected}.Validate()
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Validate error %v is not a non-empty *ValidationError", err)
			}
			for _, p := range ve.Problems {
				if !strings.HasPrefix(p.Path, "affected[") || p.Message == "" {
					t.Fatalf("bad problem %+v", p)
				}
			}
			return
		}
		// Accepted: survives a JSON round trip and still validates.
		b, err := json.Marshal(affected)
		if err != nil {
			t.Fatalf("marshal accepted content: %v", err)
		}
		var again []Affected
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if err := (Content{Affected: again}).Validate(); err != nil {
			t.Fatalf("round trip of %s no longer validates: %v", b, err)
		}
		b2, err := json.Marshal(again)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b, b2)
		}
	})
}

func FuzzCVSS(f *testing.F) {
	for _, s := range []struct{ typ, vector string }{
		{"CVSS_V2", v2High}, {"CVSS_V2", v2Low},
		{"CVSS_V3", v30Critical}, {"CVSS_V3", v31Medium}, {"CVSS_V3", v31Zero},
		{"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H/MAV:A"},
		{"CVSS_V4", v40Critical}, {"CVSS_V4", v40Zero},
		{"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:H/MAV:L/S:P"},
		{"CVSS_V3", v40Critical}, {"CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:H/IR:H/AR:H"},
		{"Ubuntu", "negligible"}, {"Ubuntu", "Critical"}, {"CVSS_V3", "garbage"}, {"CVSS_V3", ""},
		{"CVSS_V2", "AV:N/"}, {"CVSS_V4", "CVSS:4.0/"}, {"", "CVSS:3.1/"},
	} {
		f.Add(s.typ, s.vector)
	}
	f.Fuzz(func(t *testing.T, typ, vector string) {
		s := Severity{Type: SeverityType(typ), Score: vector}
		err := Content{Severity: []Severity{s}}.Validate()
		level, score := DeriveSeverity([]Severity{s})
		if !level.Valid() {
			t.Fatalf("invalid level %q", level)
		}
		if score != nil && (*score < 0 || *score > 10) {
			t.Fatalf("score %v out of 0..10", *score)
		}
		if level == SeverityNone && score != nil {
			t.Fatalf("level none with score %v", *score)
		}
		if err != nil {
			if level != SeverityNone {
				t.Fatalf("rejected entry %+v derived %q", s, level)
			}
			return
		}
		// Accepted.
		if s.Type == SeverityUbuntu {
			if level == SeverityNone || score != nil {
				t.Fatalf("accepted Ubuntu %q derived %q, %v", vector, level, score)
			}
			return
		}
		base, err := CVSSBaseScore(s.Type, vector)
		if err != nil {
			t.Fatalf("accepted %+v but CVSSBaseScore fails: %v", s, err)
		}
		if base < 0 || base > 10 {
			t.Fatalf("base score %v out of 0..10", base)
		}
		if base > 0 && (score == nil || *score != base) {
			t.Fatalf("derived score %v, want %v", score, base)
		}
	})
}

func FuzzCWE(f *testing.F) {
	for _, s := range []string{"CWE-79", "CWE-16", "CWE-1000", "CWE-079", "cwe-79", "CWE-", "CWE-99999999999999999999", "79", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		name, ok := CWEName(id)
		err := Content{CWEIDs: []string{id}}.Validate()
		if ok != (err == nil) {
			t.Fatalf("CWEName(%q) ok=%v but Validate() = %v", id, ok, err)
		}
		if !ok {
			if name != "" {
				t.Fatalf("CWEName(%q) = %q, false", id, name)
			}
			return
		}
		if name == "" {
			t.Fatalf("CWEName(%q) has an empty name", id)
		}
		n, err := strconv.Atoi(strings.TrimPrefix(id, "CWE-"))
		if err != nil || "CWE-"+strconv.Itoa(n) != id {
			t.Fatalf("accepted non-canonical CWE id %q", id)
		}
	})
}
