package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// population is a generated set of users, groups, projects, advisories and
// grants for the visibility drift test.
type population struct {
	subjects []access.Subject
	names    []string // one per subject, for failure messages
}

// populate writes a random but seeded population: 10 groups plus the admin
// group, 6 projects (two sharing a team), 60 advisories in every state, 90
// grants (direct and group, viewer and collaborator), and 40 users with 0–3
// groups each, among them admins, banned users (one a banned admin) and
// shadow users holding direct grants.
func populate(t *testing.T, db *postgres.DB, seed uint64) population {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ctx := postgres.AsSystem(context.Background())
	var pop population
	err := db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		var adminGroup int64
		if err := tx.QueryRow(ctx, `INSERT INTO groups (name) VALUES ('advisoryhub-security') RETURNING id`).Scan(&adminGroup); err != nil {
			return err
		}
		groups := make([]int64, 10)
		for i := range groups {
			if err := tx.QueryRow(ctx, `INSERT INTO groups (name) VALUES ($1) RETURNING id`, fmt.Sprintf("team-%d", i)).Scan(&groups[i]); err != nil {
				return err
			}
		}
		projects := make([]string, 6)
		for i := range projects {
			team := groups[min(i, 4)] // projects 4 and 5 share a team
			if err := tx.QueryRow(ctx, `INSERT INTO projects (slug, name, security_team_id) VALUES ($1, $1, $2) RETURNING id::text`,
				fmt.Sprintf("project-%d", i), team).Scan(&projects[i]); err != nil {
				return err
			}
		}
		states := advisory.States()
		advs := make([]int64, 60)
		for i := range advs {
			n := postgres.NewAdvisory{ProjectID: projects[r.IntN(len(projects))], State: states[r.IntN(len(states))], Kind: advisory.KindNative}
			a, err := tx.InsertAdvisory(ctx, n, nil)
			if err != nil {
				return err
			}
			advs[i] = a.ID
		}
		users := make([]int64, 40)
		for i := range users {
			banned := i%10 == 3 || i == 1 // user 1 is a banned admin
			shadow := i%13 == 5
			if err := tx.QueryRow(ctx, `INSERT INTO users (email, is_active, is_provisioned) VALUES ($1, $2, $3) RETURNING id`,
				fmt.Sprintf("user%d@example.org", i), !banned, shadow).Scan(&users[i]); err != nil {
				return err
			}
			var member []int64
			if !shadow { // shadows belong to no group (INV-OIDC-5)
				if i < 3 {
					member = append(member, adminGroup)
				}
				for range r.IntN(4) {
					if g := groups[r.IntN(len(groups))]; !slices.Contains(member, g) {
						member = append(member, g)
					}
				}
			}
			for _, g := range member {
				if _, err := tx.Exec(ctx, `INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)`, users[i], g); err != nil {
					return err
				}
			}
			slices.Sort(member)
			pop.subjects = append(pop.subjects, access.Subject{
				UserID: users[i], IsAdmin: slices.Contains(member, adminGroup),
				Banned: banned, Provisioned: shadow, GroupIDs: member,
			})
			pop.names = append(pop.names, fmt.Sprintf("user%d(banned=%v shadow=%v groups=%v)", i, banned, shadow, member))
		}
		for range 90 {
			typ, principal := "group", groups[r.IntN(len(groups))]
			if r.IntN(2) == 0 {
				typ, principal = "user", users[r.IntN(len(users))]
			}
			perm := []string{"viewer", "collaborator"}[r.IntN(2)]
			if _, err := tx.Exec(ctx, `INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, advs[r.IntN(len(advs))], typ, principal, perm); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pop.subjects = append(pop.subjects, access.Subject{}, access.Subject{UserID: 999999})
	pop.names = append(pop.names, "anonymous", "unknown user")
	return pop
}

// INV-CONF-2, INV-PRIVACY-1: the SQL visibility filter, the row-level-
// security policy on its own, and access.Resolve agree on every (subject,
// advisory) pair of a generated population.
func TestVisibilityDrift(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pop := populate(t, db, 20260507)
	sys := postgres.AsSystem(context.Background())

	// (c) access.Resolve per row, on the facts the services load.
	var targets map[int64]access.Target
	err := db.InTx(sys, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		rows, err := tx.Query(sys, `SELECT advisory_id FROM advisories`)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		targets = make(map[int64]access.Target, len(ids))
		for _, id := range ids {
			a, err := tx.AdvisoryByID(sys, advisory.ID(id))
			if err != nil {
				return err
			}
			if targets[a.ID], err = tx.AccessTarget(sys, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	nonEmpty, everything := 0, 0
	for i, s := range pop.subjects {
		var byResolve []int64
		for id, tg := range targets {
			if access.Visible(s, tg) {
				byResolve = append(byResolve, id)
			}
		}
		slices.Sort(byResolve)

		// (a) the SQL filter, as the system principal.
		var byFilter []int64
		if err := db.InTx(sys, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
			var err error
			byFilter, err = tx.VisibleAdvisoryIDs(sys, s)
			return err
		}); err != nil {
			t.Fatal(err)
		}

		// (b) row-level security alone: no filter, the subject's principal.
		// And the list as the application runs it: both layers at once.
		ctx := postgres.WithPrincipal(context.Background(), postgres.PrincipalOf(s))
		var byPolicy []int64
		var page postgres.AdvisoryPage
		if err := db.InTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
			rows, err := tx.Query(ctx, `SELECT id FROM advisories ORDER BY id`)
			if err != nil {
				return err
			}
			if byPolicy, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
				return err
			}
			page, err = tx.ListAdvisories(ctx, s, postgres.AdvisoryFilter{PageSize: postgres.MaxPageSize})
			return err
		}); err != nil {
			t.Fatal(err)
		}

		if diff := cmp.Diff(byResolve, byFilter, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: SQL filter drifts from access.Resolve (-resolve +filter):\n%s", pop.names[i], diff)
		}
		if !slices.Equal(byResolve, byPolicy) {
			t.Errorf("%s: row-level security drifts from access.Resolve: resolve %v, policy %v", pop.names[i], byResolve, byPolicy)
		}
		listed := make([]int64, len(page.Items))
		for j, it := range page.Items {
			listed[j] = it.ID
		}
		slices.Sort(listed)
		if page.Total != len(byResolve) || !slices.Equal(listed, byResolve) {
			t.Errorf("%s: list shows %v (total %d), want %v", pop.names[i], listed, page.Total, byResolve)
		}
		if len(byResolve) > 0 {
			nonEmpty++
		}
		if len(byResolve) == len(targets) {
			everything++
		}
	}
	// The population must exercise the interesting cases.
	if nonEmpty < 20 || everything < 2 || everything == len(pop.subjects) {
		t.Fatalf("weak population: %d subjects see something, %d see everything, of %d", nonEmpty, everything, len(pop.subjects))
	}
}

func TestListAdvisoriesFiltersAndPages(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	var otherProject string
	w.tx(t, func(tx *postgres.DB) error {
		return tx.QueryRow(w.sys, `INSERT INTO projects (slug, name, security_team_id) VALUES ('other', 'Other', $1) RETURNING id::text`,
			w.teamGroup).Scan(&otherProject)
	})
	var ids []advisory.ID
	for i := range 30 {
		c := advisory.Content{Summary: fmt.Sprintf("issue %02d", i), Details: "plain"}
		switch i {
		case 3:
			c.Details = "a 100% wildcard_match"
		case 4:
			c.Aliases = []string{"GHSA-abcd-efgh-ijkl"}
		}
		ids = append(ids, w.create(t, c).AdvisoryID)
	}
	w.tx(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(w.sys, `UPDATE advisories SET state = 'triage', project_id = $2::uuid WHERE advisory_id = ANY($1)`,
			[]string{string(ids[5]), string(ids[6])}, otherProject)
		if err != nil {
			return err
		}
		_, err = tx.Exec(w.sys, `UPDATE advisories SET review_status = 'approved' WHERE advisory_id = $1`, string(ids[7]))
		return err
	})
	// A team member sees all 30.
	member := access.Subject{UserID: 1, GroupIDs: []int64{w.teamGroup}}
	list := func(f postgres.AdvisoryFilter) (postgres.AdvisoryPage, error) {
		var p postgres.AdvisoryPage
		err := w.db.InTx(w.sys, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
			var err error
			p, err = tx.ListAdvisories(w.sys, member, f)
			return err
		})
		return p, err
	}
	shown := func(p postgres.AdvisoryPage) []advisory.ID {
		out := make([]advisory.ID, len(p.Items))
		for i, it := range p.Items {
			out[i] = it.AdvisoryID
		}
		return out
	}
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)

	cases := []struct {
		name       string
		f          postgres.AdvisoryFilter
		want       []advisory.ID
		total      int
		page, size int
	}{
		{"default page", postgres.AdvisoryFilter{}, newestFirst[:25], 30, 1, 25},
		{"second page", postgres.AdvisoryFilter{Page: 2}, newestFirst[25:], 30, 2, 25},
		{"past the end", postgres.AdvisoryFilter{Page: 9}, []advisory.ID{}, 30, 9, 25},
		{"page below 1", postgres.AdvisoryFilter{Page: -3, PageSize: 2}, newestFirst[:2], 30, 1, 2},
		{"size clamped up", postgres.AdvisoryFilter{PageSize: -7}, newestFirst[:1], 30, 1, 1},
		{"size clamped down", postgres.AdvisoryFilter{PageSize: 1000}, newestFirst, 30, 1, 100},
		{"q summary", postgres.AdvisoryFilter{Q: " ISSUE 1"}, reversed(ids[10:20]), 10, 1, 25},
		{"q details, wildcard literal", postgres.AdvisoryFilter{Q: "100% wildcard_"}, []advisory.ID{ids[3]}, 1, 1, 25},
		{"q percent alone", postgres.AdvisoryFilter{Q: "%"}, []advisory.ID{ids[3]}, 1, 1, 25},
		{"q alias", postgres.AdvisoryFilter{Q: "ghsa-ABCD"}, []advisory.ID{ids[4]}, 1, 1, 25},
		{"q advisory id", postgres.AdvisoryFilter{Q: string(ids[9])[4:]}, []advisory.ID{ids[9]}, 1, 1, 25},
		{"project", postgres.AdvisoryFilter{ProjectID: otherProject}, []advisory.ID{ids[6], ids[5]}, 2, 1, 25},
		{"state", postgres.AdvisoryFilter{State: advisory.StateTriage}, []advisory.ID{ids[6], ids[5]}, 2, 1, 25},
		{"review status", postgres.AdvisoryFilter{ReviewStatus: advisory.ReviewApproved}, []advisory.ID{ids[7]}, 1, 1, 25},
		{"unknown review status", postgres.AdvisoryFilter{ReviewStatus: "bogus"}, []advisory.ID{}, 0, 1, 25},
		{"combined", postgres.AdvisoryFilter{State: advisory.StateTriage, Q: "issue 05"}, []advisory.ID{ids[5]}, 1, 1, 25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := list(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, shown(p)); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if p.Total != tc.total || p.Page != tc.page || p.PageSize != tc.size {
				t.Errorf("total %d page %d size %d, want %d %d %d", p.Total, p.Page, p.PageSize, tc.total, tc.page, tc.size)
			}
		})
	}
	if _, err := list(postgres.AdvisoryFilter{ProjectID: "not-a-uuid"}); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("malformed project id: %v, want Invalid", err)
	}
	// The total never counts what the caller cannot see (INV-PRIVACY-1).
	stranger := access.Subject{UserID: 2, GroupIDs: []int64{w.teamGroup + 100}}
	var p postgres.AdvisoryPage
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		p, err = tx.ListAdvisories(w.sys, stranger, postgres.AdvisoryFilter{})
		return err
	})
	if p.Total != 0 || len(p.Items) != 0 {
		t.Errorf("a stranger lists %d of %d", len(p.Items), p.Total)
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
