// Package project is the pure domain of projects: the Project type, the
// editable Fields with their validation, the field-level diff recorded by
// the project.updated audit entry, and the `unsorted` sentinel.
//
// Each project binds one security-team group from the OIDC group mirror;
// belonging to it makes someone owner of the project's advisories
// (INV-PROJECT-1). The singleton `unsorted` project receives reports filed
// without a project and has the admin group as its team (INV-PROJECT-2).
//
// Sources: data-model §3.1, INV-PROJECT-1, INV-PROJECT-2, INV-PERM-2.
package project

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// UnsortedSlug is the slug of the sentinel project (UNSORTED_PROJECT_SLUG).
const UnsortedSlug = "unsorted"

// UnsortedName is the sentinel project's name.
const UnsortedName = "Unsorted reports"

// Stored lengths (data-model §3.1, §2.2).
const (
	MaxSlug         = 100
	MaxName         = 200
	MaxHomepageURL  = 200
	MaxSecurityTeam = 150
)

// slugRE is the Eclipse PMI project id form.
var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$`)

// idRE is the textual form of a project id (a UUID).
var idRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidID reports whether s has the form of a project id (a UUID).
func ValidID(s string) bool { return idRE.MatchString(s) }

// ValidSlug reports whether s is a well-formed project slug.
func ValidSlug(s string) bool { return len(s) <= MaxSlug && slugRE.MatchString(s) }

// Domain errors.
var (
	// ErrNotFound: no such project.
	ErrNotFound = apperr.New(apperr.NotFound, "project not found")
	// ErrSlugTaken: the slug (field "slug") belongs to another project.
	ErrSlugTaken = apperr.New(apperr.Conflict, "slug: a project with this slug already exists")
)

// Project is a stored project.
type Project struct {
	ID                  string // UUID
	Slug                string
	Name                string
	Description         string
	HomepageURL         string
	SecurityTeamID      int64  // groups.id
	SecurityTeam        string // the group's name
	IsMaturePublisher   bool   // may publish without an approved review (INV-PERM-2)
	CreatedAt           time.Time
	LastPMISyncAt       *time.Time
	LastPMISyncError    string
	LastRosterSyncAt    *time.Time
	LastRosterSyncError string
}

// IsUnsorted reports whether p is the sentinel project.
func (p Project) IsUnsorted() bool { return p.Slug == UnsortedSlug }

// Fields returns the editable fields of p.
func (p Project) Fields() Fields {
	return Fields{
		Slug:              p.Slug,
		Name:              p.Name,
		Description:       p.Description,
		HomepageURL:       p.HomepageURL,
		SecurityTeam:      p.SecurityTeam,
		IsMaturePublisher: p.IsMaturePublisher,
	}
}

// Fields are what an admin sets when creating or editing a project. The
// security team is named by its group name; the group is created if it
// does not exist yet.
type Fields struct {
	Slug              string
	Name              string
	Description       string
	HomepageURL       string
	SecurityTeam      string
	IsMaturePublisher bool
}

// Normalize trims surrounding whitespace from every text field except the
// description, whose trailing whitespace only is removed.
func (f Fields) Normalize() Fields {
	f.Slug = strings.TrimSpace(f.Slug)
	f.Name = strings.TrimSpace(f.Name)
	f.Description = strings.TrimRight(f.Description, " \t\r\n")
	f.HomepageURL = strings.TrimSpace(f.HomepageURL)
	f.SecurityTeam = strings.TrimSpace(f.SecurityTeam)
	return f
}

// Validate checks normalized fields and returns nil or a *ValidationError
// naming every offending field ("slug", "name", "homepage_url",
// "security_team", "description").
func (f Fields) Validate() error {
	var v ValidationError
	switch {
	case f.Slug == "":
		v.add("slug", "is required")
	case utf8.RuneCountInString(f.Slug) > MaxSlug:
		v.add("slug", fmt.Sprintf("must be at most %d characters", MaxSlug))
	case !slugRE.MatchString(f.Slug):
		v.add("slug", "must be lower-case letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
	}
	switch {
	case f.Name == "":
		v.add("name", "is required")
	case utf8.RuneCountInString(f.Name) > MaxName:
		v.add("name", fmt.Sprintf("must be at most %d characters", MaxName))
	case hasControl(f.Name):
		v.add("name", "must not contain control characters")
	}
	if strings.ContainsRune(f.Description, 0) || !utf8.ValidString(f.Description) {
		v.add("description", "must be valid text")
	}
	if f.HomepageURL != "" {
		if msg := checkHomepage(f.HomepageURL); msg != "" {
			v.add("homepage_url", msg)
		}
	}
	switch {
	case f.SecurityTeam == "":
		v.add("security_team", "is required")
	case utf8.RuneCountInString(f.SecurityTeam) > MaxSecurityTeam:
		v.add("security_team", fmt.Sprintf("must be at most %d characters", MaxSecurityTeam))
	case strings.ContainsRune(f.SecurityTeam, '@'):
		v.add("security_team", "must be a bare group name, without '@domain'")
	case hasControl(f.SecurityTeam):
		v.add("security_team", "must not contain control characters")
	}
	return v.err()
}

func checkHomepage(s string) string {
	if utf8.RuneCountInString(s) > MaxHomepageURL {
		return fmt.Sprintf("must be at most %d characters", MaxHomepageURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(s, " \t\r\n") {
		return "must be an http(s) URL"
	}
	return ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return !utf8.ValidString(s)
}

// Problem is one invalid field.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field, sorted by path. It unwraps to
// apperr.Invalid.
type ValidationError struct {
	Problems []Problem
}

func (v *ValidationError) add(path, msg string) {
	v.Problems = append(v.Problems, Problem{Path: path, Message: msg})
}

func (v *ValidationError) err() error {
	if len(v.Problems) == 0 {
		return nil
	}
	sort.SliceStable(v.Problems, func(i, j int) bool { return v.Problems[i].Path < v.Problems[j].Path })
	return v
}

// Invalid returns a *ValidationError for one field.
func Invalid(path, msg string) error {
	return &ValidationError{Problems: []Problem{{Path: path, Message: msg}}}
}

func (v *ValidationError) Error() string {
	var sb strings.Builder
	sb.WriteString("invalid project: ")
	for i, p := range v.Problems {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(p.Path + ": " + p.Message)
	}
	return sb.String()
}

// Unwrap classifies the error as apperr.Invalid.
func (v *ValidationError) Unwrap() error { return apperr.Invalid }

// ByPath returns the messages keyed by field, for re-rendering a form.
func (v *ValidationError) ByPath() map[string]string {
	m := make(map[string]string, len(v.Problems))
	for _, p := range v.Problems {
		if prev, ok := m[p.Path]; ok {
			m[p.Path] = prev + "; " + p.Message
		} else {
			m[p.Path] = p.Message
		}
	}
	return m
}

// Diff returns the fields that differ between before and after, as the
// previous and new values of the project.updated audit entry, keyed by
// field name. Both maps are nil when nothing changed.
func Diff(before, after Fields) (previous, next map[string]any) {
	add := func(key string, a, b any) {
		if a == b {
			return
		}
		if previous == nil {
			previous, next = map[string]any{}, map[string]any{}
		}
		previous[key], next[key] = a, b
	}
	add("slug", before.Slug, after.Slug)
	add("name", before.Name, after.Name)
	add("description", before.Description, after.Description)
	add("homepage_url", before.HomepageURL, after.HomepageURL)
	add("security_team", before.SecurityTeam, after.SecurityTeam)
	add("is_mature_publisher", before.IsMaturePublisher, after.IsMaturePublisher)
	return previous, next
}

// AuditValue is the project as recorded in the project.created entry.
func (f Fields) AuditValue() map[string]any {
	return map[string]any{
		"slug":                f.Slug,
		"name":                f.Name,
		"description":         f.Description,
		"homepage_url":        f.HomepageURL,
		"security_team":       f.SecurityTeam,
		"is_mature_publisher": f.IsMaturePublisher,
	}
}
