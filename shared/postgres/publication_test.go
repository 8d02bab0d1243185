package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
)

// The task store: one active task per advisory (the partial unique index
// behind INV-CONCURRENCY-1), the worker's entry guard, compare-and-set
// finishing, one artifact per kind, and the reaper's candidates.
func TestPublicationTasks(t *testing.T) {
	t.Parallel()
	w := newAdvWorld(t)
	a := w.create(t, criticalContent())
	var v advisory.Version
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		v, err = tx.LatestVersion(w.sys, a.ID)
		return err
	})

	var task publication.Task
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		task, err = tx.InsertPublicationTask(w.sys, a.ID, v.ID, 0)
		return err
	})
	if task.Status != publication.StatusQueued || task.PublicID != string(a.AdvisoryID) || task.VersionNumber != 1 || task.Artifacts == nil {
		t.Fatalf("inserted %+v", task)
	}
	err := w.db.InTx(w.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		_, err := tx.InsertPublicationTask(w.sys, a.ID, v.ID, 0)
		return err
	})
	if !errors.Is(err, advisory.ErrPublicationInProgress) {
		t.Fatalf("second active task: %v", err)
	}

	start := func(id int64) (publication.Task, bool) {
		var (
			got publication.Task
			ok  bool
		)
		w.tx(t, func(tx *postgres.DB) error {
			var err error
			got, ok, err = tx.StartPublicationTask(w.sys, id, "m-1")
			return err
		})
		return got, ok
	}
	running, ok := start(task.ID)
	if !ok || running.Status != publication.StatusRunning || running.Attempts != 1 || running.StartedAt == nil || running.QueueMessageID != "m-1" {
		t.Fatalf("started %+v %v", running, ok)
	}
	if _, ok := start(task.ID); ok {
		t.Fatal("a running task started again")
	}
	w.tx(t, func(tx *postgres.DB) error {
		for _, k := range []publication.Kind{publication.KindOSV, publication.KindOSV, publication.KindCSAF} {
			if err := tx.UpsertPublicationArtifact(w.sys, task.ID, k, "x/"+string(k)+".json", []byte(`{"id": "`+string(a.AdvisoryID)+`"}`)); err != nil {
				return err
			}
		}
		art, err := tx.PublicationArtifact(w.sys, task.ID, publication.KindOSV)
		if err != nil || art.Path != "x/osv.json" || string(art.Content) != `{"id": "`+string(a.AdvisoryID)+`"}` {
			t.Errorf("artifact %+v %v", art, err)
		}
		if _, err := tx.PublicationArtifact(w.sys, task.ID, publication.KindCVE); !errors.Is(err, publication.ErrArtifactNotFound) {
			t.Errorf("missing artifact: %v", err)
		}
		ok, err := tx.FinishPublicationTask(w.sys, task.ID, publication.StatusFailed, "", "boom")
		if err != nil || !ok {
			t.Errorf("fail: %v %v", ok, err)
		}
		ok, err = tx.FinishPublicationTask(w.sys, task.ID, publication.StatusSucceeded, "abc", "")
		if err != nil || ok {
			t.Errorf("finish a task that is not running: %v %v", ok, err)
		}
		return nil
	})
	got := taskOf(t, w, task.ID)
	if got.Status != publication.StatusFailed || got.LastError != "boom" || got.FinishedAt == nil || len(got.Artifacts) != 2 {
		t.Fatalf("after failure %+v", got)
	}
	// A failed task runs again on redelivery (P4) ...
	if again, ok := start(task.ID); !ok || again.Attempts != 2 || again.LastError != "" {
		t.Fatalf("redelivery %+v %v", again, ok)
	}
	// ... but not once a newer task of the advisory is active.
	w.tx(t, func(tx *postgres.DB) error {
		_, err := tx.FinishPublicationTask(w.sys, task.ID, publication.StatusFailed, "", "again")
		return err
	})
	w.tx(t, func(tx *postgres.DB) error {
		_, err := tx.InsertPublicationTask(w.sys, a.ID, v.ID, 0)
		return err
	})
	if _, ok := start(task.ID); ok {
		t.Fatal("a failed task ran beside a newer active one")
	}
	w.tx(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(w.sys, `UPDATE publication_tasks SET status = 'succeeded' WHERE advisory_id = $1 AND id <> $2`, a.ID, task.ID)
		return err
	})
	if _, ok := start(task.ID); ok {
		t.Fatal("a failed task ran again after a newer one finished")
	}
	w.tx(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(w.sys, `UPDATE publication_tasks SET status = 'queued' WHERE advisory_id = $1 AND id <> $2`, a.ID, task.ID)
		return err
	})

	// Reaper candidates and the compare-and-set lock.
	now := time.Now()
	w.tx(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(w.sys, `UPDATE publication_tasks SET created_at = $2 WHERE advisory_id = $1 AND status = 'queued'`, a.ID, now.Add(-3*time.Hour))
		return err
	})
	w.tx(t, func(tx *postgres.DB) error {
		cands, err := tx.StalePublicationTasks(w.sys, now.Add(-30*time.Minute), now.Add(-2*time.Hour), 10)
		if err != nil || len(cands) != 1 || cands[0].Status != publication.StatusQueued {
			t.Fatalf("candidates %+v %v", cands, err)
		}
		if _, _, ok, err := tx.LockStalePublicationTask(w.sys, cands[0].ID, publication.StatusRunning); ok || err != nil {
			t.Errorf("locked on the wrong status: %v %v", ok, err)
		}
		_, since, ok, err := tx.LockStalePublicationTask(w.sys, cands[0].ID, publication.StatusQueued)
		if err != nil || !ok || now.Sub(since) < 2*time.Hour {
			t.Errorf("lock %v %v %v", since, ok, err)
		}
		ok, err = tx.ReapPublicationTask(w.sys, cands[0].ID, publication.StatusQueued, "reaped")
		if err != nil || !ok {
			t.Errorf("reap %v %v", ok, err)
		}
		return nil
	})
	var tasks []publication.Task
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		tasks, err = tx.PublicationTasks(w.sys, a.ID)
		return err
	})
	// Newest first: the reaped task was backdated, so the first task leads.
	if len(tasks) != 2 || tasks[0].ID != task.ID || tasks[1].Status != publication.StatusFailed || tasks[1].LastError != "reaped" ||
		len(tasks[0].Artifacts) != 2 || len(tasks[1].Artifacts) != 0 {
		t.Fatalf("tasks newest first %+v", tasks)
	}
}

func taskOf(t *testing.T, w advWorld, id int64) publication.Task {
	t.Helper()
	var task publication.Task
	w.tx(t, func(tx *postgres.DB) error {
		var err error
		task, err = tx.PublicationTask(w.sys, id)
		return err
	})
	return task
}
