package advisory

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func samplePayload() Payload {
	synced := time.Date(2026, 5, 7, 12, 0, 0, 123456000, time.UTC)
	return Payload{
		AdvisoryID:           "ECL-cccc-ffff-gggg",
		ProjectSlug:          "technology.example",
		ProjectName:          "Eclipse Example",
		Content:              validContent(),
		AssignedCVEID:        "CVE-2026-0001",
		Kind:                 KindGHSALinked,
		GHSAID:               "GHSA-xxxx-yyyy-zzzz",
		GHSAOwner:            "eclipse",
		GHSARepo:             "example",
		GHSAMetadataSyncedAt: &synced,
	}
}

func TestPayloadKeysAndOrder(t *testing.T) {
	b, err := json.Marshal(Payload{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"advisory_id":"","project_slug":"","project_name":"","summary":"","details":"",` +
		`"aliases":[],"references":[],"affected":[],"severity":[],"cwe_ids":[],"credits":[],` +
		`"assigned_cve_id":"","withdrawn_reason":"","kind":"","ghsa_id":"","ghsa_owner":"","ghsa_repo":"",` +
		`"ghsa_metadata_synced_at":null}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("zero Payload JSON (-want +got):\n%s", diff)
	}
}

func TestPayloadStableEncoding(t *testing.T) {
	p := samplePayload()
	a, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, err := json.Marshal(samplePayload())
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Fatalf("encoding not stable:\n%s\n%s", a, b)
		}
	}
	if !strings.Contains(string(a), `"ghsa_metadata_synced_at":"2026-05-07T12:00:00.123456Z"`) {
		t.Errorf("synced_at not RFC 3339 UTC: %s", a)
	}

	// Round trip.
	var back Payload
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(p) {
		t.Errorf("round trip changed the payload:\n%s", a)
	}
	c, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(a), string(c)); diff != "" {
		t.Errorf("re-encoding differs (-first +second):\n%s", diff)
	}
}

func TestPayloadEqual(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Payload)
		equal  bool
	}{
		{"identical", func(*Payload) {}, true},
		{"credits removed", func(p *Payload) { p.Content.Credits = nil }, false},
		{"raw JSON key order and spacing", func(p *Payload) {
			p.Content.Affected[0].EcosystemSpecific = json.RawMessage(`{ "imports" : [ "x" ] }`)
		}, true},
		{"same instant in another zone", func(p *Payload) {
			t := p.GHSAMetadataSyncedAt.In(time.FixedZone("CEST", 2*3600))
			p.GHSAMetadataSyncedAt = &t
		}, true},
		{"synced_at cleared", func(p *Payload) { p.GHSAMetadataSyncedAt = nil }, false},
		{"summary edited", func(p *Payload) { p.Content.Summary += "!" }, false},
		{"project renamed", func(p *Payload) { p.ProjectName = "Renamed" }, false},
		{"withdrawn", func(p *Payload) { p.WithdrawnReason = "dup" }, false},
		{"event order", func(p *Payload) {
			ev := p.Content.Affected[0].Ranges[0].Events
			ev[0], ev[1] = ev[1], ev[0]
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePayload()
			tt.mutate(&p)
			if got := samplePayload().Equal(p); got != tt.equal {
				t.Errorf("Equal = %v, want %v", got, tt.equal)
			}
		})
	}

	// nil vs empty lists, on a payload whose lists are empty.
	a, b := Payload{AdvisoryID: "ECL-2222-2222-2222"}, Payload{AdvisoryID: "ECL-2222-2222-2222"}
	b.Content.Aliases, b.Content.CWEIDs = []string{}, []string{}
	if !a.Equal(b) {
		t.Error("nil and empty lists compare unequal")
	}
}

func TestPayloadCanonicalJSON(t *testing.T) {
	p := Payload{
		AdvisoryID: "ECL-2222-3333-4444",
		Content: Content{
			Summary: "<b>&</b>",
			Affected: []Affected{{
				Package:          Package{Ecosystem: "npm", Name: "x"},
				Versions:         []string{"1"},
				DatabaseSpecific: json.RawMessage(`{"z": 1.50, "a": {"y": true, "b": null}}`),
			}},
		},
		Kind: KindNative,
	}
	got, err := p.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"advisory_id":"ECL-2222-3333-4444","affected":[{"database_specific":{"a":{"b":null,"y":true},"z":1.50},` +
		`"package":{"ecosystem":"npm","name":"x"},"versions":["1"]}],"aliases":[],"assigned_cve_id":"","credits":[],` +
		`"cwe_ids":[],"details":"","ghsa_id":"","ghsa_metadata_synced_at":null,"ghsa_owner":"","ghsa_repo":"",` +
		`"kind":"native","project_name":"","project_slug":"","references":[],"severity":[],"summary":"<b>&</b>",` +
		`"withdrawn_reason":""}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("CanonicalJSON (-want +got):\n%s", diff)
	}
}

func TestPayloadUnmarshalPythonTimestamp(t *testing.T) {
	in := `{"advisory_id":"ECL-2222-3333-4444","ghsa_metadata_synced_at":"2026-05-07T12:00:00.123456+00:00","aliases":["A"]}`
	var p Payload
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 5, 7, 12, 0, 0, 123456000, time.UTC)
	if p.GHSAMetadataSyncedAt == nil || !p.GHSAMetadataSyncedAt.Equal(want) {
		t.Errorf("synced_at = %v, want %v", p.GHSAMetadataSyncedAt, want)
	}
	if diff := cmp.Diff([]string{"A"}, p.Content.Aliases); diff != "" {
		t.Errorf("aliases (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"ghsa_metadata_synced_at":"yesterday"}`), &p); err == nil {
		t.Error("bad timestamp accepted")
	}
}
