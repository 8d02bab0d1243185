// Package osv builds the OSV document of an advisory version
// (publication-formats §2). It is a pure function of the pinned version's
// payload and the timestamps passed in (INV-VERSION-3): the same input
// gives byte-identical output, written by shared/canonjson.
package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/canonjson"
)

// SchemaVersion is the emitted schema_version. It stays 1.6.0 although the
// document is validated against a newer schema (publication-formats §1.4).
const SchemaVersion = "1.6.0"

// Input is what one OSV document is built from.
type Input struct {
	// Payload is the pinned version's payload.
	Payload advisory.Payload
	// Modified is the pinned version's created_at; it is also withdrawn
	// on a withdrawal.
	Modified time.Time
	// Published is the OSV published time. Zero means Modified, which is
	// what the pipeline passes (publication-formats §1.2: the original's
	// worker gives no override, so an edit moves published too).
	Published time.Time
}

// Timestamp renders t as publication-formats §1.1 asks: UTC,
// YYYY-MM-DDTHH:MM:SS.mmmZ, milliseconds truncated.
func Timestamp(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + fmt.Sprintf(".%03dZ", t.Nanosecond()/1e6)
}

// document is the OSV document; canonjson sorts the keys.
type document struct {
	SchemaVersion    string               `json:"schema_version"`
	ID               string               `json:"id"`
	Modified         string               `json:"modified"`
	Published        string               `json:"published"`
	Withdrawn        string               `json:"withdrawn,omitempty"`
	Aliases          []string             `json:"aliases,omitempty"`
	Summary          string               `json:"summary,omitempty"`
	Details          string               `json:"details,omitempty"`
	Severity         []advisory.Severity  `json:"severity,omitempty"`
	Affected         []advisory.Affected  `json:"affected,omitempty"`
	References       []advisory.Reference `json:"references,omitempty"`
	Credits          []advisory.Credit    `json:"credits,omitempty"`
	DatabaseSpecific databaseSpecific     `json:"database_specific"`
}

type databaseSpecific struct {
	AdvisoryHub struct {
		ProjectSlug string `json:"project_slug"`
	} `json:"advisoryhub"`
	CWEIDs []string `json:"cwe_ids,omitempty"`
}

// Build returns the OSV document of in, canonically encoded.
//
// Mapping (publication-formats §2): id is the advisory id; modified and
// published are the given times; aliases are the payload's aliases plus
// the assigned CVE, de-duplicated and sorted; summary, details, severity,
// affected, references and credits are copied when non-empty; withdrawn is
// set (to modified) when the payload carries a withdrawal reason, which is
// not itself written; database_specific carries the project slug and the
// CWE ids.
//
// One deviation: a reference stored without a type (which the domain
// treats as WEB) is written with type WEB, since the OSV schema requires
// the type.
func Build(in Input) ([]byte, error) {
	p := in.Payload
	if p.AdvisoryID == "" {
		return nil, errors.New("osv: payload has no advisory_id")
	}
	if in.Modified.IsZero() {
		return nil, errors.New("osv: no modified time")
	}
	published := in.Published
	if published.IsZero() {
		published = in.Modified
	}
	c := p.Content
	doc := document{
		SchemaVersion: SchemaVersion,
		ID:            string(p.AdvisoryID),
		Modified:      Timestamp(in.Modified),
		Published:     Timestamp(published),
		Aliases:       Aliases(p),
		Summary:       c.Summary,
		Details:       c.Details,
		Severity:      c.Severity,
		Affected:      c.Affected,
		Credits:       c.Credits,
	}
	if p.WithdrawnReason != "" {
		doc.Withdrawn = doc.Modified
	}
	for _, r := range c.References {
		r.Type = r.EffectiveType()
		doc.References = append(doc.References, r)
	}
	doc.DatabaseSpecific.AdvisoryHub.ProjectSlug = p.ProjectSlug
	doc.DatabaseSpecific.CWEIDs = c.CWEIDs
	for i, a := range doc.Affected {
		if err := checkRaw(a.EcosystemSpecific); err != nil {
			return nil, fmt.Errorf("osv: affected[%d].ecosystem_specific: %w", i, err)
		}
		if err := checkRaw(a.DatabaseSpecific); err != nil {
			return nil, fmt.Errorf("osv: affected[%d].database_specific: %w", i, err)
		}
		for j, r := range a.Ranges {
			if err := checkRaw(r.DatabaseSpecific); err != nil {
				return nil, fmt.Errorf("osv: affected[%d].ranges[%d].database_specific: %w", i, j, err)
			}
		}
	}
	out, err := canonjson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("osv: %w", err)
	}
	return out, nil
}

// checkRaw rejects a raw member that is present but not valid JSON (the
// encoder would fail on it with a less helpful message).
func checkRaw(raw json.RawMessage) error {
	if raw != nil && !json.Valid(raw) {
		return errors.New("not valid JSON")
	}
	return nil
}

// Aliases returns the OSV aliases of p: its aliases plus the assigned CVE,
// de-duplicated and sorted by code point (nil when there are none).
func Aliases(p advisory.Payload) []string {
	var out []string
	for _, a := range p.Content.Aliases {
		if strings.TrimSpace(a) != "" {
			out = append(out, a)
		}
	}
	if p.AssignedCVEID != "" {
		out = append(out, string(p.AssignedCVEID))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
