package project_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

func valid() project.Fields {
	return project.Fields{
		Slug: "technology.lantern", Name: "Eclipse Lantern", HomepageURL: "https://lantern.example.org/",
		SecurityTeam: "lantern-security",
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*project.Fields)
		paths map[string]string // path → message fragment; nil = valid
	}{
		{"valid", func(*project.Fields) {}, nil},
		{"single-character slug", func(f *project.Fields) { f.Slug = "a" }, nil},
		{"no homepage", func(f *project.Fields) { f.HomepageURL = "" }, nil},
		{"slug required", func(f *project.Fields) { f.Slug = "" }, map[string]string{"slug": "required"}},
		{"slug upper case", func(f *project.Fields) { f.Slug = "Lantern" }, map[string]string{"slug": "lower-case"}},
		{"slug ends with dot", func(f *project.Fields) { f.Slug = "lantern." }, map[string]string{"slug": "lower-case"}},
		{"slug starts with dash", func(f *project.Fields) { f.Slug = "-lantern" }, map[string]string{"slug": "lower-case"}},
		{"slug too long", func(f *project.Fields) { f.Slug = strings.Repeat("a", 101) }, map[string]string{"slug": "at most 100"}},
		{"name required", func(f *project.Fields) { f.Name = "" }, map[string]string{"name": "required"}},
		{"name too long", func(f *project.Fields) { f.Name = strings.Repeat("n", 201) }, map[string]string{"name": "at most 200"}},
		{"name control character", func(f *project.Fields) { f.Name = "a\nb" }, map[string]string{"name": "control"}},
		{"homepage not http", func(f *project.Fields) { f.HomepageURL = "ftp://example.org" }, map[string]string{"homepage_url": "http(s)"}},
		{"homepage javascript", func(f *project.Fields) { f.HomepageURL = "javascript:alert(1)" }, map[string]string{"homepage_url": "http(s)"}},
		{"homepage relative", func(f *project.Fields) { f.HomepageURL = "/x" }, map[string]string{"homepage_url": "http(s)"}},
		{"homepage with credentials", func(f *project.Fields) { f.HomepageURL = "https://u:p@example.org" }, map[string]string{"homepage_url": "http(s)"}},
		{"homepage too long", func(f *project.Fields) { f.HomepageURL = "https://example.org/" + strings.Repeat("x", 181) }, map[string]string{"homepage_url": "at most 200"}},
		{"team required", func(f *project.Fields) { f.SecurityTeam = "" }, map[string]string{"security_team": "required"}},
		{"team in SPN form", func(f *project.Fields) { f.SecurityTeam = "lantern@idm.example.org" }, map[string]string{"security_team": "bare group name"}},
		{"team too long", func(f *project.Fields) { f.SecurityTeam = strings.Repeat("g", 151) }, map[string]string{"security_team": "at most 150"}},
		{"every problem at once", func(f *project.Fields) { *f = project.Fields{HomepageURL: "x"} },
			map[string]string{"slug": "required", "name": "required", "homepage_url": "http(s)", "security_team": "required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := valid()
			tc.edit(&f)
			err := f.Validate()
			if tc.paths == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *project.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, apperr.Invalid) {
				t.Fatalf("Validate() = %v, want a *ValidationError (Invalid)", err)
			}
			got := ve.ByPath()
			if len(got) != len(tc.paths) {
				t.Errorf("problems %v, want paths %v", got, tc.paths)
			}
			for path, frag := range tc.paths {
				if !strings.Contains(got[path], frag) {
					t.Errorf("%s: %q does not mention %q", path, got[path], frag)
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	got := project.Fields{Slug: " a ", Name: " N ", Description: "  keep leading\n\n", HomepageURL: " https://x.org ", SecurityTeam: " t "}.Normalize()
	want := project.Fields{Slug: "a", Name: "N", Description: "  keep leading", HomepageURL: "https://x.org", SecurityTeam: "t"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDiff(t *testing.T) {
	before := valid()
	if p, n := project.Diff(before, before); p != nil || n != nil {
		t.Errorf("Diff of equal fields = %v, %v; want nil, nil", p, n)
	}
	after := before
	after.Name = "Lantern"
	after.IsMaturePublisher = true
	after.SecurityTeam = "lantern-team"
	p, n := project.Diff(before, after)
	wantP := map[string]any{"name": "Eclipse Lantern", "is_mature_publisher": false, "security_team": "lantern-security"}
	wantN := map[string]any{"name": "Lantern", "is_mature_publisher": true, "security_team": "lantern-team"}
	if diff := cmp.Diff(wantP, p); diff != "" {
		t.Errorf("previous (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantN, n); diff != "" {
		t.Errorf("new (-want +got):\n%s", diff)
	}
}

func TestSentinelAndErrors(t *testing.T) {
	if project.UnsortedSlug != access.UnsortedProjectSlug {
		t.Errorf("UnsortedSlug %q differs from access.UnsortedProjectSlug %q", project.UnsortedSlug, access.UnsortedProjectSlug)
	}
	if !project.ValidSlug(project.UnsortedSlug) {
		t.Error("the sentinel slug is not a valid slug")
	}
	if !(project.Project{Slug: "unsorted"}).IsUnsorted() || (project.Project{Slug: "lantern"}).IsUnsorted() {
		t.Error("IsUnsorted is wrong")
	}
	if !errors.Is(project.ErrSlugTaken, apperr.Conflict) || !errors.Is(project.ErrNotFound, apperr.NotFound) {
		t.Error("sentinels do not wrap their apperr kinds")
	}
	if !strings.HasPrefix(project.ErrSlugTaken.Error(), "slug:") {
		t.Error("ErrSlugTaken does not name the field")
	}
	for id, ok := range map[string]bool{
		"8d0c8f3e-4a3b-4b9e-9f43-2b0c5a1d2e3f": true, "8D0C8F3E-4A3B-4B9E-9F43-2B0C5A1D2E3F": true,
		"": false, "x": false, "8d0c8f3e4a3b4b9e9f432b0c5a1d2e3f": false, "8d0c8f3e-4a3b-4b9e-9f43-2b0c5a1d2e3f'": false,
	} {
		if project.ValidID(id) != ok {
			t.Errorf("ValidID(%q) = %v", id, !ok)
		}
	}
}
