package advisory

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	old := samplePayload()
	same := samplePayload()
	// Raw JSON objects equal up to key order and spacing, nil vs empty
	// lists: no change.
	same.Content.Affected[0].EcosystemSpecific = json.RawMessage(`{ "imports" : [ "x" ] }`)
	if d, err := Diff(old, same); err != nil || len(d) != 0 {
		t.Fatalf("Diff of equal payloads: %v, %v", d, err)
	}
	empty, emptied := Payload{}, Payload{Content: Content{Aliases: []string{}, Credits: []Credit{}}}
	if d, _ := Diff(empty, emptied); len(d) != 0 {
		t.Errorf("nil and empty lists differ: %v", d)
	}

	changed := samplePayload()
	changed.Content.Summary = "Example stored XSS"
	changed.Content.Aliases = []string{"GHSA-xxxx-yyyy-zzzz", "CVE-2026-1234"} // reordered
	changed.ProjectSlug = "technology.other"
	later := old.GHSAMetadataSyncedAt.Add(time.Hour)
	changed.GHSAMetadataSyncedAt = &later
	d, err := Diff(old, changed)
	if err != nil {
		t.Fatal(err)
	}
	want := []FieldChange{
		{Field: "project_slug", Old: json.RawMessage(`"technology.example"`), New: json.RawMessage(`"technology.other"`)},
		{Field: "summary", Old: json.RawMessage(`"Example XSS"`), New: json.RawMessage(`"Example stored XSS"`)},
		{Field: "aliases", Old: json.RawMessage(`["CVE-2026-1234","GHSA-xxxx-yyyy-zzzz"]`), New: json.RawMessage(`["GHSA-xxxx-yyyy-zzzz","CVE-2026-1234"]`)},
		{Field: "ghsa_metadata_synced_at", Old: json.RawMessage(`"2026-05-07T12:00:00.123456Z"`), New: json.RawMessage(`"2026-05-07T13:00:00.123456Z"`)},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	keys, err := ChangedFields(old, changed)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"project_slug", "summary", "aliases", "ghsa_metadata_synced_at"}, keys); diff != "" {
		t.Errorf("ChangedFields (-want +got):\n%s", diff)
	}
	// Every payload key is diffable.
	b, _ := json.Marshal(old)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != len(PayloadKeys()) {
		t.Errorf("payload has %d keys, PayloadKeys lists %d", len(m), len(PayloadKeys()))
	}
	for _, k := range PayloadKeys() {
		if _, ok := m[k]; !ok {
			t.Errorf("PayloadKeys lists %q, which the payload lacks", k)
		}
	}
}

// lifecycle §12: a timestamp-only change is no reason for a version.
func TestSameContentIgnoresSyncTimestamp(t *testing.T) {
	a, b := samplePayload(), samplePayload()
	later := a.GHSAMetadataSyncedAt.Add(time.Minute)
	b.GHSAMetadataSyncedAt = &later
	if !a.SameContent(b) || a.Equal(b) {
		t.Errorf("SameContent %v, Equal %v; want true, false", a.SameContent(b), a.Equal(b))
	}
	b.WithdrawnReason = "gone"
	if a.SameContent(b) {
		t.Error("a withdrawal reason is content")
	}
}
