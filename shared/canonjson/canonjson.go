// Package canonjson writes JSON documents in the byte-stable form every
// publication export uses (publication-formats §1.3): object keys sorted by
// code point at every depth, two-space indentation, raw UTF-8 (including
// U+2028/U+2029), no HTML escaping, Python-style escapes for control
// characters, numbers kept exactly as written, and one trailing newline.
//
// It is the Go counterpart of the original's canonical pretty-printer
// (json.dumps(indent=2, sort_keys=True, ensure_ascii=False)).
package canonjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marshal encodes v with encoding/json, then rewrites the result in the
// canonical form. Numbers pass through as written, so a value that must
// keep a decimal point (a CVSS score of 10 written "10.0") should be a
// Float, and user JSON carried as json.RawMessage keeps its spelling.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return Format(buf.Bytes())
}

// Format rewrites the JSON document data in the canonical form.
func Format(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("canonjson: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("canonjson: trailing data after the document")
	}
	var out bytes.Buffer
	write(&out, tree, 0)
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func write(b *bytes.Buffer, v any, depth int) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(string(v))
	case string:
		writeString(b, v)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range v {
			indent(b, depth+1)
			write(b, e, depth+1)
			if i < len(v)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte(']')
	case map[string]any:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		// Byte order of UTF-8 is code point order.
		slices.Sort(keys)
		b.WriteString("{\n")
		for i, k := range keys {
			indent(b, depth+1)
			writeString(b, k)
			b.WriteString(": ")
			write(b, v[k], depth+1)
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("canonjson: unexpected %T", v)) // unreachable: the decoder yields only the types above
	}
}

func indent(b *bytes.Buffer, depth int) {
	for range depth {
		b.WriteString("  ")
	}
}

const hex = "0123456789abcdef"

// writeString quotes s as Python's json.dumps(ensure_ascii=False) does.
// Invalid UTF-8 (which the decoder already replaced) cannot occur here.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\ufffd")
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
}

// Float is a number that always keeps a decimal point: 10 encodes as 10.0,
// 7.5 as 7.5 (the original's Python floats; CVSS base scores).
type Float float64

// MarshalJSON writes f with the shortest round-tripping digits, adding ".0"
// to integral values.
func (f Float) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}
