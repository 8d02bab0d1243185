package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// advFixture is a small world for the advisory use cases: the unsorted
// project (admin team), lantern (non-mature) and jetty (mature), and one
// caller per role. Per-advisory grants are added by the helpers that make
// advisories: collab holds a direct collaborator grant, viewer a viewer
// grant through its group.
type advFixture struct {
	db  *postgres.DB
	svc *app.Advisories
	sys context.Context

	lanternTeam, jettyTeam, viewerGroup int64

	admin      app.Caller // global admin
	owner      app.Caller // lantern team
	mover      app.Caller // lantern and jetty teams
	jettyOwner app.Caller // jetty team (mature publisher)
	collab     app.Caller // collaborator grant
	viewer     app.Caller // viewer grant via a group
	stranger   app.Caller // signed in, no role
}

func newAdvFixture(t testing.TB) *advFixture {
	t.Helper()
	f := &advFixture{db: pgtest.New(t), sys: postgres.AsSystem(context.Background())}
	var err error
	if f.svc, err = app.NewAdvisories(app.AdvisoriesConfig{DB: f.db}); err != nil {
		t.Fatal(err)
	}
	unsorted, err := f.db.EnsureUnsortedProject(f.sys, testAdminGroup)
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, func(tx *postgres.DB) error {
		for _, g := range []struct {
			name string
			id   *int64
		}{{"lantern-security", &f.lanternTeam}, {"jetty-security", &f.jettyTeam}, {"lantern-readers", &f.viewerGroup}} {
			if err := tx.QueryRow(f.sys, `INSERT INTO groups (name) VALUES ($1) RETURNING id`, g.name).Scan(g.id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(f.sys, `INSERT INTO projects (slug, name, security_team_id, is_mature_publisher)
			VALUES ('lantern', 'Eclipse Lantern', $1, false), ('jetty', 'Eclipse Jetty', $2, true)`, f.lanternTeam, f.jettyTeam); err != nil {
			return err
		}
		users := []struct {
			c      *app.Caller
			admin  bool
			groups []int64
		}{
			{&f.admin, true, []int64{unsorted.SecurityTeamID}},
			{&f.owner, false, []int64{f.lanternTeam}},
			{&f.mover, false, []int64{f.lanternTeam, f.jettyTeam}},
			{&f.jettyOwner, false, []int64{f.jettyTeam}},
			{&f.collab, false, nil},
			{&f.viewer, false, []int64{f.viewerGroup}},
			{&f.stranger, false, nil},
		}
		for i, u := range users {
			var id int64
			if err := tx.QueryRow(f.sys, `INSERT INTO users (email) VALUES ($1) RETURNING id`, fmt.Sprintf("user%d@example.org", i)).Scan(&id); err != nil {
				return err
			}
			for _, g := range u.groups {
				if _, err := tx.Exec(f.sys, `INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)`, id, g); err != nil {
					return err
				}
			}
			*u.c = app.Caller{UserID: id, IsAdmin: u.admin, GroupIDs: u.groups, IP: "192.0.2.10", UserAgent: "advisory-test"}
		}
		return nil
	})
	return f
}

func (f *advFixture) exec(t testing.TB, fn func(tx *postgres.DB) error) {
	t.Helper()
	if err := f.db.InTx(f.sys, pgx.TxOptions{}, fn); err != nil {
		t.Fatal(err)
	}
}

// sql runs a statement on advisory a as the system principal; $1 is a's id.
func (f *advFixture) sql(t *testing.T, a *advisory.Advisory, stmt string, args ...any) {
	t.Helper()
	f.exec(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(f.sys, stmt, append([]any{a.ID}, args...)...)
		return err
	})
}

func goodContent() advisory.Content {
	return advisory.Content{
		Summary: "Path traversal in the lantern file server",
		Details: "A crafted path escapes the web root.",
		Affected: []advisory.Affected{{
			Package:  advisory.Package{Ecosystem: "Maven", Name: "org.eclipse.lantern:lantern-core"},
			Versions: []string{"1.0.0"},
		}},
		Severity: []advisory.Severity{{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}},
	}
}

// draft creates a draft on project slug through CreateDraft (as creator)
// and grants collab and viewer on it.
func (f *advFixture) draft(t *testing.T, slug string, creator app.Caller) *advisory.Advisory {
	t.Helper()
	a, err := f.svc.CreateDraft(context.Background(), creator, app.NewDraft{ProjectSlug: slug, Content: goodContent()})
	if err != nil {
		t.Fatal(err)
	}
	f.grant(t, a)
	return a
}

