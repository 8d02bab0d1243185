package redact

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// planted is a secret embedded in fuzzed text; core is the part that must
// never survive (for key=value shapes, the value).
type planted struct{ text, core string }

func plantedSecrets() []planted {
	pw := "Sup3rS3cretValue9"
	tok := rep("Tk9z", 6)
	p := []planted{
		{"https://user:" + pw + "@example.org/repo.git", pw},
		{"x-access-token:" + pw + "@github.com", pw},
		{"password=" + pw, pw},
		{"token=" + pw, pw},
		{"api_key=" + pw, pw},
		{"aws_secret_access_key=" + awsSecret, awsSecret},
		{"Authorization: Bearer " + tok, tok},
		{`"private_key": "` + pw + `"`, pw},
		{`"password":"` + pw + `"`, pw},
		{pem, "SecretKeyMaterialLine0123456789"},
	}
	for _, s := range []string{ghp, ghs, gho, ghu, ghr, pat, jwt, akia, asia, skAnt, skProj, skOld,
		xoxb, xoxp, stripe, glpat, npmTok, gapi} {
		p = append(p, planted{s, s})
	}
	return p
}

// FuzzString: never panics; idempotent on arbitrary input; the hint
// prefilter never changes a result; a planted
// secret never survives whatever text surrounds it; valid UTF-8 stays
// valid; the marker is the only thing introduced.
func FuzzString(f *testing.F) {
	seeds := []string{"", "a", " ", "https://", "://", "@", "***", "token=", "eyJa.eyJb.", "-----BEGIN PRIVATE KEY-----",
		"ECL-cf23-gh45-jm67", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", `{"password": "`, "Authorization: ", "x", "\n"}
	for i, s := range seeds {
		f.Add(s, seeds[(i+3)%len(seeds)], uint8(i))
	}
	secrets := plantedSecrets()
	f.Fuzz(func(t *testing.T, prefix, suffix string, which uint8) {
		for _, in := range []string{prefix, suffix, prefix + suffix} {
			out := String(in)
			if slow := apply(in, false); slow != out {
				t.Fatalf("hint prefilter changed the result:\n in   %q\n fast %q\n slow %q", in, out, slow)
			}
			if again := String(out); again != out {
				t.Fatalf("not idempotent:\n in  %q\n out %q\n 2nd %q", in, out, again)
			}
			if utf8.ValidString(in) && !utf8.ValidString(out) {
				t.Fatalf("valid UTF-8 became invalid: %q → %q", in, out)
			}
		}
		sec := secrets[int(which)%len(secrets)]
		in := prefix + sec.text + suffix
		out := String(in)
		if again := String(out); again != out {
			t.Fatalf("not idempotent:\n in  %q\n out %q\n 2nd %q", in, out, again)
		}
		if strings.Count(in, sec.core) == 1 && strings.Contains(out, sec.core) {
			t.Fatalf("planted secret survived:\n in  %q\n out %q", in, out)
		}
	})
}

// FuzzRawJSON: never panics; valid JSON stays valid JSON; a planted secret
// in any string value or under a sensitive key never survives.
func FuzzRawJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `"x"`, `{"a":[1,"b",{"c":null}]}`, `{"token":"x"}`, `1e400`, `{"a":"\u00e9"}`, `not json`} {
		f.Add([]byte(s), uint8(0))
	}
	secrets := plantedSecrets()
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		out := RawJSON(b)
		if json.Valid(b) && !json.Valid(out) {
			t.Fatalf("valid JSON became invalid: %s → %s", b, out)
		}
		sec := secrets[int(which)%len(secrets)]
		doc := map[string]any{"k": string(b) + sec.text, "password": sec.core, "list": []any{sec.text}}
		enc, err := json.Marshal(doc)
		if err != nil {
			t.Skip()
		}
		if red := RawJSON(enc); strings.Contains(string(b), sec.core) == false && strings.Contains(string(red), sec.core) {
			t.Fatalf("planted secret survived: %s → %s", enc, red)
		}
	})
}
