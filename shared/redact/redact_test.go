package redact

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fake credentials are assembled at run time so that no token-shaped
// literal sits in the source (secret scanners, push protection).
func rep(s string, n int) string { return strings.Repeat(s, n) }

var (
	ghp       = "ghp_" + rep("A1b2", 9)                                   // 36 chars after the prefix
	ghs       = "ghs_" + rep("Zz9", 12)                                   //
	gho       = "gho_" + rep("x", 36)                                     //
	ghu       = "ghu_" + rep("Y", 36)                                     //
	ghr       = "ghr_" + rep("q7", 18)                                    //
	pat       = "github_pat_" + rep("11ABCDEFG0", 3) + "_" + rep("k", 59) //
	jwt       = "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0In0" + "." + "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	akia      = "AKIA" + "IOSFODNN7EXAMPLE"
	asia      = "ASIA" + "Y34FZKBOKMUTVV7A"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	skAnt     = "sk-ant-" + "api03-" + rep("Ab3_-", 18) + "AA"
	skProj    = "sk-proj-" + rep("Tq9x", 12)
	skOld     = "sk-" + rep("T3Bl", 12)
	xoxb      = "xoxb-" + "1234567890-0987654321-" + rep("a", 24)
	xoxp      = "xoxp-" + "1234567890-" + rep("b", 20)
	stripe    = "sk_" + "live_" + rep("4eC39Hq", 4)
	glpat     = "glpat-" + rep("x1Y2", 5)
	npmTok    = "npm_" + rep("n0pQ", 9)
	gapi      = "AIza" + rep("Sy7", 11) + "xy"
	pemBody   = "MIIEowIBAAKCAQEA7Q1xSecretKeyMaterialLine0123456789\nAnotherLineOfKeyMaterialABCDEF=="
	pem       = "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "\n-----END RSA PRIVATE KEY-----"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// --- original patterns (audit-actions.md §4, INV-AUDIT-2) ---
		{"pem rsa", "key: " + pem + " done", "key: *** done"},
		{"pem pkcs8", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", "***"},
		{"pem openssh", "x -----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY----- y", "x *** y"},
		{"pem ec", "-----BEGIN EC PRIVATE KEY-----abc-----END EC PRIVATE KEY-----", "***"},
		{"pem encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----", "***"},
		{"pgp key block", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----", "***"},
		{"two pem blocks, non-greedy", pem + " middle " + pem, "*** middle ***"},
		{"pem unterminated (truncated)", "error: -----BEGIN RSA PRIVATE KEY-----\nMIIEow", "error: ***"},
		{"ghp", "token " + ghp + " leaked", "token *** leaked"},
		{"gho", gho, "***"},
		{"ghu", "(" + ghu + ")", "(***)"},
		{"ghs", "git: " + ghs + ".", "git: ***."},
		{"ghr", ghr, "***"},
		{"github fine-grained pat", "pat=" + pat, "pat=***"},
		{"gh token glued to a word", "x" + ghp, "x***"},
		{"jwt", "Cookie " + jwt + " end", "Cookie *** end"},
		{"url userinfo", "fatal: https://user:" + "t0ken@github.com/org/repo.git not found",
			"fatal: https://***@github.com/org/repo.git not found"},
		{"original example (@ kept)", "https://u:tok@host/x", "https://***@host/x"},
		{"x-access-token url", "clone https://x-access-token:" + "abc123@github.com/eclipse/x.git",
			"clone https://***@github.com/eclipse/x.git"},
		{"x-access-token url with ghs", "https://x-access-token:" + ghs + "@github.com/a/b", "https://***@github.com/a/b"},
		{"x-access-token without scheme", "x-access-token:" + "abcdef@github.com", "x-access-token:***@github.com"},
		{"token-only userinfo", "https://" + "abcdef0123@github.com/a", "https://***@github.com/a"},
		{"postgres dsn", "dial postgres://app:" + "s3cret@db.internal:5432/hub failed", "dial postgres://***@db.internal:5432/hub failed"},
		{"password with slash (original #4)", "https://u:" + "p/w@host", "https://***@host"},
		{"query token (original example)", "?token=abc&x=1", "?token=***&x=1"},
		{"token= inside a name", "csrftoken=abc; other", "csrftoken=*** other"},
		{"access_token param", "GET /cb?access_token=" + "zzz&state=1", "GET /cb?access_token=***&state=1"},
		{"password=", "db password=hunter2 host=db", "db password=*** host=db"},
		{"PASSWORD= case-insensitive", "PASSWORD=Hunter2", "PASSWORD=***"},
		{"passwd=", "passwd=x", "passwd=***"},
		{"secret=", "client_secret=" + "abc&grant_type=x", "client_secret=***&grant_type=x"},
		{"api_key=", "api_key=" + "k1&q=2", "api_key=***&q=2"},
		{"apikey=", "apikey=" + "k1", "apikey=***"},
		{"api-key=", "x-api-key=" + "k1", "x-api-key=***"},
		{"private_key=", "private_key=" + "abc", "private_key=***"},
		{"authorization bearer (original #6)", "Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"},
		{"authorization lower-case", "authorization:bearer xyz", "authorization:bearer ***"},
		{"authorization basic", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"},
		{"authorization token scheme", "Authorization: token " + ghp, "Authorization: token ***"},
		{"authorization no scheme", "authorization=abc123", "authorization=***"},
		{"authorization in json text", `{"Authorization": "Bearer abc.def"}`, `{"Authorization": "***"}`},
		{"bearer (original #6 over-match kept)", `Authorization: Bearer abc"def`, `Authorization: Bearer ***`},
		{"standalone bearer", "sent Bearer " + rep("abcD3", 5) + " to api", "sent Bearer *** to api"},
		{"private_key json (original #7, quote kept)", `{"private_key": "abc"}`, `{"private_key": "***"}`},
		{"privatekey json", `{"privateKey":"a\"b"}`, `{"privateKey":"***"}`},
		{"password json", `{"password": "hunter2", "user": "alice"}`, `{"password": "***", "user": "alice"}`},
		{"access_token json", `{"access_token":"abc","token_type":"bearer"}`, `{"access_token":"***","token_type":"bearer"}`},
		// --- further formats ---
		{"aws access key id", "id " + akia + " used", "id *** used"},
		{"aws temporary key id", asia, "***"},
		{"aws secret key=", "aws_secret_access_key=" + awsSecret, "aws_secret_access_key=***"},
		{"aws secret ini", "aws_secret_access_key = " + awsSecret, "aws_secret_access_key = ***"},
		{"aws secret json text", `"AWS_SECRET_ACCESS_KEY": "` + awsSecret + `"`, `"AWS_SECRET_ACCESS_KEY": "***"`},
		{"anthropic key", "x-api-key: " + skAnt, "x-api-key: ***"},
		{"openai project key", "key " + skProj, "key ***"},
		{"openai legacy key", skOld + ".", "***."},
		{"slack bot", "slack " + xoxb, "slack ***"},
		{"slack user", xoxp, "***"},
		{"stripe", stripe, "***"},
		{"gitlab pat", glpat, "***"},
		{"npm", npmTok, "***"},
		{"google api key", gapi, "***"},
		{"case folding: long s", "\u017fecret=x", "\u017fecret=***"},
		{"case folding: kelvin sign", "to\u212aen=x", "to\u212aen=***"},
		{"several in one", "a " + ghp + " b " + akia + " c password=x", "a *** b *** c password=***"},
		// --- must not change (negatives) ---
		{"prose", "Buffer overflow in the HTTP/2 parser allows remote code execution.", ""},
		{"email", "Reported by alice@example.org and Bob <bob@eclipse.org>.", ""},
		{"advisory id", "ECL-cf23-gh45-jm67", ""},
		{"cve id", "CVE-2024-12345 and CVE-2021-44228", ""},
		{"ghsa id", "GHSA-abcd-2345-wxyz", ""},
		{"commit sha", "fixed in 3f786850e387550fdab836ed7e6dc881de23001b", ""},
		{"cvss 3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ""},
		{"cvss 4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", ""},
		{"plain url", "https://github.com/eclipse/jetty/pull/12#issuecomment-1", ""},
		{"url with port", "https://example.org:8443/path?q=1", ""},
		{"url with @ in path", "https://example.org/users/@alice", ""},
		{"url with @ in query", "https://example.org/search?q=a@b.org", ""},
		{"scp-like git remote", "git@github.com:eclipse/foo.git", ""},
		{"purl", "pkg:maven/org.eclipse.jetty/jetty-server@9.4.0", ""},
		{"mailto", "mailto:security@eclipse.org", ""},
		{"token word", "The token expired; please sign in again. Password reset required.", ""},
		{"token_type param", "token_type=bearer&expires_in=3600", ""},
		{"authorization prose", "Authorization failed for user alice", ""},
		{"bearer prose", "Bearer tokens are short-lived.", ""},
		{"hyphenated words", "risk-assessment-for-embedded-devices-2024 and task-scheduler", ""},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----", ""},
		{"certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", ""},
		{"short AKIA", "AKIAL is not a key", ""},
		{"eyJ alone", "eyJhbGciOi is only a header", ""},
		{"markdown", "**Impact**: see [docs](https://eclipse.org/docs#sec) and `code`.", ""},
		{"semver and ranges", ">=1.2.3, <2.0.0-rc.1", ""},
		{"unicode", "Sécurité: 漏洞 ☃", ""},
		{"empty", "", ""},
		{"marker already", "https://***@host token=*** ***", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.in
			}
			got := String(tc.in)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("String(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			if again := String(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestLiterals(t *testing.T) {
	got := Literals("push https://oauth2:plainTOKEN@host failed; plainTOKEN again "+ghp, "plainTOKEN", "")
	want := "push https://***@host failed; *** again ***"
	if got != want {
		t.Errorf("Literals = %q, want %q", got, want)
	}
}

type meta struct {
	Token string `json:"token"`
	URL   string `json:"url"`
	Count int    `json:"count"`
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"string", "https://u:p@h/x", "https://***@h/x"},
		{"scalars", []any{true, 1.5, 3, json.Number("12345678901234567890")}, []any{true, 1.5, 3, json.Number("12345678901234567890")}},
		{"object", map[string]any{
			"password":              "hunter2",
			"api_key":               "k",
			"X-Api-Key":             "k",
			"privateKey":            "k",
			"Authorization":         "Bearer abc",
			"client_secret":         "s",
			"access_token":          "t",
			"aws_secret_access_key": "s",
			"credentials":           map[string]any{"user": "u", "pass": "p"},
			"token":                 12345,
			"secret":                nil,
			"has_secret":            false,
			"input_tokens":          123,
			"token_type":            "bearer",
			"note":                  "see " + ghp,
			"advisory_id":           "ECL-cf23-gh45-jm67",
			"nested":                []any{map[string]any{"refresh_token": "r", "ok": "fine"}},
		}, map[string]any{
			"password":              "***",
			"api_key":               "***",
			"X-Api-Key":             "***",
			"privateKey":            "***",
			"Authorization":         "***",
			"client_secret":         "***",
			"access_token":          "***",
			"aws_secret_access_key": "***",
			"credentials":           "***",
			"token":                 "***",
			"secret":                nil,
			"has_secret":            false,
			"input_tokens":          123,
			"token_type":            "bearer",
			"note":                  "see ***",
			"advisory_id":           "ECL-cf23-gh45-jm67",
			"nested":                []any{map[string]any{"refresh_token": "***", "ok": "fine"}},
		}},
		{"map[string]string", map[string]string{"token": "t", "error": "git: https://a:b@c/d"},
			map[string]any{"token": "***", "error": "git: https://***@c/d"}},
		{"[]string", []string{"password=x", "ok"}, []any{"password=***", "ok"}},
		{"struct via encoding/json", meta{Token: "t", URL: "https://a:b@c", Count: 2},
			map[string]any{"token": "***", "url": "https://***@c", "count": json.Number("2")}},
		{"raw message", json.RawMessage(`{"secret":"s"}`), json.RawMessage(`{"secret":"***"}`)},
		{"unmarshalable", make(chan int), "***"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := JSON(tc.in)
			if tc.name == "unmarshalable" { // fmt %v of a channel is an address
				if _, ok := got.(string); !ok {
					t.Fatalf("JSON(chan) = %T, want string", got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("JSON mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONDoesNotMutateInput(t *testing.T) {
	in := map[string]any{"password": "x", "list": []any{"token=y"}}
	_ = JSON(in)
	if in["password"] != "x" || in["list"].([]any)[0] != "token=y" {
		t.Errorf("input mutated: %v", in)
	}
}

func TestRawJSON(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"object", `{"a":"https://u:p@h/x","password":"x","n":12345678901234567890,"html":"<b>&"}`,
			`{"a":"https://***@h/x","html":"<b>&","n":12345678901234567890,"password":"***"}`},
		{"array", `["token=abc", 1, null]`, `["token=***",1,null]`},
		{"string", `"` + ghp + `"`, `"***"`},
		{"invalid json is text", `not json password=x`, `not json password=***`},
		{"trailing data is text", `{"a":1} token=x`, `{"a":1} token=***`},
		{"empty", ``, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(RawJSON([]byte(tc.in))); got != tc.want {
				t.Errorf("RawJSON(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 2, "he"},
		{"héllo", 2, "hé"},
		{"☃☃☃", 1, "☃"},
		{"a👍b", 2, "a👍"},
		{"abc", 0, ""},
		{"abc", -1, ""},
		{"", 3, ""},
		{"a\xffb", 2, "a\xff"},
	}
	for _, tc := range tests {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if got := StringN("password=hunter2 and more", 12); got != "password=***" {
		t.Errorf("StringN = %q", got)
	}
}

func BenchmarkString(b *testing.B) {
	short := "git push failed: fatal: unable to access 'https://x-access-token:" + ghs + "@github.com/eclipse/pub.git/': 403"
	long := strings.Repeat("Buffer overflow in the HTTP/2 parser; see https://github.com/eclipse/jetty/pull/12 and CVE-2024-12345. ", 1000)
	b.Run("short", func(b *testing.B) {
		for b.Loop() {
			String(short)
		}
	})
	b.Run("100KB", func(b *testing.B) {
		for b.Loop() {
			String(long)
		}
	})
}
