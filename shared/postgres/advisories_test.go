package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// advWorld is one project with a security team, for the advisory store
// tests. Everything is written as the system principal.
type advWorld struct {
	db        *postgres.DB
	sys       context.Context
	teamGroup int64
	projectID string
}

func newAdvWorld(t *testing.T) advWorld {
	t.Helper()
	w := advWorld{db: pgtest.New(t), sys: postgres.AsSystem(context.Background())}
	w.tx(t, func(tx *postgres.DB) error {
		if err := tx.QueryRow(w.sys, `INSERT INTO groups (name) VALUES ('lantern-security') RETURNING id`).Scan(&w.teamGroup); err != nil {
			return err
		}
		return tx.QueryRow(w.sys, `INSERT INTO projects (slug, name, security_team_id) VALUES ('lantern', 'Eclipse Lantern', $1) RETURNING id::text`,
			w.teamGroup).Scan(&w.projectID)
	})
	return w
}

func (w advWorld) tx(t *testing.T, fn func(tx *postgres.DB) error) {
	t.Helper()
	if err := w.db.InTx(w.sys, pgx.TxOptions{}, fn); err != nil {
		t.Fatal(err)
	}
}

// create inserts a draft with content c and its v1.
func (w advWorld) create(t *testing.T, c advisory.Content) *advisory.Advisory {
	t.Helper()
	var a *advisory.Advisory
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		a, err = tx.InsertAdvisory(w.sys, postgres.NewAdvisory{ProjectID: w.projectID, State: advisory.StateDraft, Kind: advisory.KindNative, Content: c}, nil)
		if err != nil {
			return err
		}
		_, _, err = tx.AppendVersion(w.sys, a.ID, 0, postgres.AppendAlways)
		return err
	})
	return a
}

func criticalContent() advisory.Content {
	return advisory.Content{
		Summary:  "Heap overflow in the lantern parser",
		Details:  "Crafted input overflows a buffer.",
		Aliases:  []string{"CVE-2026-0042"},
		Severity: []advisory.Severity{{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
	}
}

func TestInsertAndReadAdvisory(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	a := w.create(t, criticalContent())
	if _, err := advisory.ParseID(string(a.AdvisoryID)); err != nil {
		t.Fatalf("generated id: %v", err)
	}
	if a.State != advisory.StateDraft || a.Kind != advisory.KindNative || a.ReviewStatus != advisory.ReviewNone {
		t.Errorf("new advisory: state %q kind %q review %q", a.State, a.Kind, a.ReviewStatus)
	}
	if a.Project.Slug != "lantern" || a.Project.Name != "Eclipse Lantern" || a.Project.TeamGroupID != w.teamGroup {
		t.Errorf("project: %+v", a.Project)
	}
	// Derived severity (data-model §4.1): 9.8 is critical.
	if a.SeverityLevel != advisory.SeverityCritical || a.SeverityScore == nil || *a.SeverityScore != 9.8 {
		t.Errorf("severity: %q %v", a.SeverityLevel, a.SeverityScore)
	}
	got, err := readAdvisory(w.sys, w.db, a.AdvisoryID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Payload().Equal(a.Payload()) {
		t.Errorf("read back payload differs:\n%+v\n%+v", got.Payload(), a.Payload())
	}
	// Unknown and invisible advisories are not found, alike.
	for _, ctx := range []context.Context{w.sys, context.Background()} {
		id := advisory.ID("ECL-2222-2222-2222")
		if ctx != w.sys {
			id = a.AdvisoryID
		}
		err := w.db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
			_, err := tx.AdvisoryByID(ctx, id)
			return err
		})
		if !errors.Is(err, advisory.ErrNotFound) || apperr.KindOf(err) != apperr.NotFound {
			t.Errorf("AdvisoryByID(%s): %v, want not found", id, err)
		}
	}
}

// INV-IMPL-4: a colliding generated id is replaced, without aborting the
// transaction, at most advisory.MaxIDAttempts times.
func TestInsertAdvisoryRetriesIDCollisions(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	blockA := bytes.Repeat([]byte{0}, 32) // every byte maps to '2'
	blockB := bytes.Repeat([]byte{1}, 32) // every byte maps to '3'
	var first, second *advisory.Advisory
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		n := postgres.NewAdvisory{ProjectID: w.projectID, State: advisory.StateDraft, Kind: advisory.KindNative}
		if first, err = tx.InsertAdvisory(w.sys, n, bytes.NewReader(blockA)); err != nil {
			return err
		}
		// The same id comes first again; the insert moves on to the next.
		if second, err = tx.InsertAdvisory(w.sys, n, bytes.NewReader(append(append([]byte{}, blockA...), blockB...))); err != nil {
			return err
		}
		// Only collisions: a bounded failure, and the transaction lives on.
		_, err = tx.InsertAdvisory(w.sys, n, bytes.NewReader(bytes.Repeat(blockA, advisory.MaxIDAttempts+1)))
		if !errors.Is(err, advisory.ErrIDCollisions) {
			t.Errorf("all ids colliding: %v, want ErrIDCollisions", err)
		}
		var n2 int
		return tx.QueryRow(w.sys, `SELECT count(*) FROM advisories`).Scan(&n2)
	})
	if first.AdvisoryID != "ECL-2222-2222-2222" || second.AdvisoryID != "ECL-3333-3333-3333" {
		t.Fatalf("ids %s, %s", first.AdvisoryID, second.AdvisoryID)
	}
}

