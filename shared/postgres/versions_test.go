package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// INV-VERSION-1: v1 at creation, v(n+1) only for a payload change, the
// payload captured from the live row with the project's name at that moment.
func TestAppendVersion(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	a := w.create(t, criticalContent())

	appendVersion := func(mode postgres.AppendMode, change func(tx *postgres.DB, a *advisory.Advisory) error) (advisory.Version, bool) {
		t.Helper()
		var (
			v  advisory.Version
			ok bool
		)
		w.tx(t, func(tx *postgres.DB) error {
			locked, err := tx.AdvisoryByIDForUpdate(w.sys, a.AdvisoryID)
			if err != nil {
				return err
			}
			if change != nil {
				if err := change(tx, locked); err != nil {
					return err
				}
			}
			v, ok, err = tx.AppendVersion(w.sys, a.ID, 0, mode)
			return err
		})
		return v, ok
	}

	// Nothing moved: nothing appended, the latest is returned.
	if v, ok := appendVersion(postgres.AppendIfChanged, nil); ok || v.Number != 1 {
		t.Fatalf("unchanged: appended %v, version %d", ok, v.Number)
	}
	// A content change appends v2.
	v2, ok := appendVersion(postgres.AppendIfChanged, func(tx *postgres.DB, a *advisory.Advisory) error {
		a.Content.Summary = "Heap overflow, now with a better summary"
		return tx.UpdateContent(w.sys, a)
	})
	if !ok || v2.Number != 2 || v2.Payload.Content.Summary != "Heap overflow, now with a better summary" {
		t.Fatalf("after an edit: appended %v, %+v", ok, v2)
	}
	// A non-payload change (state, flags) appends nothing.
	if _, ok := appendVersion(postgres.AppendIfChanged, func(tx *postgres.DB, a *advisory.Advisory) error {
		a.RepublishRequired, a.State = true, advisory.StatePublished
		return tx.UpdateWorkflow(w.sys, a)
	}); ok {
		t.Fatal("a state change appended a version")
	}
	// A heartbeat sync that only bumps ghsa_metadata_synced_at appends
	// nothing (lifecycle §12).
	if _, ok := appendVersion(postgres.AppendIfChanged, func(tx *postgres.DB, a *advisory.Advisory) error {
		_, err := tx.Exec(w.sys, `UPDATE advisories SET ghsa_metadata_synced_at = now() WHERE id = $1`, a.ID)
		return err
	}); ok {
		t.Fatal("a provenance-only change appended a version")
	}
	// A project rename is captured by the next version, never rewriting
	// the old ones (data-model §4.2).
	v3, ok := appendVersion(postgres.AppendIfChanged, func(tx *postgres.DB, a *advisory.Advisory) error {
		_, err := tx.Exec(w.sys, `UPDATE projects SET name = 'Eclipse Lantern NG' WHERE id = $1::uuid`, w.projectID)
		return err
	})
	if !ok || v3.Number != 3 || v3.Payload.ProjectName != "Eclipse Lantern NG" {
		t.Fatalf("after a rename: appended %v, %+v", ok, v3.Payload)
	}
	// AppendAlways appends even without a change.
	if v, ok := appendVersion(postgres.AppendAlways, nil); !ok || v.Number != 4 {
		t.Fatalf("AppendAlways: appended %v, version %d", ok, v.Number)
	}

	var all []advisory.Version
	var old advisory.Version
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		if all, err = tx.Versions(w.sys, a.ID); err != nil {
			return err
		}
		if old, err = tx.VersionByNumber(w.sys, a.ID, 2); err != nil {
			return err
		}
		_, err = tx.VersionByNumber(w.sys, a.ID, 9)
		if !errors.Is(err, advisory.ErrVersionNotFound) {
			t.Errorf("version 9: %v, want ErrVersionNotFound", err)
		}
		return nil
	})
	for i, v := range all {
		if v.Number != i+1 || v.AdvisoryID != a.ID || v.CreatedAt.IsZero() {
			t.Errorf("version %d: %+v", i+1, v)
		}
	}
	if len(all) != 4 || old.Payload.ProjectName != "Eclipse Lantern" || old.Payload.AdvisoryID != a.AdvisoryID {
		t.Fatalf("%d versions; v2 payload %+v", len(all), old.Payload)
	}
}

func TestAppendVersionNeedsATransaction(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if _, _, err := db.AppendVersion(context.Background(), 1, 0, postgres.AppendAlways); err == nil {
		t.Fatal("AppendVersion outside a transaction succeeded")
	}
}

// INV-CONCURRENCY-2: appends under the row lock never compute the same
// number, whatever the interleaving.
func TestAppendVersionConcurrent(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	a := w.create(t, criticalContent())
	const n = 8
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			errs <- w.db.InTx(w.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
				_, _, err := tx.AppendVersion(w.sys, a.ID, 0, postgres.AppendAlways)
				return err
			})
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var max, rows int
	w.tx(t, func(tx *postgres.DB) error {
		return tx.QueryRow(w.sys, `SELECT max(version), count(*) FROM advisory_versions WHERE advisory_id = $1`, a.ID).Scan(&max, &rows)
	})
	if max != n+1 || rows != n+1 {
		t.Fatalf("after %d concurrent appends: max version %d, %d rows", n, max, rows)
	}
}