func (f *advFixture) lanternDraft(t *testing.T) *advisory.Advisory {
	return f.draft(t, "lantern", f.owner)
}

// triage writes a triage report as public intake would: the row, its v1
// and its intake sidecar, flagged when asked (always on unsorted).
func (f *advFixture) triage(t *testing.T, slug string, flagged bool) *advisory.Advisory {
	t.Helper()
	var a *advisory.Advisory
	f.exec(t, func(tx *postgres.DB) error {
		var projectID string
		if err := tx.QueryRow(f.sys, `SELECT id::text FROM projects WHERE slug = $1`, slug).Scan(&projectID); err != nil {
			return err
		}
		var err error
		a, err = tx.InsertAdvisory(f.sys, postgres.NewAdvisory{ProjectID: projectID, State: advisory.StateTriage, Kind: advisory.KindNative, Content: goodContent()}, nil)
		if err != nil {
			return err
		}
		if _, _, err := tx.AppendVersion(f.sys, a.ID, 0, postgres.AppendAlways); err != nil {
			return err
		}
		note := ""
		if flagged {
			note = "not ours"
		}
		_, err = tx.Exec(f.sys, `INSERT INTO advisory_intake_metadata (advisory_id, needs_admin_routing, admin_routing_note) VALUES ($1, $2, $3)`,
			a.ID, flagged || slug == "unsorted", note)
		return err
	})
	f.grant(t, a)
	return f.reload(t, a)
}

func (f *advFixture) grant(t *testing.T, a *advisory.Advisory) {
	t.Helper()
	f.sql(t, a, `INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission)
		VALUES ($1, 'user', $2, 'collaborator'), ($1, 'group', $3, 'viewer')`, f.collab.UserID, f.viewerGroup)
}

// published makes a draft on slug and marks it published, as the
// publication worker would.
func (f *advFixture) published(t *testing.T, slug string, creator app.Caller) *advisory.Advisory {
	t.Helper()
	a := f.draft(t, slug, creator)
	f.sql(t, a, `UPDATE advisories SET state = 'published', published_at = now() WHERE id = $1`)
	return f.reload(t, a)
}

func (f *advFixture) reload(t *testing.T, a *advisory.Advisory) *advisory.Advisory {
	t.Helper()
	var got *advisory.Advisory
	f.exec(t, func(tx *postgres.DB) error {
		var err error
		got, err = tx.AdvisoryByID(f.sys, a.AdvisoryID)
		return err
	})
	return got
}

// auditRow is one ledger row of an advisory.
type auditRow struct {
	Action   string
	ActorID  int64
	IP       string
	UA       string
	Metadata map[string]any
}

func (f *advFixture) audits(t *testing.T, a *advisory.Advisory) []auditRow {
	t.Helper()
	var out []auditRow
	f.exec(t, func(tx *postgres.DB) error {
		rows, err := tx.Query(f.sys, `SELECT action, COALESCE(actor_id, 0), COALESCE(host(ip_address), ''), user_agent, metadata
			FROM audit_log WHERE advisory_id = $1 ORDER BY id`, a.ID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditRow, error) {
			var x auditRow
			err := r.Scan(&x.Action, &x.ActorID, &x.IP, &x.UA, &x.Metadata)
			return x, err
		})
		return err
	})
	return out
}

// lastAudit is the newest audit row of a with action.
func (f *advFixture) lastAudit(t *testing.T, a *advisory.Advisory, action string) auditRow {
	t.Helper()
	rows := f.audits(t, a)
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Action == action {
			return rows[i]
		}
	}
	t.Fatalf("no %s audit row", action)
	return auditRow{}
}

// newActions are the audit actions of a after its first before rows.
func (f *advFixture) newActions(t *testing.T, a *advisory.Advisory, before int) []string {
	t.Helper()
	var out []string
	for _, r := range f.audits(t, a)[before:] {
		out = append(out, r.Action)
	}
	return out
}

