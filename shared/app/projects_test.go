package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// TestMain serves every test file of package app_test.
func TestMain(m *testing.M) { pgtest.Main(m) }

const testAdminGroup = "advisoryhub-security"

type projectsFixture struct {
	db       *postgres.DB
	svc      *app.Projects
	admin    app.Caller
	member   app.Caller
	unsorted project.Project
}

func newProjectsFixture(t *testing.T) projectsFixture {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	svc, err := app.NewProjects(app.ProjectsConfig{DB: db, AdminGroup: testAdminGroup})
	if err != nil {
		t.Fatal(err)
	}
	unsorted, err := db.EnsureUnsortedProject(ctx, testAdminGroup)
	if err != nil {
		t.Fatal(err)
	}
	var adminID, memberID int64
	if err := db.QueryRow(ctx, `INSERT INTO users (email) VALUES ('admin@example.org') RETURNING id`).Scan(&adminID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO users (email) VALUES ('member@example.org') RETURNING id`).Scan(&memberID); err != nil {
		t.Fatal(err)
	}
	return projectsFixture{
		db: db, svc: svc, unsorted: unsorted,
		admin:  app.Caller{UserID: adminID, IsAdmin: true, GroupIDs: []int64{unsorted.SecurityTeamID}, IP: "192.0.2.5", UserAgent: "test-agent"},
		member: app.Caller{UserID: memberID, IP: "192.0.2.6"},
	}
}

type ledgerRow struct {
	ActorID   int64
	Action    string
	Previous  map[string]any
	New       map[string]any
	Metadata  map[string]any
	IP        string
	UserAgent string
}

func ledger(t *testing.T, db *postgres.DB) []ledgerRow {
	t.Helper()
	recs, err := db.ListAudit(context.Background(), postgres.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledgerRow
	for i := len(recs) - 1; i >= 0; i-- { // oldest first
		r := recs[i]
		row := ledgerRow{ActorID: r.ActorID, Action: string(r.Action), IP: r.IP, UserAgent: r.UserAgent}
		for dst, src := range map[*map[string]any]json.RawMessage{&row.Previous: r.Previous, &row.New: r.New, &row.Metadata: r.Metadata} {
			if src != nil {
				if err := json.Unmarshal(src, dst); err != nil {
					t.Fatal(err)
				}
			}
		}
		out = append(out, row)
	}
	return out
}

func lanternFields() project.Fields {
	return project.Fields{
		Slug: " technology.lantern ", Name: " Eclipse Lantern ", HomepageURL: "https://lantern.example.org",
		SecurityTeam: "lantern-security",
	}
}

func TestCreateProject(t *testing.T) {
	t.Parallel()
	fx := newProjectsFixture(t)
	ctx := context.Background()

	p, err := fx.svc.CreateProject(ctx, fx.admin, lanternFields())
	if err != nil {
		t.Fatal(err)
	}
	if p.Slug != "technology.lantern" || p.Name != "Eclipse Lantern" || p.SecurityTeam != "lantern-security" {
		t.Errorf("created = %+v", p)
	}
	want := []ledgerRow{{
		ActorID: fx.admin.UserID, Action: "project.created", IP: "192.0.2.5", UserAgent: "test-agent",
		New: map[string]any{
			"slug": "technology.lantern", "name": "Eclipse Lantern", "description": "",
			"homepage_url": "https://lantern.example.org", "security_team": "lantern-security", "is_mature_publisher": false,
		},
		Metadata: map[string]any{"project_id": p.ID, "slug": "technology.lantern"},
	}}
	if diff := cmp.Diff(want, ledger(t, fx.db)); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}

	cases := []struct {
		name   string
		caller app.Caller
		f      project.Fields
		kind   apperr.Kind
		field  string
	}{
		{"anonymous", app.Caller{}, lanternFields(), apperr.Unauthenticated, ""},
		{"non-admin", fx.member, lanternFields(), apperr.Forbidden, ""},
		{"taken slug", fx.admin, lanternFields(), apperr.Conflict, "slug"},
		{"invalid slug", fx.admin, project.Fields{Slug: "Bad Slug", Name: "x", SecurityTeam: "t"}, apperr.Invalid, "slug"},
		{"reserved slug", fx.admin, project.Fields{Slug: "unsorted", Name: "x", SecurityTeam: "t"}, apperr.Invalid, "slug"},
		{"missing name", fx.admin, project.Fields{Slug: "ok", SecurityTeam: "t"}, apperr.Invalid, "name"},
		{"bad homepage", fx.admin, project.Fields{Slug: "ok", Name: "x", SecurityTeam: "t", HomepageURL: "ftp://x"}, apperr.Invalid, "homepage_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fx.svc.CreateProject(ctx, tc.caller, tc.f)
			if apperr.KindOf(err) != tc.kind {
				t.Fatalf("CreateProject = %v, want kind %s", err, tc.kind)
			}
			var ve *project.ValidationError
			switch {
			case tc.kind == apperr.Invalid && (!errors.As(err, &ve) || ve.ByPath()[tc.field] == ""):
				t.Errorf("error %v does not name field %q", err, tc.field)
			case tc.kind == apperr.Conflict && !errors.Is(err, project.ErrSlugTaken):
				t.Errorf("error %v is not ErrSlugTaken", err)
			}
		})
	}
	if n := len(ledger(t, fx.db)); n != 1 {
		t.Errorf("refused creations left %d ledger entries, want 1", n)
	}
}

func TestUpdateProject(t *testing.T) {
	t.Parallel()
	fx := newProjectsFixture(t)
	ctx := context.Background()
	p, err := fx.svc.CreateProject(ctx, fx.admin, lanternFields())
	if err != nil {
		t.Fatal(err)
	}

	// Saving unchanged fields writes nothing and records nothing.
	same, err := fx.svc.UpdateProject(ctx, fx.admin, p.ID, lanternFields())
	if err != nil || same.ID != p.ID {
		t.Fatalf("no-op update = %+v, %v", same, err)
	}
	if n := len(ledger(t, fx.db)); n != 1 {
		t.Errorf("no-op update recorded: %d entries", n)
	}

	f := lanternFields()
	f.IsMaturePublisher = true
	f.SecurityTeam = "lantern-team"
	got, err := fx.svc.UpdateProject(ctx, fx.admin, p.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsMaturePublisher || got.SecurityTeam != "lantern-team" {
		t.Errorf("updated = %+v", got)
	}
	rows := ledger(t, fx.db)
	want := ledgerRow{
		ActorID: fx.admin.UserID, Action: "project.updated", IP: "192.0.2.5", UserAgent: "test-agent",
		Previous: map[string]any{"is_mature_publisher": false, "security_team": "lantern-security"},
		New:      map[string]any{"is_mature_publisher": true, "security_team": "lantern-team"},
		Metadata: map[string]any{"project_id": p.ID, "slug": "technology.lantern"},
	}
	if len(rows) != 2 {
		t.Fatalf("ledger has %d entries, want 2", len(rows))
	}
	if diff := cmp.Diff(want, rows[1]); diff != "" {
		t.Errorf("project.updated (-want +got):\n%s", diff)
	}

	other, err := fx.svc.CreateProject(ctx, fx.admin, project.Fields{Slug: "ambra", Name: "Ambra", SecurityTeam: "ambra"})
	if err != nil {
		t.Fatal(err)
	}
	unsortedFields := fx.unsorted.Fields()
	cases := []struct {
		name   string
		caller app.Caller
		id     string
		f      func() project.Fields
		kind   apperr.Kind
		field  string
	}{
		{"non-admin", fx.member, p.ID, lanternFields, apperr.Forbidden, ""},
		{"unknown project", fx.admin, "00000000-0000-4000-8000-000000000000", lanternFields, apperr.NotFound, ""},
		{"malformed id", fx.admin, "x", lanternFields, apperr.NotFound, ""},
		{"taken slug", fx.admin, other.ID, lanternFields, apperr.Conflict, "slug"},
		{"invalid", fx.admin, p.ID, func() project.Fields { f := lanternFields(); f.Name = ""; return f }, apperr.Invalid, "name"},
		{"slug of the sentinel", fx.admin, p.ID, func() project.Fields { f := lanternFields(); f.Slug = "unsorted"; return f }, apperr.Invalid, "slug"},
		{"sentinel renamed", fx.admin, fx.unsorted.ID, func() project.Fields { f := unsortedFields; f.Slug = "other"; return f }, apperr.Invalid, "slug"},
		{"sentinel rebound", fx.admin, fx.unsorted.ID, func() project.Fields { f := unsortedFields; f.SecurityTeam = "x"; return f }, apperr.Invalid, "security_team"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fx.svc.UpdateProject(ctx, tc.caller, tc.id, tc.f())
			if apperr.KindOf(err) != tc.kind {
				t.Fatalf("UpdateProject = %v, want kind %s", err, tc.kind)
			}
			var ve *project.ValidationError
			if tc.kind == apperr.Invalid && (!errors.As(err, &ve) || ve.ByPath()[tc.field] == "") {
				t.Errorf("error %v does not name field %q", err, tc.field)
			}
		})
	}
	if n := len(ledger(t, fx.db)); n != 3 {
		t.Errorf("ledger has %d entries, want 3 (refusals record nothing)", n)
	}

	// The sentinel's description may change.
	uf := unsortedFields
	uf.Description = "Reports filed without a project."
	if _, err := fx.svc.UpdateProject(ctx, fx.admin, fx.unsorted.ID, uf); err != nil {
		t.Errorf("editing the sentinel's description: %v", err)
	}
}

func TestListProjectsHidesUnsorted(t *testing.T) {
	t.Parallel()
	fx := newProjectsFixture(t)
	ctx := context.Background()
	if _, err := fx.svc.CreateProject(ctx, fx.admin, lanternFields()); err != nil {
		t.Fatal(err)
	}
	ps, err := fx.svc.ListProjects(ctx, fx.admin)
	if err != nil || len(ps) != 1 || ps[0].Slug != "technology.lantern" {
		t.Errorf("ListProjects = %v, %v", ps, err)
	}
	if _, err := fx.svc.ListProjects(ctx, fx.member); !errors.Is(err, apperr.Forbidden) {
		t.Errorf("non-admin ListProjects = %v", err)
	}
	if got, err := fx.svc.Project(ctx, fx.admin, ps[0].ID); err != nil || got.ID != ps[0].ID {
		t.Errorf("Project = %+v, %v", got, err)
	}
	if _, err := app.NewProjects(app.ProjectsConfig{}); err == nil {
		t.Error("NewProjects accepted an empty config")
	}
}
