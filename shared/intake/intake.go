// Package intake is the pure domain of the public report form (/report/):
// what a report holds and how it is validated, the honeypot, and the
// server side of the ALTCHA proof-of-work check, including the replay
// guard's key.
//
// Rules: the form has no email field — a reporter's identity comes only
// from a signed-in session (INV-INTAKE-2); the optional display name is for
// credit only (INV-PRIVACY-3); a report on the "I don't know" sentinel goes
// to the `unsorted` project flagged for admin routing (INV-INTAKE-4); a
// honeypot trip creates no advisory but looks the same to the sender
// (INV-INTAKE-1).
//
// Sources: requirements §4.3, §6.1, data-model §4.4, §11, INV-INTAKE-1..4.
package intake

import (
	"strings"
	"unicode/utf8"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// UnsortedChoice is the form's "I don't know" project value; it files the
// report on the `unsorted` project (INV-INTAKE-4).
const UnsortedChoice = "__unsorted__"

// Form field names.
const (
	FieldProject     = "project_slug"
	FieldSummary     = "summary"
	FieldDetails     = "details"
	FieldDisplayName = "reporter_display_name"
	// FieldHoneypot is hidden from people by the stylesheet and rendered
	// only on the anonymous form; a bot fills it.
	FieldHoneypot = "website"
	// FieldALTCHA carries the widget's base64 payload.
	FieldALTCHA = "altcha"
)

// Stored lengths.
const (
	MaxSummary     = 300 // advisories.summary
	MaxDetails     = 50000
	MaxDisplayName = 200 // advisory_intake_metadata.reporter_display_name
	MaxUserAgent   = 512
	MaxHoneypot    = 512 // honeypot_submissions.honeypot_field_value
)

// Report is what the public form submits. There is deliberately no email
// field (INV-INTAKE-2).
type Report struct {
	ProjectSlug string // a project slug, or UnsortedChoice
	Summary     string
	Details     string // Markdown
	DisplayName string // optional credit; display only (INV-PRIVACY-3)
}

// Normalize trims the fields and strips NUL bytes and invalid UTF-8.
func (r Report) Normalize() Report {
	clean := func(s string) string {
		return strings.TrimSpace(strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD"))
	}
	return Report{
		ProjectSlug: clean(r.ProjectSlug),
		Summary:     clean(r.Summary),
		Details:     clean(r.Details),
		DisplayName: clean(r.DisplayName),
	}
}

// Unsorted reports whether the reporter chose "I don't know".
func (r Report) Unsorted() bool { return r.ProjectSlug == UnsortedChoice }

// Validate checks a normalized report. The project's existence is the use
// case's to check (it needs the store).
func (r Report) Validate() error {
	var ps []advisory.Problem
	switch {
	case r.ProjectSlug == "":
		ps = append(ps, advisory.Problem{Path: FieldProject, Message: "choose a project, or \"I don't know\""})
	case r.Unsorted():
	case r.ProjectSlug == project.UnsortedSlug || !project.ValidSlug(r.ProjectSlug):
		ps = append(ps, advisory.Problem{Path: FieldProject, Message: "unknown project"})
	}
	switch n := utf8.RuneCountInString(r.Summary); {
	case n == 0:
		ps = append(ps, advisory.Problem{Path: FieldSummary, Message: "this field is required"})
	case n > MaxSummary:
		ps = append(ps, advisory.Problem{Path: FieldSummary, Message: "at most 300 characters"})
	}
	switch n := utf8.RuneCountInString(r.Details); {
	case n == 0:
		ps = append(ps, advisory.Problem{Path: FieldDetails, Message: "this field is required"})
	case n > MaxDetails:
		ps = append(ps, advisory.Problem{Path: FieldDetails, Message: "at most 50000 characters"})
	}
	if utf8.RuneCountInString(r.DisplayName) > MaxDisplayName {
		ps = append(ps, advisory.Problem{Path: FieldDisplayName, Message: "at most 200 characters"})
	}
	if len(ps) > 0 {
		return &advisory.ValidationError{Problems: ps}
	}
	return nil
}

// UnknownProject is the validation error for a slug that names no project.
func UnknownProject() error {
	return &advisory.ValidationError{Problems: []advisory.Problem{{Path: FieldProject, Message: "unknown project"}}}
}

// HoneypotTripped reports whether the hidden field was filled.
func HoneypotTripped(value string) bool { return strings.TrimSpace(value) != "" }

// Truncate cuts s to at most n characters (for the user agent, the
// honeypot value), keeping valid UTF-8.
func Truncate(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
