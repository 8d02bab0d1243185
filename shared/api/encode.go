package api

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Time is a timestamp as the API writes it: ISO-8601 with offset,
// microseconds when not zero (2026-05-07T12:00:00.123456+00:00), null when
// unset.
type Time struct{ t *time.Time }

func apiTime(t time.Time) Time { return Time{&t} }

func apiTimePtr(t *time.Time) Time { return Time{t} }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.t == nil || t.t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + FormatTime(*t.t) + `"`), nil
}

// FormatTime formats t in UTC as the API does.
func FormatTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// body is a decoded request body: a JSON object, or form fields (strings).
type body struct {
	json map[string]json.RawMessage
	form map[string]string
}

// readBody accepts application/json (must be an object) or a form.
func readBody(w http.ResponseWriter, r *http.Request) (body, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			return body{}, badRequest("invalid_body", "The form body could not be read.")
		}
		b := body{form: map[string]string{}}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				b.form[k] = v[0]
			}
		}
		return b, nil
	default:
		var m map[string]json.RawMessage
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&m); err != nil || m == nil {
			return body{}, badRequest("invalid_body", "The body must be a JSON object.")
		}
		return body{json: m}, nil
	}
}

func (b body) has(key string) bool {
	if b.form != nil {
		_, ok := b.form[key]
		return ok
	}
	_, ok := b.json[key]
	return ok
}

// str reads a string field ("" when absent).
func (b body) str(key string) (string, error) {
	if b.form != nil {
		return b.form[key], nil
	}
	raw, ok := b.json[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badRequest("invalid_body", fmt.Sprintf("%s must be a string.", key))
	}
	return s, nil
}

// boolean reads a boolean field: a JSON boolean, or any non-empty form
// value (the contract's form semantics).
func (b body) boolean(key string) (bool, error) {
	if b.form != nil {
		return strings.TrimSpace(b.form[key]) != "", nil
	}
	raw, ok := b.json[key]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, badRequest("invalid_body", fmt.Sprintf("%s must be a boolean.", key))
	}
	return v, nil
}
