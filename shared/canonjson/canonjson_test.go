package canonjson

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMarshal(t *testing.T) {
	v := map[string]any{
		"b":     []any{},
		"a":     map[string]any{},
		"é":     "x",
		"z":     []any{1, "two"},
		"s":     "<&> \u2028\u2029 é \" \\ \n\r\t\b\f \x01\x1f\x7f /",
		"score": Float(10),
		"half":  Float(7.5),
		"raw":   json.RawMessage(`{"y":1e400,"x":-0.0,"w":1.50}`),
	}
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n" +
		"  \"a\": {},\n" +
		"  \"b\": [],\n" +
		"  \"half\": 7.5,\n" +
		"  \"raw\": {\n    \"w\": 1.50,\n    \"x\": -0.0,\n    \"y\": 1e400\n  },\n" +
		"  \"s\": \"<&> \u2028\u2029 é \\\" \\\\ \\n\\r\\t\\b\\f \\u0001\\u001f\x7f /\",\n" +
		"  \"score\": 10.0,\n" +
		"  \"z\": [\n    1,\n    \"two\"\n  ],\n" +
		"  \"é\": \"x\"\n" +
		"}\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFormatRejects(t *testing.T) {
	for _, s := range []string{``, `{`, `{} {}`} {
		if _, err := Format([]byte(s)); err == nil {
			t.Errorf("Format(%q) accepted", s)
		}
	}
}