func (f *advFixture) versionCount(t *testing.T, a *advisory.Advisory) int {
	t.Helper()
	var n int
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT count(*) FROM advisory_versions WHERE advisory_id = $1`, a.ID).Scan(&n)
	})
	return n
}

// latestVersion is a's newest version.
func (f *advFixture) latestVersion(t *testing.T, a *advisory.Advisory) advisory.Version {
	t.Helper()
	var v advisory.Version
	f.exec(t, func(tx *postgres.DB) error {
		var err error
		v, err = tx.LatestVersion(f.sys, a.ID)
		return err
	})
	return v
}

// useCase is one call of a service under test.
type useCase struct {
	name   string
	setup  func(t *testing.T, f *advFixture) *advisory.Advisory
	caller func(f *advFixture) app.Caller
	do     func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error)
	// kind is the expected error kind, 0 for success. A refused call must
	// write nothing: no audit row, no version, the row unchanged.
	kind apperr.Kind
	// actions are the audit rows a successful call writes, in order.
	actions []string
	// versions is how many versions a successful call appends.
	versions int
	check    func(t *testing.T, f *advFixture, before, after *advisory.Advisory)
}

func runUseCases(t *testing.T, f *advFixture, cases []useCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.setup(t, f)
			c := tc.caller(f)
			beforeAudit, beforeVersions := f.audits(t, a), f.versionCount(t, a)
			got, err := tc.do(context.Background(), f, c, a)
			afterAudit, afterVersions := f.audits(t, a), f.versionCount(t, a)
			after := f.reload(t, a)
			if tc.kind != 0 {
				if apperr.KindOf(err) != tc.kind {
					t.Fatalf("error %v (kind %v), want kind %v", err, apperr.KindOf(err), tc.kind)
				}
				if tc.kind == apperr.NotFound && !errors.Is(err, advisory.ErrNotFound) {
					t.Errorf("not found as %v; want advisory.ErrNotFound, the answer for a missing advisory", err)
				}
				if len(afterAudit) != len(beforeAudit) || afterVersions != beforeVersions {
					t.Errorf("refused call wrote %d audit rows and %d versions", len(afterAudit)-len(beforeAudit), afterVersions-beforeVersions)
				}
				if diff := cmp.Diff(a, after); diff != "" {
					t.Errorf("refused call changed the row (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var written []string
			for _, r := range afterAudit[len(beforeAudit):] {
				written = append(written, r.Action)
				if r.ActorID != c.UserID || r.IP != c.IP || r.UA != c.UserAgent {
					t.Errorf("%s: actor %d ip %q ua %q; want the caller's (INV-AUDIT-4)", r.Action, r.ActorID, r.IP, r.UA)
				}
			}
			if diff := cmp.Diff(tc.actions, written); diff != "" {
				t.Errorf("audit rows (-want +got):\n%s", diff)
			}
			if afterVersions-beforeVersions != tc.versions {
				t.Errorf("%d versions appended, want %d", afterVersions-beforeVersions, tc.versions)
			}
			if got == nil || got.AdvisoryID != a.AdvisoryID || got.State != after.State {
				t.Errorf("returned advisory %+v does not match the stored row", got)
			}
			if tc.check != nil {
				tc.check(t, f, a, after)
			}
		})
	}
}

// The callers of the use-case tables.
func asAdmin(f *advFixture) app.Caller      { return f.admin }
func asOwner(f *advFixture) app.Caller      { return f.owner }
func asMover(f *advFixture) app.Caller      { return f.mover }
func asJettyOwner(f *advFixture) app.Caller { return f.jettyOwner }
func asCollab(f *advFixture) app.Caller     { return f.collab }
func asViewer(f *advFixture) app.Caller     { return f.viewer }
func asStranger(f *advFixture) app.Caller   { return f.stranger }

func TestCreateDraft(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		caller app.Caller
		slug   string
		c      advisory.Content
		kind   apperr.Kind
	}{
		{"L2: team member creates", f.owner, "lantern", goodContent(), 0},
		{"L2: admin creates on any project", f.admin, "jetty", goodContent(), 0},
		{"L2: admin creates on unsorted", f.admin, "unsorted", goodContent(), 0},
		{"L2: other team refused", f.jettyOwner, "lantern", goodContent(), apperr.Forbidden},
		{"L2: no team refused", f.stranger, "lantern", goodContent(), apperr.Forbidden},
		{"L2: team member on unsorted refused", f.owner, "unsorted", goodContent(), apperr.Forbidden},
		{"L2: anonymous refused", app.Caller{}, "lantern", goodContent(), apperr.Unauthenticated},
		{"L2: unknown project refused", f.owner, "nope", goodContent(), apperr.Invalid},
		{"L2: invalid content refused", f.owner, "lantern", advisory.Content{Summary: "x", References: []advisory.Reference{{URL: "javascript:alert(1)"}}}, apperr.Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before int
			f.exec(t, func(tx *postgres.DB) error {
				return tx.QueryRow(f.sys, `SELECT (SELECT count(*) FROM advisories) + (SELECT count(*) FROM audit_log)`).Scan(&before)
			})
			a, err := f.svc.CreateDraft(ctx, tc.caller, app.NewDraft{ProjectSlug: tc.slug, Content: tc.c})
			if tc.kind != 0 {
				if apperr.KindOf(err) != tc.kind {
					t.Fatalf("error %v, want kind %v", err, tc.kind)
				}
				var after int
				f.exec(t, func(tx *postgres.DB) error {
					return tx.QueryRow(f.sys, `SELECT (SELECT count(*) FROM advisories) + (SELECT count(*) FROM audit_log)`).Scan(&after)
				})
				if after != before {
					t.Errorf("refused create wrote %d rows", after-before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.State != advisory.StateDraft || a.Kind != advisory.KindNative || a.Project.Slug != tc.slug || a.CreatedByID != tc.caller.UserID {
				t.Errorf("created %+v", a)
			}
			if n := f.versionCount(t, a); n != 1 {
				t.Errorf("%d versions after create, want v1", n)
			}
			rows := f.audits(t, a)
			if len(rows) != 1 || rows[0].Action != "advisory.created" || rows[0].ActorID != tc.caller.UserID || rows[0].IP != tc.caller.IP {
				t.Errorf("audit rows %+v, want one advisory.created by the caller", rows)
			}
		})
	}
	var ve *advisory.ValidationError
	_, err := f.svc.CreateDraft(ctx, f.owner, app.NewDraft{ProjectSlug: "lantern", Content: advisory.Content{References: []advisory.Reference{{URL: "gopher://x"}}}})
	if !errors.As(err, &ve) || ve.ByPath()["references[0].url"] == "" {
		t.Errorf("invalid content gives %v, want a *ValidationError naming references[0].url", err)
	}
}

func edit(change func(*advisory.Content)) func(context.Context, *advFixture, app.Caller, *advisory.Advisory) (*advisory.Advisory, error) {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		content := a.Content
		change(&content)
		return f.svc.Edit(ctx, c, a.AdvisoryID, content)
	}
}

func TestEdit(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	retitle := edit(func(c *advisory.Content) { c.Summary = "Path traversal (CVE pending)" })
	unchanged := edit(func(*advisory.Content) {})
	lowSeverity := edit(func(c *advisory.Content) {
		c.Severity = []advisory.Severity{{Type: advisory.SeverityUbuntu, Score: "low"}}
	})
	invalid := edit(func(c *advisory.Content) { c.CWEIDs = []string{"CWE-0"} })
	state := func(stmt string) func(t *testing.T, f *advFixture) *advisory.Advisory {
		return func(t *testing.T, f *advFixture) *advisory.Advisory {
			a := f.lanternDraft(t)
			f.sql(t, a, stmt)
			return f.reload(t, a)
		}
	}
	draft := func(t *testing.T, f *advFixture) *advisory.Advisory { return f.lanternDraft(t) }
	triage := func(t *testing.T, f *advFixture) *advisory.Advisory { return f.triage(t, "lantern", false) }
	flagged := func(t *testing.T, f *advFixture) *advisory.Advisory { return f.triage(t, "lantern", true) }
	approved := state(`UPDATE advisories SET review_status = 'approved' WHERE id = $1`)
	submitted := state(`UPDATE advisories SET review_status = 'submitted' WHERE id = $1`)
	published := func(t *testing.T, f *advFixture) *advisory.Advisory { return f.published(t, "lantern", f.owner) }
	edited := []string{"advisory.edited"}

	runUseCases(t, f, []useCase{
		{name: "owner edits a draft", setup: draft, caller: asOwner, do: retitle, actions: edited, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.Content.Summary != "Path traversal (CVE pending)" || after.RepublishRequired {
					t.Errorf("after edit: %+v", after)
				}
				rows := f.audits(t, after)
				if got := rows[len(rows)-1].Metadata["changed_fields"]; !cmp.Equal(got, []any{"summary"}) {
					t.Errorf("changed_fields %v", got)
				}
			}},
		{name: "collaborator edits a draft", setup: draft, caller: asCollab, do: retitle, actions: edited, versions: 1},
		{name: "admin edits a draft", setup: draft, caller: asAdmin, do: retitle, actions: edited, versions: 1},
		{name: "severity is derived again", setup: draft, caller: asOwner, do: lowSeverity, actions: edited, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if before.SeverityLevel != advisory.SeverityHigh || after.SeverityLevel != advisory.SeverityLow || after.SeverityScore != nil {
					t.Errorf("severity %q → %q %v", before.SeverityLevel, after.SeverityLevel, after.SeverityScore)
				}
			}},
		{name: "save without a change", setup: draft, caller: asOwner, do: unchanged, actions: edited, versions: 0},
		{name: "viewer", setup: draft, caller: asViewer, do: retitle, kind: apperr.Forbidden},
		{name: "stranger", setup: draft, caller: asStranger, do: retitle, kind: apperr.NotFound},
		{name: "other team", setup: draft, caller: asJettyOwner, do: retitle, kind: apperr.NotFound},
		{name: "invalid content writes nothing", setup: draft, caller: asOwner, do: invalid, kind: apperr.Invalid},
		{name: "dismissed", setup: state(`UPDATE advisories SET state = 'dismissed', dismissed_reason = 'dup', dismissed_from_state = 'draft' WHERE id = $1`),
			caller: asOwner, do: retitle, kind: apperr.Forbidden},
		{name: "GHSA-linked, even for an admin", setup: state(`UPDATE advisories SET kind = 'ghsa_linked' WHERE id = $1`),
			caller: asAdmin, do: retitle, kind: apperr.Forbidden},
		{name: "submitted, team member", setup: submitted, caller: asOwner, do: retitle, kind: apperr.Forbidden},
		{name: "submitted, admin", setup: submitted, caller: asAdmin, do: retitle, actions: edited, versions: 1},
		{name: "published sets republish_required", setup: published, caller: asOwner, do: retitle, actions: edited, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.RepublishRequired || after.State != advisory.StatePublished {
					t.Errorf("published edit: republish %v state %q", after.RepublishRequired, after.State)
				}
			}},
		{name: "approved, team member voids the approval", setup: approved, caller: asOwner, do: retitle,
			actions: []string{"advisory.edited", "advisory.review_approval_invalidated"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.ReviewStatus != advisory.ReviewNone {
					t.Errorf("review %q, want none (INV-REVIEW-4)", after.ReviewStatus)
				}
			}},
		{name: "approved, unchanged save by a team member still voids", setup: approved, caller: asCollab, do: unchanged,
			actions: []string{"advisory.edited", "advisory.review_approval_invalidated"}, versions: 0},
		{name: "approved, admin keeps the approval", setup: approved, caller: asAdmin, do: retitle, actions: edited, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.ReviewStatus != advisory.ReviewApproved {
					t.Errorf("review %q, want approved", after.ReviewStatus)
				}
			}},
		{name: "triage, owner", setup: triage, caller: asOwner, do: retitle, actions: edited, versions: 1},
		{name: "triage, collaborator", setup: triage, caller: asCollab, do: retitle, kind: apperr.Forbidden},
		{name: "flagged triage, owner", setup: flagged, caller: asOwner, do: retitle, kind: apperr.Forbidden},
		{name: "flagged triage, admin", setup: flagged, caller: asAdmin, do: retitle, actions: edited, versions: 1},
	})

	// A missing advisory answers exactly like an invisible one.
	_, err := f.svc.Edit(context.Background(), f.owner, "ECL-2222-3333-4444", goodContent())
	if !errors.Is(err, advisory.ErrNotFound) {
		t.Errorf("missing advisory: %v", err)
	}
	// The rejected edit returns the *ValidationError with field paths.
	a := f.lanternDraft(t)
	_, err = invalid(context.Background(), f, f.owner, a)
	var ve *advisory.ValidationError
	if !errors.As(err, &ve) || ve.ByPath()["cwe_ids[0]"] == "" {
		t.Errorf("invalid edit: %v, want a *ValidationError on cwe_ids[0]", err)
	}
}

func TestGetAndList(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	a := f.lanternDraft(t)
	f.draft(t, "jetty", f.jettyOwner)
	if _, err := f.svc.Get(ctx, f.viewer, a.AdvisoryID); err != nil {
		t.Errorf("viewer: %v", err)
	}
	if _, err := f.svc.Get(ctx, f.jettyOwner, a.AdvisoryID); !errors.Is(err, advisory.ErrNotFound) {
		t.Errorf("other team: %v, want not found", err)
	}
	vs, err := f.svc.Versions(ctx, f.collab, a.AdvisoryID)
	if err != nil || len(vs) != 1 || vs[0].Payload.ProjectName != "Eclipse Lantern" {
		t.Errorf("versions: %v %+v", err, vs)
	}
	for _, tc := range []struct {
		c    app.Caller
		want int
	}{{f.owner, 1}, {f.mover, 2}, {f.admin, 2}, {f.collab, 2}, {f.stranger, 0}} {
		p, err := f.svc.List(ctx, tc.c, postgres.AdvisoryFilter{})
		if err != nil || p.Total != tc.want || len(p.Items) != tc.want {
			t.Errorf("user %d lists %d of %d (%v), want %d", tc.c.UserID, len(p.Items), p.Total, err, tc.want)
		}
	}
	if _, err := f.svc.List(ctx, app.Caller{}, postgres.AdvisoryFilter{}); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Errorf("anonymous list: %v", err)
	}
}
