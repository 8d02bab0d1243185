package advisory

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// PayloadKeys are the keys of a version payload in their fixed order
// (data-model §4.2).
func PayloadKeys() []string {
	return []string{
		"advisory_id", "project_slug", "project_name", "summary", "details",
		"aliases", "references", "affected", "severity", "cwe_ids", "credits",
		"assigned_cve_id", "withdrawn_reason", "kind", "ghsa_id", "ghsa_owner",
		"ghsa_repo", "ghsa_metadata_synced_at",
	}
}

// FieldChange is one payload key that differs between two versions, with
// both values in canonical JSON (sorted object keys, compact).
type FieldChange struct {
	Field string
	Old   json.RawMessage
	New   json.RawMessage
}

// Diff returns the payload keys whose values differ from old to new, in
// payload key order: the field-level diff the version history and the
// timeline show. Lists are compared whole (a reordered list is a change);
// nil and empty lists are equal, as are JSON objects differing only in key
// order.
func Diff(old, new Payload) ([]FieldChange, error) {
	a, err := fields(old)
	if err != nil {
		return nil, fmt.Errorf("diff: old payload: %w", err)
	}
	b, err := fields(new)
	if err != nil {
		return nil, fmt.Errorf("diff: new payload: %w", err)
	}
	var out []FieldChange
	for _, k := range PayloadKeys() {
		if !bytes.Equal(a[k], b[k]) {
			out = append(out, FieldChange{Field: k, Old: a[k], New: b[k]})
		}
	}
	return out, nil
}

// ChangedFields returns the keys of Diff(old, new).
func ChangedFields(old, new Payload) ([]string, error) {
	d, err := Diff(old, new)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(d))
	for i, c := range d {
		keys[i] = c.Field
	}
	return keys, nil
}

// SameContent reports whether p and q record the same content for the
// purpose of appending a version: Equal, except that
// ghsa_metadata_synced_at is ignored (lifecycle §12: a heartbeat sync that
// only bumps the timestamp must not append a version).
func (p Payload) SameContent(q Payload) bool {
	p.GHSAMetadataSyncedAt, q.GHSAMetadataSyncedAt = nil, nil
	return p.Equal(q)
}

// fields splits p's canonical encoding into one canonical value per key.
func fields(p Payload) (map[string]json.RawMessage, error) {
	b, err := p.CanonicalJSON()
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}
