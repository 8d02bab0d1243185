// Package redact scrubs credentials from text and JSON before anything is
// stored or shown: audit previous/new values and metadata, task last_error
// fields, GHSA/PMI/roster/LLM error strings, action-note bodies and
// notification bodies (INV-AUDIT-2, INV-SECRET-1, INV-SECRET-3, INV-SIM-3;
// audit-actions.md §4).
//
// Redaction is defence in depth: never put a secret into stored data on
// purpose. Every secret is replaced by Marker ("***"). The original's seven
// patterns are all applied (audit-actions.md §4; whole-match patterns
// first, then prefix-keeping ones), extended with further token formats and
// key names; see patterns for the deliberate differences. String is
// idempotent: String(String(x)) == String(x). JSON and RawJSON walk JSON
// values, redacting every string and masking the value of credential-named
// keys. Redact first, then Truncate.
package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
)

// Marker replaces every redacted secret.
const Marker = "***"

// pattern is one redaction rule: every match of re is replaced by repl
// (expanded as in regexp.ReplaceAllString). hints are lower-case strings of
// which at least one must occur in the case-folded text for re to be able
// to match; they only skip regexps that cannot match.
type pattern struct {
	re    *regexp.Regexp
	repl  string
	hints []string
}

func whole(expr string, hints ...string) pattern {
	return pattern{regexp.MustCompile(expr), Marker, hints}
}

// keep replaces the secret after group 1 and keeps group 1 and, when the
// expression has one, the last group.
func keep(expr string, hints ...string) pattern {
	re := regexp.MustCompile(expr)
	repl := "${1}" + Marker
	if n := re.NumSubexp(); n > 1 {
		repl += fmt.Sprintf("${%d}", n)
	}
	return pattern{re, repl, hints}
}

// patterns, applied in order. As in the original (audit-actions.md §4),
// whole-match patterns (pass 1: the match becomes Marker) run before the
// prefix-keeping ones (pass 2: "group 1 + ***").
//
// Pass-1 patterns carry no leading word boundary, so a secret glued to
// preceding text is still caught; each is specific enough not to hit prose,
// ids, hashes or CVSS vectors.
//
// In pass 2 the original applied #4 (URL), #5 (token=), #6
// (authorization), #7 (private_key). Here the patterns that need a key to
// recognise their secret run before those whose value may run over a
// neighbouring key (key=value takes everything up to the next space or
// "&"), so no key is consumed before its own value is masked; results on
// non-overlapping matches are unchanged. Where a pass-1 match may have
// swallowed a key glued to it ("ghp_…password=x"), Marker itself also
// counts as a key. Delimiters are kept (the URL's "@", the closing quote)
// where the original consumed them, which keeps String idempotent.
var patterns = []pattern{
	// --- pass 1 ---
	// 1. PEM private keys of any kind (original #1), incl. PGP key blocks;
	// then an unterminated block (e.g. a truncated error): all from BEGIN.
	whole(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`, "-----begin"),
	whole(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*`, "-----begin"),
	// 2. GitHub tokens ghp_ gho_ ghu_ ghs_ ghr_ (original #2), fine-grained
	// personal access tokens.
	whole(`gh[opusr]_[A-Za-z0-9_]{20,}`, "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
	whole(`github_pat_[A-Za-z0-9_]{20,}`, "github_pat_"),
	// 3. JWTs (original #3).
	whole(`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`, "eyj"),
	// AWS access key ids (long-term AKIA, temporary ASIA).
	whole(`(?:AKIA|ASIA)[A-Z0-9]{16}`, "akia", "asia"),
	// Slack tokens.
	whole(`xox[abposr]-[A-Za-z0-9-]{10,}`, "xox"),
	// Anthropic and OpenAI keys (INV-SIM-3: the LLM provider key).
	whole(`sk-ant-[A-Za-z0-9_-]{20,}`, "sk-ant-"),
	whole(`sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}`, "sk-"),
	whole(`sk-[A-Za-z0-9]{32,}`, "sk-"),
	// Stripe-style secret/restricted keys, GitLab PATs, npm tokens, Google
	// API keys.
	whole(`[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`, "k_live_", "k_test_"),
	whole(`glpat-[A-Za-z0-9_-]{20,}`, "glpat-"),
	whole(`npm_[A-Za-z0-9]{36,}`, "npm_"),
	whole(`AIza[0-9A-Za-z_-]{35}`, "aiza"),

	// --- pass 2 ---
	// 7. Quoted JSON keys in raw text (original #7 "private_key", extended
	// to every sensitive key name).
	keep(`(?i)("[a-z0-9_-]*(?:password|passwd|secret|token|api_?key|private_?key|authorization|access_?key)"\s*:\s*")((?:[^"\\]|\\.)+)(")`,
		"password", "passwd", "secret", "token", "api", "private", "authorization", "access"),
	// AWS secret access keys in key=value, INI or JSON-ish form.
	keep(`(?i)(aws_?secret_?access_?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}`, "aws"),
	// 6. Authorization header values (original #6, extended to other
	// schemes, "=" and quoted forms), then the original verbatim, then
	// standalone bearer credentials.
	keep(`(?i)(authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate)\s+)?)[^\s"',;]+`, "authorization"),
	keep(`(?i)(authorization:\s*bearer\s+)[^\s]+`, "authorization"),
	keep(`(?i)(\bbearer\s+)[A-Za-z0-9._~+/-]{16,}=*`, "bearer"),
	// 4. Credentials in a URL (original #4, any scheme, user-only userinfo
	// too): https://u:tok@host → https://***@host; git's bare
	// x-access-token:…@ form.
	keep(`(?i)((?:x-access-token|\*\*\*):)[^@\s]+(@)`, "x-access-token", Marker+":"),
	keep(`(://)[^/?#@\s]+(@)`, "://"),
	keep(`(://)[^/@\s:]+:[^@\s]+(@)`, "://"),
	// 5. key=value and query parameters (original #5 "token=", extended).
	keep(`(?i)((?:token|password|passwd|secret|api[_-]?key|access[_-]?key|private[_-]?key|\*\*\*)=)[^&\s]+`, "="),
}

// maxRounds bounds the fixpoint iteration in String.
const maxRounds = 8

// String returns s with every credential replaced by Marker. The patterns
// are re-applied until nothing changes, so the result is a fixpoint and
// String is idempotent.
func String(s string) string { return apply(s, true) }

func apply(s string, useHints bool) string {
	for range maxRounds {
		next := once(s, useHints)
		if next == s {
			return s
		}
		s = next
	}
	return s
}

func once(s string, useHints bool) string {
	folded := fold(s)
	for _, p := range patterns {
		if useHints && !containsAny(folded, p.hints) {
			continue
		}
		next := p.re.ReplaceAllString(s, p.repl)
		if next != s {
			s = next
			folded = fold(s)
		}
	}
	return s
}

// fold lower-cases s the way (?i) matching folds ASCII letters: besides
// unicode.ToLower, U+017F (long s) folds to "s" (U+212A, the Kelvin sign,
// already lowers to "k").
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 'ſ' {
			return 's'
		}
		return unicode.ToLower(r)
	}, s)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Literals replaces every occurrence of each non-empty secret in s with
