package advisory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Payload is the frozen content record of an advisory version (data-model
// §4.2, INV-VERSION-1). Its JSON form has exactly the keys
//
//	advisory_id project_slug project_name summary details aliases
//	references affected severity cwe_ids credits assigned_cve_id
//	withdrawn_reason kind ghsa_id ghsa_owner ghsa_repo ghsa_metadata_synced_at
//
// in that order; lists encode as [] when empty and ghsa_metadata_synced_at
// as an RFC 3339 UTC timestamp or null. Workflow metadata (state, review
// status, derived severity, …) is deliberately absent.
type Payload struct {
	AdvisoryID  ID
	ProjectSlug string
	// ProjectName is captured so a later project rename never rewrites an
	// already-published record.
	ProjectName          string
	Content              Content
	AssignedCVEID        CVEID // "" when none
	WithdrawnReason      string
	Kind                 Kind
	GHSAID               GHSAID // "" for native advisories
	GHSAOwner            string
	GHSARepo             string
	GHSAMetadataSyncedAt *time.Time
}

// payloadJSON is the wire form of Payload; its field order is the key
// order.
type payloadJSON struct {
	AdvisoryID           ID          `json:"advisory_id"`
	ProjectSlug          string      `json:"project_slug"`
	ProjectName          string      `json:"project_name"`
	Summary              string      `json:"summary"`
	Details              string      `json:"details"`
	Aliases              []string    `json:"aliases"`
	References           []Reference `json:"references"`
	Affected             []Affected  `json:"affected"`
	Severity             []Severity  `json:"severity"`
	CWEIDs               []string    `json:"cwe_ids"`
	Credits              []Credit    `json:"credits"`
	AssignedCVEID        CVEID       `json:"assigned_cve_id"`
	WithdrawnReason      string      `json:"withdrawn_reason"`
	Kind                 Kind        `json:"kind"`
	GHSAID               GHSAID      `json:"ghsa_id"`
	GHSAOwner            string      `json:"ghsa_owner"`
	GHSARepo             string      `json:"ghsa_repo"`
	GHSAMetadataSyncedAt *string     `json:"ghsa_metadata_synced_at"`
}

// MarshalJSON encodes p with a fixed key order, so equal payloads encode
// byte-identically.
func (p Payload) MarshalJSON() ([]byte, error) {
	c := p.Content.withEmptyLists()
	w := payloadJSON{
		AdvisoryID:      p.AdvisoryID,
		ProjectSlug:     p.ProjectSlug,
		ProjectName:     p.ProjectName,
		Summary:         c.Summary,
		Details:         c.Details,
		Aliases:         c.Aliases,
		References:      c.References,
		Affected:        c.Affected,
		Severity:        c.Severity,
		CWEIDs:          c.CWEIDs,
		Credits:         c.Credits,
		AssignedCVEID:   p.AssignedCVEID,
		WithdrawnReason: p.WithdrawnReason,
		Kind:            p.Kind,
		GHSAID:          p.GHSAID,
		GHSAOwner:       p.GHSAOwner,
		GHSARepo:        p.GHSARepo,
	}
	if t := p.GHSAMetadataSyncedAt; t != nil {
		s := t.UTC().Format(time.RFC3339Nano)
		w.GHSAMetadataSyncedAt = &s
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a stored payload. ghsa_metadata_synced_at accepts
// any RFC 3339 timestamp (the original wrote Python isoformat with
// "+00:00").
func (p *Payload) UnmarshalJSON(data []byte) error {
	var w payloadJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var synced *time.Time
	if w.GHSAMetadataSyncedAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *w.GHSAMetadataSyncedAt)
		if err != nil {
			return fmt.Errorf("payload ghsa_metadata_synced_at: %w", err)
		}
		synced = &t
	}
	*p = Payload{
		AdvisoryID:  w.AdvisoryID,
		ProjectSlug: w.ProjectSlug,
		ProjectName: w.ProjectName,
		Content: Content{
			Summary:    w.Summary,
			Details:    w.Details,
			Aliases:    w.Aliases,
			References: w.References,
			Affected:   w.Affected,
			Severity:   w.Severity,
			CWEIDs:     w.CWEIDs,
			Credits:    w.Credits,
		},
		AssignedCVEID:        w.AssignedCVEID,
		WithdrawnReason:      w.WithdrawnReason,
		Kind:                 w.Kind,
		GHSAID:               w.GHSAID,
		GHSAOwner:            w.GHSAOwner,
		GHSARepo:             w.GHSARepo,
		GHSAMetadataSyncedAt: synced,
	}
	return nil
}

// CanonicalJSON returns the canonical encoding of p: compact JSON with
// object keys sorted at every level (including inside database_specific
// and ecosystem_specific), no HTML escaping, numbers kept as written. Two
// payloads are equal exactly when their canonical encodings are.
func (p Payload) CanonicalJSON() ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return canonicalize(b)
}

// Equal reports whether p and q are the same content record. Nil and empty
// lists are equal, as are timestamps naming the same instant and raw JSON
// objects differing only in key order or spacing.
func (p Payload) Equal(q Payload) bool {
	a, err := p.CanonicalJSON()
	if err != nil {
		return false
	}
	b, err := q.CanonicalJSON()
	if err != nil {
		return false
	}
	return bytes.Equal(a, b)
}

// canonicalize re-encodes JSON with sorted object keys.
func canonicalize(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