func TestUpdateContentRecomputesSeverity(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	a := w.create(t, criticalContent())
	cases := []struct {
		severity []advisory.Severity
		level    advisory.SeverityLevel
		score    *float64
	}{
		{[]advisory.Severity{{Type: advisory.SeverityUbuntu, Score: "negligible"}}, advisory.SeverityLow, nil},
		{[]advisory.Severity{{Type: advisory.SeverityCVSSV3, Score: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"}}, advisory.SeverityLow, ptrTo(3.7)},
		{nil, advisory.SeverityNone, nil},
	}
	for _, tc := range cases {
		w.tx(t, func(tx *postgres.DB) error {
			locked, err := tx.AdvisoryByIDForUpdate(w.sys, a.AdvisoryID)
			if err != nil {
				return err
			}
			locked.Content.Severity = tc.severity
			if err := tx.UpdateContent(w.sys, locked); err != nil {
				return err
			}
			stored, err := tx.AdvisoryByID(w.sys, a.AdvisoryID)
			if err != nil {
				return err
			}
			if stored.SeverityLevel != tc.level || !equalPtr(stored.SeverityScore, tc.score) {
				t.Errorf("severity %v: stored %q %v, want %q %v", tc.severity, stored.SeverityLevel, stored.SeverityScore, tc.level, tc.score)
			}
			return nil
		})
	}
}

func TestUpdateWorkflowAndRouting(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	a := w.create(t, criticalContent())
	w.tx(t, func(tx *postgres.DB) error {
		locked, err := tx.AdvisoryByIDForUpdate(w.sys, a.AdvisoryID)
		if err != nil {
			return err
		}
		locked.State, locked.DismissedReason, locked.DismissedFromState = advisory.StateDismissed, "dup", advisory.StateDraft
		locked.RepublishRequired = true
		locked.Routing = advisory.Routing{NeedsAdminRouting: true, Note: "not ours"}
		if err := tx.UpdateWorkflow(w.sys, locked); err != nil {
			return err
		}
		return tx.UpdateRouting(w.sys, locked)
	})
	got, err := readAdvisory(w.sys, w.db, a.AdvisoryID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != advisory.StateDismissed || got.DismissedReason != "dup" || got.DismissedFromState != advisory.StateDraft ||
		!got.RepublishRequired || !got.Routing.NeedsAdminRouting || got.Routing.Note != "not ours" {
		t.Errorf("after update: %+v", got)
	}
}

func TestAccessTargetLoadsGrantsAndFacts(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	a := w.create(t, criticalContent())
	w.tx(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(w.sys, `INSERT INTO access_grants (advisory_id, principal_type, principal_id, permission)
			VALUES ($1, 'user', 7, 'viewer'), ($1, 'group', 9, 'collaborator')`, a.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(w.sys, `INSERT INTO cve_requests (advisory_id) VALUES ($1)`, a.ID)
		return err
	})
	var target access.Target
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		target, err = tx.AccessTarget(w.sys, a)
		return err
	})
	if len(target.Grants) != 2 || target.Grants[0] != (access.Grant{PrincipalType: access.PrincipalUser, PrincipalID: 7, Permission: access.PermissionViewer}) ||
		target.Grants[1] != (access.Grant{PrincipalType: access.PrincipalGroup, PrincipalID: 9, Permission: access.PermissionCollaborator}) {
		t.Errorf("grants: %+v", target.Grants)
	}
	if !target.CVERequestQueued || target.ProjectTeamGroupID != w.teamGroup || target.State != advisory.StateDraft {
		t.Errorf("target: %+v", target)
	}
	sub := access.Subject{UserID: 7}
	if access.Resolve(sub, target) != access.RoleViewer {
		t.Errorf("user 7 resolves to %v, want viewer", access.Resolve(sub, target))
	}
}

// readAdvisory reads one advisory in its own read-only transaction.
func readAdvisory(ctx context.Context, db *postgres.DB, id advisory.ID) (*advisory.Advisory, error) {
	var a *advisory.Advisory
	err := db.InTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		var err error
		a, err = tx.AdvisoryByID(ctx, id)
		return err
	})
	return a, err
}

func ptrTo[T any](v T) *T { return &v }

func equalPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