// Marker, then applies String. Use it where the secret is known, e.g. the
// configured HTTPS token in git errors (audit-actions.md §4).
func Literals(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Marker)
		}
	}
	return String(s)
}

// sensitiveKey reports whether a JSON object key names a credential, in
// which case its whole (non-null, non-boolean) value is replaced.
// Matching ignores case, "-", "_", "." and spaces, and looks at the end of
// the key, so access_token and X-Api-Key match but input_tokens and
// token_type do not.
func sensitiveKey(k string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(k))
	for _, suf := range []string{
		"password", "passwd", "passphrase", "secret", "token", "apikey",
		"privatekey", "accesskey", "secretaccesskey", "authorization",
		"credential", "credentials", "cookie", "sessionid",
	} {
		if strings.HasSuffix(n, suf) {
			return true
		}
	}
	return false
}

// JSON returns a redacted deep copy of a JSON-like value: strings are
// redacted with String, object keys are kept, and the value of a sensitive
// key (password, token, secret, api_key, private_key, authorization, …)
// becomes Marker unless it is null or a boolean. Other scalars pass
// through. Values of other Go types are first converted through
// encoding/json, so structs are covered too; a value that cannot be
// marshalled becomes its redacted fmt %v text.
func JSON(v any) any {
	switch x := v.(type) {
	case nil, bool, float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, json.Number:
		return x
	case string:
		return String(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = jsonField(k, val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = JSON(val)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = jsonField(k, val)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = String(val)
		}
		return out
	case json.RawMessage:
		return json.RawMessage(RawJSON(x))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return String(fmt.Sprintf("%v", v))
	}
	var generic any
	if err := decode(b, &generic); err != nil {
		return String(string(b))
	}
	return JSON(generic)
}

func jsonField(k string, v any) any {
	if !sensitiveKey(k) {
		return JSON(v)
	}
	switch v.(type) {
	case nil, bool:
		return v
	}
	return Marker
}

// RawJSON redacts an encoded JSON document (see JSON) and re-encodes it
// (object keys sorted, numbers kept verbatim, no HTML escaping). Input that
// is not valid JSON is treated as text and redacted with String.
func RawJSON(b []byte) []byte {
	var v any
	if err := decode(b, &v); err != nil {
		return []byte(String(string(b)))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(JSON(v)); err != nil {
		return []byte(String(string(b)))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// decode parses exactly one JSON value, keeping numbers as json.Number.
func decode(b []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// Truncate returns at most n runes of s (n ≤ 0 gives ""), never splitting
// a UTF-8 sequence. Redact before truncating: a cut secret may no longer
// match its pattern. Invalid bytes count as one rune each.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// StringN is Truncate(String(s), n): the form for capped error fields such
// as last_error (INV-SIM-3: 8000 characters).
func StringN(s string, n int) string { return Truncate(String(s), n) }
