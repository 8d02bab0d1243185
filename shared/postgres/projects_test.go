package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

func slugs(ps []project.Project) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Slug)
	}
	return out
}

func TestProjectsStore(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	lantern, err := db.InsertProject(ctx, project.Fields{
		Slug: "technology.lantern", Name: "Lantern", Description: "d", HomepageURL: "https://lantern.example.org",
		SecurityTeam: "lantern-security", IsMaturePublisher: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !project.ValidID(lantern.ID) || lantern.SecurityTeam != "lantern-security" || lantern.SecurityTeamID == 0 ||
		!lantern.IsMaturePublisher || lantern.CreatedAt.IsZero() || lantern.Description != "d" {
		t.Errorf("inserted = %+v", lantern)
	}
	// A second project bound to the same (existing) group.
	ambra, err := db.InsertProject(ctx, project.Fields{Slug: "ambra", Name: "Ambra", SecurityTeam: "lantern-security"})
	if err != nil {
		t.Fatal(err)
	}
	if ambra.SecurityTeamID != lantern.SecurityTeamID {
		t.Errorf("the team group was created twice: %d, %d", ambra.SecurityTeamID, lantern.SecurityTeamID)
	}

	_, err = db.InsertProject(ctx, project.Fields{Slug: "ambra", Name: "Other", SecurityTeam: "x"})
	if !errors.Is(err, project.ErrSlugTaken) || !errors.Is(err, apperr.Conflict) {
		t.Errorf("duplicate slug = %v, want ErrSlugTaken", err)
	}

	for name, lookup := range map[string]func() (project.Project, error){
		"by id":   func() (project.Project, error) { return db.ProjectByID(ctx, lantern.ID) },
		"by slug": func() (project.Project, error) { return db.ProjectBySlug(ctx, "technology.lantern") },
	} {
		got, err := lookup()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(lantern, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	for _, id := range []string{"not-a-uuid", "00000000-0000-4000-8000-000000000000", ""} {
		if _, err := db.ProjectByID(ctx, id); !errors.Is(err, project.ErrNotFound) || !errors.Is(err, apperr.NotFound) {
			t.Errorf("ProjectByID(%q) = %v, want NotFound", id, err)
		}
	}
	if _, err := db.ProjectBySlug(ctx, "nope"); !errors.Is(err, apperr.NotFound) {
		t.Errorf("ProjectBySlug(unknown) = %v", err)
	}

	updated, err := db.UpdateProject(ctx, ambra.ID, project.Fields{Slug: "ambra2", Name: "Ambra 2", SecurityTeam: "ambra-team"})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Slug != "ambra2" || updated.SecurityTeam != "ambra-team" || updated.SecurityTeamID == lantern.SecurityTeamID {
		t.Errorf("updated = %+v", updated)
	}
	if _, err := db.UpdateProject(ctx, ambra.ID, project.Fields{Slug: "technology.lantern", Name: "x", SecurityTeam: "x"}); !errors.Is(err, project.ErrSlugTaken) {
		t.Errorf("update to a taken slug = %v", err)
	}
	if _, err := db.UpdateProject(ctx, "00000000-0000-4000-8000-000000000000", project.Fields{Slug: "zz", Name: "x", SecurityTeam: "x"}); !errors.Is(err, apperr.NotFound) {
		t.Errorf("update of an unknown project = %v", err)
	}

	if _, err := db.EnsureUnsortedProject(ctx, adminGroup); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    postgres.ProjectFilter
		want []string
	}{
		{"all by name", postgres.ProjectFilter{}, []string{"ambra2", "technology.lantern", "unsorted"}},
		{"pickers hide unsorted", postgres.ProjectFilter{ExcludeUnsorted: true}, []string{"ambra2", "technology.lantern"}},
		{"by team", postgres.ProjectFilter{TeamGroupIDs: []int64{lantern.SecurityTeamID}}, []string{"technology.lantern"}},
		{"no teams", postgres.ProjectFilter{TeamGroupIDs: []int64{}}, nil},
	}
	for _, tc := range cases {
		got, err := db.ListProjects(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, slugs(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// INV-PROJECT-2: exactly one `unsorted` project, owned by the admin group.
func TestEnsureUnsortedProject(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	first, err := db.EnsureUnsortedProject(ctx, adminGroup)
	if err != nil {
		t.Fatal(err)
	}
	if first.Slug != "unsorted" || first.Name != "Unsorted reports" || first.SecurityTeam != adminGroup || first.IsMaturePublisher {
		t.Errorf("unsorted = %+v", first)
	}
	again, err := db.EnsureUnsortedProject(ctx, adminGroup)
	if err != nil || again.ID != first.ID || again.SecurityTeamID != first.SecurityTeamID {
		t.Errorf("second call = %+v, %v; want the same project", again, err)
	}
	if n := count(t, db, `SELECT count(*) FROM projects WHERE slug = 'unsorted'`); n != 1 {
		t.Errorf("%d unsorted projects", n)
	}
	// The admin group was renamed in the configuration: the sentinel follows.
	moved, err := db.EnsureUnsortedProject(ctx, "new-admins")
	if err != nil || moved.ID != first.ID || moved.SecurityTeam != "new-admins" {
		t.Errorf("after an admin-group change = %+v, %v", moved, err)
	}
	if _, err := db.EnsureUnsortedProject(ctx, ""); !errors.Is(err, apperr.Invalid) {
		t.Errorf("empty admin group = %v", err)
	}
}

// boot.New ensures the sentinel as the system principal.
func TestBootEnsuresUnsortedProject(t *testing.T) {
	t.Parallel()
	d := pgtest.Open(t)
	bootFor(t, d, map[string]string{"OIDC_ADMIN_GROUP": "ops-admins"})
	p, err := d.ProjectBySlug(context.Background(), project.UnsortedSlug)
	if err != nil || p.SecurityTeam != "ops-admins" {
		t.Errorf("unsorted after boot = %+v, %v", p, err)
	}
}
