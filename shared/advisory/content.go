package advisory

import "encoding/json"

// Content is the OSV-aligned, payload-visible content of an advisory
// (requirements §4.1, data-model §4.1). Its JSON form is the one stored in
// the advisory's jsonb columns and in the version payload; lists encode as
// [] when empty, never null.
type Content struct {
	Summary    string      `json:"summary"`
	Details    string      `json:"details"`
	Aliases    []string    `json:"aliases"`
	References []Reference `json:"references"`
	Affected   []Affected  `json:"affected"`
	Severity   []Severity  `json:"severity"`
	CWEIDs     []string    `json:"cwe_ids"`
	Credits    []Credit    `json:"credits"`
}

// Reference is an OSV reference. An empty Type is stored as given and
// treated as WEB.
type Reference struct {
	Type ReferenceType `json:"type,omitempty"`
	URL  string        `json:"url"`
}

// EffectiveType returns the reference type, WEB when none is set.
func (r Reference) EffectiveType() ReferenceType {
	if r.Type == "" {
		return RefWeb
	}
	return r.Type
}

// Affected is an OSV affected entry: a package and the versions of it that
// are vulnerable.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies an affected package.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// Range is an OSV affected range: a typed list of version events.
type Range struct {
	Type             RangeType       `json:"type"`
	Repo             string          `json:"repo,omitempty"`
	Events           []Event         `json:"events"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Event is one OSV range event. A valid event sets exactly one field.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Severity is a severity entry: a CVSS vector or an Ubuntu priority word.
type Severity struct {
	Type  SeverityType `json:"type"`
	Score string       `json:"score"`
}

// Credit names a person or organisation credited on the advisory.
type Credit struct {
	Name    string     `json:"name"`
	Contact []string   `json:"contact,omitempty"`
	Type    CreditType `json:"type,omitempty"`
}

// MarshalJSON encodes c with empty lists as [] (the column defaults).
func (c Content) MarshalJSON() ([]byte, error) {
	type plain Content // no methods: avoids recursion
	return json.Marshal(plain(c.withEmptyLists()))
}

// withEmptyLists replaces nil top-level lists with empty ones.
func (c Content) withEmptyLists() Content {
	c.Aliases = nonNil(c.Aliases)
	c.References = nonNil(c.References)
	c.Affected = nonNil(c.Affected)
	c.Severity = nonNil(c.Severity)
	c.CWEIDs = nonNil(c.CWEIDs)
	c.Credits = nonNil(c.Credits)
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
