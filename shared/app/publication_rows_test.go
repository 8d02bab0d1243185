package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
)

// The rows of the publication-task machine (lifecycle §6.1 P1–P7) and the
// publication halves of the lifecycle rows L9, L10, L12 and L14: for each,
// the allowed move and refused variants, with the audit rows checked.

// --- helpers ---

// loadAdvisory reads advisory a again, for the do functions (which have
// no t).
func loadAdvisory(f *advFixture, a *advisory.Advisory) (*advisory.Advisory, error) {
	var got *advisory.Advisory
	err := f.db.InTx(f.sys, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		var err error
		got, err = tx.AdvisoryByID(f.sys, a.AdvisoryID)
		return err
	})
	return got, err
}

// errIs refuses do's error unless it is target: a refusal for another
// reason of the same kind turns into a kindless error and fails the case.
func errIs(do doFn, target error) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		got, err := do(ctx, f, c, a)
		if err != nil && !errors.Is(err, target) {
			return got, fmt.Errorf("refused for another reason (%s), want %v", err.Error(), target)
		}
		return got, err
	}
}

func callPublish(pf *pubFixture) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		if _, err := pf.pubs.Publish(ctx, c, a.AdvisoryID); err != nil {
			return nil, err
		}
		return loadAdvisory(f, a)
	}
}

// callRetry retries the advisory's newest publication task.
func callRetry(pf *pubFixture) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		id, err := newestPublicationTaskID(f, a)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("no task to retry (%v)", err)
		}
		if _, err := pf.pubs.Retry(ctx, c, id); err != nil {
			return nil, err
		}
		return loadAdvisory(f, a)
	}
}

func callUnwithdraw(pf *pubFixture) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		got, err := pf.svc.Reopen(ctx, c, a.AdvisoryID)
		return got, err
	}
}

// withTask adds a publication task in status, pinned to the latest
// version, to the advisory setup made.
func withTask(setup setupFn, status publication.Status) setupFn {
	return with(setup, `INSERT INTO publication_tasks (advisory_id, version_id, status)
		SELECT $1, id, $2 FROM advisory_versions WHERE advisory_id = $1 ORDER BY version DESC LIMIT 1`, string(status))
}

// editedByAdmin edits the advisory setup made (a new version) as the admin.
func editedByAdmin(setup setupFn) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := setup(t, f)
		c := goodContent()
		c.Summary = "Path traversal in the file server (edited)"
		if _, err := f.svc.Edit(context.Background(), f.admin, a.AdvisoryID, c); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}
}

// withVersionedCVE gives the advisory setup made a reference (a CVE record
// needs one) and assigned CVE cve, both versioned, as the admin.
func withVersionedCVE(setup setupFn, cve string) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := setup(t, f)
		c := goodContent()
		c.References = []advisory.Reference{{Type: "ADVISORY", URL: "https://example.org/security/1"}}
		if _, err := f.svc.Edit(context.Background(), f.admin, a.AdvisoryID, c); err != nil {
			t.Fatal(err)
		}
		f.sql(t, a, `UPDATE advisories SET assigned_cve_id = $2 WHERE id = $1`, cve)
		f.exec(t, func(tx *postgres.DB) error {
			_, _, err := tx.AppendVersion(f.sys, a.ID, 0, postgres.AppendIfChanged)
			return err
		})
		return f.reload(t, a)
	}
}

// withdrawnByWorker withdraws the published advisory setup made as the
// admin and runs the withdrawal: the advisory ends dismissed from
// published (L12).
func withdrawnByWorker(pf *pubFixture, setup setupFn) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := setup(t, f)
		if _, err := f.svc.Withdraw(context.Background(), f.admin, a.AdvisoryID, "Not a vulnerability after all."); err != nil {
			t.Fatal(err)
		}
		if err := pf.run(t, pf.pubs, f.latestTask(t, a)); err != nil {
			t.Fatal(err)
		}
		a = f.reload(t, a)
		if a.State != advisory.StateDismissed || a.DismissedFromState != advisory.StatePublished {
			t.Fatalf("withdrawal setup: %s from %s", a.State, a.DismissedFromState)
		}
		return a
	}
}

// wantQueuedTask checks the task a successful publish, retry, withdrawal
// or un-withdraw left: the newest one, queued, pinned to the latest version,
// its run in the outbox (INV-PUB-5), and publication.export_started
// naming it (task_id, version_id, version).
func wantQueuedTask(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
	t.Helper()
	task, latest := f.latestTask(t, after), f.latestVersion(t, after)
	var (
		outbox  int
		started map[string]any
	)
	f.exec(t, func(tx *postgres.DB) error {
		if err := tx.QueryRow(f.sys, `SELECT count(*) FROM outbox WHERE kind = $1 AND (payload->>'task_id')::bigint = $2`,
			string(app.KindRunPublication), task.ID).Scan(&outbox); err != nil {
			return err
		}
		return tx.QueryRow(f.sys, `SELECT new_value FROM audit_log WHERE advisory_id = $1 AND action = 'publication.export_started'
			ORDER BY id DESC LIMIT 1`, after.ID).Scan(&started)
	})
	if task.Status != publication.StatusQueued || task.VersionID != latest.ID || task.EnqueuedByID == 0 || task.QueueMessageID == "" {
		t.Errorf("task %+v; want queued, pinned to v%d (id %d), with its enqueuer and message", task, latest.Number, latest.ID)
	}
	if outbox != 1 {
		t.Errorf("%d outbox rows for task %d, want 1 (INV-PUB-5)", outbox, task.ID)
	}
	if started["task_id"] != float64(task.ID) || started["version_id"] != float64(latest.ID) || started["version"] != float64(latest.Number) {
		t.Errorf("export_started new_value %v, want task %d, version %d (v%d)", started, task.ID, latest.ID, latest.Number)
	}
}

// --- P1, L10: publish and re-publish requests ---

func TestPublishRowsP1L10(t *testing.T) {
	t.Parallel()
	pf := newPubFixture(t)
	publish := callPublish(pf)
	started := []string{"publication.export_started"}
	stays := func(s advisory.State) checkFn {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			t.Helper()
			wantQueuedTask(t, f, before, after)
			// Only the worker changes the state (INV-LIFECYCLE-3).
			if after.State != s {
				t.Errorf("state %s after the request, want %s", after.State, s)
			}
		}
	}
	ghsa := func(setup setupFn) setupFn {
		return with(setup, `UPDATE advisories SET kind = 'ghsa_linked', ghsa_id = 'GHSA-' || substr(md5(id::text), 1, 4) || '-abcd-efgh', ghsa_owner = 'eclipse', ghsa_repo = 'jetty' WHERE id = $1`)
	}
	runUseCases(t, pf.advFixture, []useCase{
		// P1: publish (interactive), can_publish on the locked row.
		{name: "P1: publish, mature team member without review (INV-PERM-2)", setup: jettyDraft, caller: asJettyOwner, do: publish,
			actions: started, check: stays(advisory.StateDraft)},
		{name: "P1: publish, non-mature team member with an approved review (INV-PERM-1)", setup: decided(true), caller: asOwner, do: publish,
			actions: started, check: stays(advisory.StateDraft)},
		{name: "P1: publish, admin without review on a non-mature project", setup: lanternDraft, caller: asAdmin, do: publish,
			actions: started, check: stays(advisory.StateDraft)},
		{name: "P1: publish, GHSA-linked admin break-glass", setup: ghsa(jettyDraft), caller: asAdmin, do: publish,
			actions: started, check: stays(advisory.StateDraft)},
		{name: "P1: publish, non-mature team member without approval refused (INV-PERM-1)", setup: lanternDraft, caller: asOwner, do: publish,
			kind: apperr.Forbidden},
		{name: "P1: publish, non-mature team member with changes requested refused (INV-PERM-1)", setup: decided(false), caller: asOwner, do: publish,
			kind: apperr.Forbidden},
		{name: "P1: publish while a review is submitted, admin refused (INV-PERM-3)", setup: submitted, caller: asAdmin, do: publish,
			kind: apperr.Forbidden},
		{name: "P1: publish while a review is submitted, mature team member refused (INV-PERM-3)",
			setup: with(jettyDraft, `UPDATE advisories SET review_status = 'submitted' WHERE id = $1`), caller: asJettyOwner, do: publish,
			kind: apperr.Forbidden},
		{name: "P1: publish, GHSA-linked team member refused (admin only)", setup: ghsa(jettyDraft), caller: asJettyOwner, do: publish,
			kind: apperr.Forbidden},
		{name: "P1: publish, collaborator refused", setup: jettyDraft, caller: asCollab, do: publish, kind: apperr.Forbidden},
		{name: "P1: publish, viewer refused", setup: jettyDraft, caller: asViewer, do: publish, kind: apperr.Forbidden},
		{name: "P1: publish, stranger refused as not found (INV-PRIVACY-1)", setup: jettyDraft, caller: asStranger, do: publish, kind: apperr.NotFound},
		{name: "P1: publish of a triage report refused", setup: lanternTriage, caller: asAdmin, do: publish, kind: apperr.Forbidden},
		{name: "P1: publish of a dismissed draft refused", setup: dismissedFrom(jettyDraft, "draft"), caller: asAdmin, do: publish,
			kind: apperr.Forbidden},
		{name: "P1: publish while a publication is queued refused (409 in_progress, INV-CONCURRENCY-1)",
			setup: withTask(jettyDraft, publication.StatusQueued), caller: asJettyOwner,
			do: errIs(publish, advisory.ErrPublicationInProgress), kind: apperr.Conflict},
		{name: "P1: publish while a publication is running refused (409 in_progress, INV-CONCURRENCY-1)",
			setup: withTask(jettyDraft, publication.StatusRunning), caller: asAdmin,
			do: errIs(publish, advisory.ErrPublicationInProgress), kind: apperr.Conflict},
		{name: "P1: publish after a failed task (none in flight)", setup: withTask(jettyDraft, publication.StatusFailed), caller: asJettyOwner,
			do: publish, actions: started, check: stays(advisory.StateDraft)},

		// L10: re-publish of a published advisory, pinned to the latest version.
		{name: "L10: re-publish after an edit, mature team member", setup: editedByAdmin(jettyPublished), caller: asJettyOwner, do: publish,
			actions: started, check: stays(advisory.StatePublished)},
		{name: "L10: re-publish, admin on a non-mature project", setup: lanternPublished, caller: asAdmin, do: publish,
			actions: started, check: stays(advisory.StatePublished)},
		{name: "L10: re-publish, non-mature team member without approval refused (INV-PERM-1)", setup: lanternPublished, caller: asOwner,
			do: publish, kind: apperr.Forbidden},
		{name: "L10: re-publish while a publication is queued refused (INV-CONCURRENCY-1)",
			setup: withTask(jettyPublished, publication.StatusQueued), caller: asJettyOwner,
			do: errIs(publish, advisory.ErrPublicationInProgress), kind: apperr.Conflict},
		{name: "L10: re-publish of a withdrawn advisory refused (dismissed; un-withdraw is L14)",
			setup: dismissedFrom(jettyPublished, "published"), caller: asAdmin, do: publish, kind: apperr.Forbidden},
	})
}

// --- P3: retry ---

func TestRetryRowsP3(t *testing.T) {
	t.Parallel()
	pf := newPubFixture(t)
	retry := callRetry(pf)
	newRow := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		wantQueuedTask(t, f, before, after)
		var statuses []string
		f.exec(t, func(tx *postgres.DB) error {
			rows, err := tx.Query(f.sys, `SELECT status FROM publication_tasks WHERE advisory_id = $1 ORDER BY id`, after.ID)
			if err != nil {
				return err
			}
			statuses, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if !slices.Equal(statuses, []string{"failed", "queued"}) {
			t.Errorf("tasks %v, want the old row failed and a new one queued", statuses)
		}
	}
	runUseCases(t, pf.advFixture, []useCase{
		{name: "P3: retry of a failed task, mature team member", setup: withTask(jettyDraft, publication.StatusFailed), caller: asJettyOwner,
			do: retry, actions: []string{"publication.export_started"}, check: newRow},
		{name: "P3: retry pins the current latest version, not the failed task's",
			setup: editedByAdmin(withTask(jettyDraft, publication.StatusFailed)), caller: asAdmin, do: retry,
			actions: []string{"publication.export_started"}, check: newRow},
		{name: "P3: retry of a failed re-publish, admin", setup: withTask(lanternPublished, publication.StatusFailed), caller: asAdmin,
			do: retry, actions: []string{"publication.export_started"}, check: newRow},
		{name: "P3: retry of a queued task refused (400 not_failed)", setup: withTask(jettyDraft, publication.StatusQueued), caller: asJettyOwner,
			do: errIs(retry, publication.ErrNotFailed), kind: apperr.Invalid},
		{name: "P3: retry of a succeeded task refused (400 not_failed)", setup: withTask(jettyPublished, publication.StatusSucceeded),
			caller: asJettyOwner, do: errIs(retry, publication.ErrNotFailed), kind: apperr.Invalid},
		{name: "P3: retry, non-mature team member without approval refused (can_publish now, INV-PERM-1)",
			setup: withTask(lanternDraft, publication.StatusFailed), caller: asOwner, do: retry, kind: apperr.Forbidden},
		{name: "P3: retry while a review is submitted refused (INV-PERM-3)",
			setup:  with(withTask(jettyDraft, publication.StatusFailed), `UPDATE advisories SET review_status = 'submitted' WHERE id = $1`),
			caller: asAdmin, do: retry, kind: apperr.Forbidden},
		{name: "P3: retry, collaborator refused", setup: withTask(jettyDraft, publication.StatusFailed), caller: asCollab, do: retry,
			kind: apperr.Forbidden},
		{name: "P3: retry of a failed un-withdraw refused (dismissed, lifecycle §6.4)",
			setup: withTask(dismissedFrom(jettyPublished, "published"), publication.StatusFailed), caller: asAdmin, do: retry,
			kind: apperr.Forbidden},
	})
}

// --- L12: the withdrawal request transaction ---

func TestWithdrawRowsL12(t *testing.T) {
	t.Parallel()
	pf := newPubFixture(t)
	w := withdraw("Not a vulnerability after all.")
	recorded := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		wantQueuedTask(t, f, before, after)
		if after.State != advisory.StatePublished || after.WithdrawnReason != "Not a vulnerability after all." {
			t.Errorf("after the request: state %s, withdrawn_reason %q; want published until the worker's push", after.State, after.WithdrawnReason)
		}
		if latest := f.latestVersion(t, after); latest.Payload.WithdrawnReason != after.WithdrawnReason {
			t.Errorf("pinned version's withdrawn_reason %q", latest.Payload.WithdrawnReason)
		}
		// The reason is a public action note (lifecycle §0 item 5).
		var internal []bool
		f.exec(t, func(tx *postgres.DB) error {
			rows, err := tx.Query(f.sys, `SELECT is_internal FROM comments WHERE advisory_id = $1 AND body = $2`, after.ID, after.WithdrawnReason)
			if err != nil {
				return err
			}
			internal, err = pgx.CollectRows(rows, pgx.RowTo[bool])
			return err
		})
		if !slices.Equal(internal, []bool{false}) {
			t.Errorf("action notes (is_internal) %v, want one public note", internal)
		}
	}
	noted := []string{"comment.created", "publication.export_started"}
	runUseCases(t, pf.advFixture, []useCase{
		{name: "L12: withdraw, admin", setup: lanternPublished, caller: asAdmin, do: w, actions: noted, versions: 1, check: recorded},
		{name: "L12: withdraw, mature team member", setup: jettyPublished, caller: asJettyOwner, do: w, actions: noted, versions: 1, check: recorded},
		{name: "L12: withdraw with a CVE, mature team member (CVE allowed)", setup: with(jettyPublished, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-31111' WHERE id = $1`),
			caller: asJettyOwner, do: w, actions: noted, versions: 1, check: recorded},
		{name: "L12: withdraw approving a pending request, admin", setup: withWithdrawalRequest(lanternPublished, "please"), caller: asAdmin, do: w,
			actions: []string{"advisory.withdrawal_request_cleared", "comment.created", "publication.export_started"}, versions: 1, check: recorded},
		{name: "L12: withdraw, non-mature team member refused (must request, Q1)", setup: lanternPublished, caller: asOwner, do: w, kind: apperr.Forbidden},
		{name: "L12: withdraw, collaborator refused", setup: jettyPublished, caller: asCollab, do: w, kind: apperr.Forbidden},
		{name: "L12: withdraw with an empty reason refused", setup: jettyPublished, caller: asAdmin, do: withdraw("  "), kind: apperr.Invalid},
		{name: "L12: withdraw of a draft refused", setup: jettyDraft, caller: asAdmin, do: w, kind: apperr.Conflict},
		{name: "L12: withdraw of a dismissed advisory refused", setup: dismissedFrom(jettyPublished, "published"), caller: asAdmin, do: w,
			kind: apperr.Conflict},
		{name: "L12: withdraw while a publication is in flight refused (INV-CONCURRENCY-1)",
			setup: withTask(jettyPublished, publication.StatusRunning), caller: asAdmin,
			do: errIs(w, advisory.ErrPublicationInProgress), kind: apperr.Conflict},
	})
}

// --- L14: the un-withdraw request transaction, then its run ---

func TestUnwithdrawRowsL14(t *testing.T) {
	t.Parallel()
	pf := newPubFixture(t)
	ctx := context.Background()
	un := callUnwithdraw(pf)
	jettyWithdrawn := withdrawnByWorker(pf, jettyPublished)
	lanternWithdrawn := withdrawnByWorker(pf, lanternPublished)
	reopened := func(disposition string) checkFn {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			t.Helper()
			wantQueuedTask(t, f, before, after)
			// Stays dismissed until the worker's L9 finalisation (INV-WITHDRAW).
			if after.State != advisory.StateDismissed || after.WithdrawnReason != "" {
				t.Errorf("after the request: state %s, withdrawn_reason %q; want dismissed, cleared", after.State, after.WithdrawnReason)
			}
			task := f.latestTask(t, after)
			var v advisory.Version
			f.exec(t, func(tx *postgres.DB) error {
				var err error
				v, err = tx.VersionByID(f.sys, task.VersionID)
				return err
			})
			if v.Payload.WithdrawnReason != "" {
				t.Errorf("pinned version still a withdrawal (%q)", v.Payload.WithdrawnReason)
			}
			for _, r := range f.audits(t, after) {
				if r.Action == "advisory.reopened" {
					if r.Metadata["unwithdraw"] != true || r.Metadata["orphan_disposition"] != disposition {
						t.Errorf("advisory.reopened metadata %v, want unwithdraw=true, orphan_disposition %s", r.Metadata, disposition)
					}
					return
				}
			}
			t.Error("no advisory.reopened row")
		}
	}
	started := []string{"advisory.reopened", "publication.export_started"}
	runUseCases(t, pf.advFixture, []useCase{
		{name: "L14: un-withdraw, admin", setup: lanternWithdrawn, caller: asAdmin, do: un, actions: started, versions: 1,
			check: reopened(app.DispositionNone)},
		{name: "L14: un-withdraw, mature team member", setup: jettyWithdrawn, caller: asJettyOwner, do: un, actions: started, versions: 1,
			check: reopened(app.DispositionNone)},
		{name: "L14: un-withdraw reattaches the withdrawal's orphaned CVE (O3)", setup: withdrawnByWorker(pf, withVersionedCVE(jettyPublished, "CVE-2026-32222")),
			caller: asJettyOwner, do: un, actions: []string{"cve.reassigned_from_orphan", "advisory.reopened", "publication.export_started"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				reopened(app.DispositionReassignedDirect)(t, f, before, after)
				task := f.latestTask(t, after)
				var v advisory.Version
				f.exec(t, func(tx *postgres.DB) error {
					var err error
					v, err = tx.VersionByID(f.sys, task.VersionID)
					return err
				})
				if after.AssignedCVEID != "CVE-2026-32222" || v.Payload.AssignedCVEID != "CVE-2026-32222" {
					t.Errorf("CVE %q, pinned %q; want the orphan reattached and re-exported", after.AssignedCVEID, v.Payload.AssignedCVEID)
				}
			}},
		{name: "L14: un-withdraw of a withdrawal whose orphan was marked rejected queues the admin task (T1, §12 parity)",
			setup: with(withdrawnByWorker(pf, withVersionedCVE(jettyPublished, "CVE-2026-32223")),
				`UPDATE orphan_cves SET status = 'marked_rejected', marked_rejected_at = now() WHERE previous_advisory_id = $1`),
			caller: asAdmin, do: un, actions: []string{"cve.orphan_reassignment_requested", "advisory.reopened", "publication.export_started"},
			versions: 1, check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				reopened(app.DispositionQueuedAdminTask)(t, f, before, after)
				if after.AssignedCVEID != "" {
					t.Errorf("CVE %q reattached; the rejected CVE waits for the admin task", after.AssignedCVEID)
				}
			}},
		{name: "L14: un-withdraw, non-mature team member refused (ADM or MAT)", setup: lanternWithdrawn, caller: asOwner, do: un, kind: apperr.Forbidden},
		{name: "L14: un-withdraw, collaborator refused", setup: jettyWithdrawn, caller: asCollab, do: un, kind: apperr.Forbidden},
		{name: "L14: un-withdraw, stranger refused as not found", setup: jettyWithdrawn, caller: asStranger, do: un, kind: apperr.NotFound},
		// Reopening a dismissed draft is L13, never an un-withdrawal: no
		// publication is queued.
		{name: "L14: reopen of a dismissed draft is L13, nothing queued", setup: dismissedFrom(jettyDraft, "draft"), caller: asAdmin,
			do: un, actions: []string{"advisory.reopened", "advisory.state_changed"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.State != advisory.StateDraft || f.taskCount(t, after) != 0 {
					t.Errorf("state %s, %d publication tasks; want draft and none", after.State, f.taskCount(t, after))
				}
			}},
		{name: "L14: un-withdraw of a published advisory refused", setup: jettyPublished, caller: asAdmin,
			do: errIs(un, advisory.ErrIllegalTransition), kind: apperr.Conflict},
		{name: "L14: un-withdraw while a publication is in flight refused (INV-CONCURRENCY-1)",
			setup: withTask(jettyWithdrawn, publication.StatusQueued), caller: asAdmin,
			do: errIs(un, advisory.ErrPublicationInProgress), kind: apperr.Conflict},
	})

	t.Run("L14: un-withdraw run publishes the advisory again (L9 finalisation from dismissed)", func(t *testing.T) {
		f := pf
		a := jettyWithdrawn(t, f.advFixture)
		if _, err := f.svc.Reopen(ctx, f.jettyOwner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		task := f.latestTask(t, a)
		before := len(f.audits(t, a))
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		after := f.reload(t, a)
		if got := f.task(t, task.ID); got.Status != publication.StatusSucceeded || after.State != advisory.StatePublished {
			t.Fatalf("after the run: task %s, state %s", got.Status, after.State)
		}
		want := []string{"publication.osv_generated", "publication.csaf_generated", "publication.git_commit", "publication.git_push",
			"advisory.published", "publication.export_completed"}
		if got := f.newActions(t, a, before); !slices.Equal(got, want) {
			t.Errorf("audit %v\nwant %v", got, want)
		}
		art, err := f.pubs.Artifact(ctx, f.admin, task.ID, publication.KindOSV)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(gitCmd(t, f.bare, "show", "main:"+art.Path), `"withdrawn"`) {
			t.Error("the OSV in git is still withdrawn")
		}
	})
	t.Run("L14: run refused on a dismissed advisory whose pinned version is still a withdrawal (§12)", func(t *testing.T) {
		// A withdrawal version run on an advisory already dismissed (the
		// worker re-checks the state, lifecycle §12).
		f := pf
		a := jettyWithdrawn(t, f.advFixture)
		var task publication.Task
		f.exec(t, func(tx *postgres.DB) error {
			locked, err := tx.AdvisoryByIDForUpdate(f.sys, a.AdvisoryID)
			if err != nil {
				return err
			}
			task, err = app.QueuePublication(f.sys, tx, f.admin, locked, true)
			return err
		})
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatalf("a state-changed abort is not redelivered: %v", err)
		}
		wantFailed(t, f.task(t, task.ID), "advisory state changed")
		if after := f.reload(t, a); after.State != advisory.StateDismissed {
			t.Errorf("state %s, want dismissed", after.State)
		}
	})
}

// --- P2: the system path (withdrawal, un-withdraw, auto-publish) ---

func TestQueuePublicationRowsP2(t *testing.T) {
	t.Parallel()
	f := newPubFixture(t)
	sys := app.Caller{} // SYS: no user, audit actor NULL
	queue := func(t *testing.T, c app.Caller, a *advisory.Advisory, allow bool) (publication.Task, error) {
		t.Helper()
		var task publication.Task
		err := f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
			locked, err := tx.AdvisoryByIDForUpdate(f.sys, a.AdvisoryID)
			if err != nil {
				return err
			}
			task, err = app.QueuePublication(f.sys, tx, c, locked, allow)
			return err
		})
		return task, err
	}
	refused := func(t *testing.T, a *advisory.Advisory, before int, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("queue: %v, want %v", err, want)
		}
		if got := f.newActions(t, a, before); len(got) != 0 {
			t.Errorf("refused queue wrote %v", got)
		}
	}

	t.Run("P2: system path skips the human gate (non-mature draft, no review)", func(t *testing.T) {
		a := f.lanternDraft(t)
		before := len(f.audits(t, a))
		task, err := queue(t, sys, a, false)
		if err != nil {
			t.Fatal(err)
		}
		if task.Status != publication.StatusQueued || task.EnqueuedByID != 0 {
			t.Errorf("task %+v, want queued with no enqueuer (SYS)", task)
		}
		rows := f.audits(t, a)[before:]
		if len(rows) != 1 || rows[0].Action != "publication.export_started" || rows[0].ActorID != 0 {
			t.Errorf("audit %+v, want one publication.export_started with a NULL actor", rows)
		}
	})
	t.Run("P2: un-withdraw path queues from dismissed with allow-from-dismissed", func(t *testing.T) {
		a := with(jettyPublished, `UPDATE advisories SET state = 'dismissed', dismissed_from_state = 'published', dismissed_reason = 'w' WHERE id = $1`)(t, f.advFixture)
		before := len(f.audits(t, a))
		if _, err := queue(t, f.jettyOwner, a, true); err != nil {
			t.Fatal(err)
		}
		if got := f.newActions(t, a, before); !slices.Equal(got, []string{"publication.export_started"}) {
			t.Errorf("audit %v", got)
		}
	})
	t.Run("P2: system path from dismissed without allow-from-dismissed refused", func(t *testing.T) {
		a := dismissedFrom(jettyDraft, "draft")(t, f.advFixture)
		before := len(f.audits(t, a))
		_, err := queue(t, sys, a, false)
		refused(t, a, before, err, advisory.ErrIllegalTransition)
	})
	t.Run("P2: system path while a publication is in flight refused (INV-CONCURRENCY-1)", func(t *testing.T) {
		a := withTask(jettyDraft, publication.StatusRunning)(t, f.advFixture)
		before := len(f.audits(t, a))
		_, err := queue(t, sys, a, false)
		refused(t, a, before, err, advisory.ErrPublicationInProgress)
		if n := f.taskCount(t, a); n != 1 {
			t.Errorf("%d tasks, want the running one only", n)
		}
	})
}

// --- P4–P6, L9: the worker ---

func TestWorkerRowsP4P5P6(t *testing.T) {
	t.Parallel()
	f := newPubFixture(t)
	ctx := context.Background()
	worker := []string{"publication.osv_generated", "publication.csaf_generated", "publication.git_commit", "publication.git_push"}

	t.Run("P5: a queued task runs and succeeds with the pushed commit (P4 pickup: attempts 1, started_at)", func(t *testing.T) {
		a := jettyDraft(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		if got := f.task(t, task.ID); got.Attempts != 1 || got.StartedAt == nil || got.Status != publication.StatusSucceeded ||
			got.CommitSHA != gitCmd(t, f.bare, "rev-parse", "main") {
			t.Errorf("task %+v", got)
		}
	})
	t.Run("P5: success refused once the task was reaped during the push (P6 records nothing over it)", func(t *testing.T) {
		p := f.publications(t, app.PublicationsConfig{Repo: fileRepo(t, "file://"+f.bare)})
		a := jettyDraft(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		app.SetBeforeFinalize(p, func(id int64) error {
			return f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
				_, err := tx.Exec(f.sys, `UPDATE publication_tasks SET status = 'failed', last_error = 'reaped: test' WHERE id = $1`, id)
				return err
			})
		})
		before := len(f.audits(t, a))
		if err := f.run(t, p, task); err == nil {
			t.Error("a run whose push landed but could not finalize is not handed back for redelivery")
		}
		if got := f.task(t, task.ID); got.Status != publication.StatusFailed || got.LastError != "reaped: test" {
			t.Errorf("task %s %q, want the reaper's failure kept", got.Status, got.LastError)
		}
		if after := f.reload(t, a); after.State != advisory.StateDraft || after.PublishedAt != nil {
			t.Errorf("state %s published_at %v, want draft", after.State, after.PublishedAt)
		}
		if got := f.newActions(t, a, before); !slices.Equal(got, worker) {
			t.Errorf("audit %v\nwant %v", got, worker)
		}
	})
	t.Run("P4: pickup of a failed task on redelivery runs it again in place", func(t *testing.T) {
		a := jettyDraft(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		f.sql(t, a, `UPDATE publication_tasks SET status = 'failed', attempts = 1, last_error = 'lost' WHERE advisory_id = $1`)
		m := message(task)
		m.Attempt = 2
		if err := f.pubs.Run(ctx, m); err != nil {
			t.Fatal(err)
		}
		if got := f.task(t, task.ID); got.Attempts != 2 || got.Status != publication.StatusSucceeded || got.LastError != "" {
			t.Errorf("task %+v, want succeeded on attempt 2", got)
		}
	})
	noop := func(t *testing.T, a *advisory.Advisory, task publication.Task) {
		t.Helper()
		before, want := len(f.audits(t, a)), f.task(t, task.ID)
		heads := gitCmd(t, f.bare, "for-each-ref", "refs/heads/main")
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		got := f.task(t, task.ID)
		if got.Status != want.Status || got.Attempts != want.Attempts {
			t.Errorf("task %s/%d, want %s/%d unchanged", got.Status, got.Attempts, want.Status, want.Attempts)
		}
		if acts := f.newActions(t, a, before); len(acts) != 0 {
			t.Errorf("a no-op pickup wrote %v", acts)
		}
		if now := gitCmd(t, f.bare, "for-each-ref", "refs/heads/main"); now != heads {
			t.Error("a no-op pickup pushed")
		}
	}
	t.Run("P4: pickup of a succeeded task refused (duplicate delivery is a no-op)", func(t *testing.T) {
		a := jettyDraft(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		noop(t, a, task)
	})
	t.Run("P4: pickup of a running task refused (another delivery at work)", func(t *testing.T) {
		a := jettyDraft(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		f.sql(t, a, `UPDATE publication_tasks SET status = 'running', attempts = 1 WHERE advisory_id = $1`)
		noop(t, a, task)
	})
	t.Run("P4: pickup of a failed task refused once a newer task exists", func(t *testing.T) {
		a := jettyDraft(t, f.advFixture)
		old := f.publish(t, f.jettyOwner, a)
		f.sql(t, a, `UPDATE publication_tasks SET status = 'failed', attempts = 1 WHERE advisory_id = $1`)
		newer := f.publish(t, f.jettyOwner, a)
		noop(t, a, old)
		if got := f.task(t, newer.ID); got.Status != publication.StatusQueued {
			t.Errorf("newer task %s", got.Status)
		}
	})

	t.Run("L9: draft published on success (P5), reassignment request cleared", func(t *testing.T) {
		a := with(jettyDraft, `UPDATE advisories SET reassignment_requested_at = now(), reassignment_requested_by_id = $2,
			reassignment_request_note = 'Belongs elsewhere.' WHERE id = $1`, f.jettyOwner.UserID)(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		before := len(f.audits(t, a))
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		done, after := f.task(t, task.ID), f.reload(t, a)
		if done.Status != publication.StatusSucceeded || done.CommitSHA != gitCmd(t, f.bare, "rev-parse", "main") || done.FinishedAt == nil {
			t.Errorf("task %+v", done)
		}
		if after.State != advisory.StatePublished || after.PublishedAt == nil || after.RepublishRequired || after.ReassignmentRequestedAt != nil {
			t.Errorf("advisory: state %s published_at %v republish %v reassignment %v", after.State, after.PublishedAt, after.RepublishRequired, after.ReassignmentRequestedAt)
		}
		rows := f.audits(t, a)[before:]
		want := append(slices.Clone(worker), "advisory.published", "advisory.reassignment_request_cleared", "publication.export_completed")
		var got []string
		for _, r := range rows {
			got = append(got, r.Action)
			// WRK acts for the enqueuer (lifecycle §0).
			if r.ActorID != f.jettyOwner.UserID {
				t.Errorf("%s: actor %d, want the enqueuer %d", r.Action, r.ActorID, f.jettyOwner.UserID)
			}
			if r.Action == "advisory.reassignment_request_cleared" && r.Metadata["cause"] != "published" {
				t.Errorf("reassignment clear metadata %v, want cause published", r.Metadata)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("audit %v\nwant %v", got, want)
		}
	})
	t.Run("L10: re-publish run keeps published_at and clears republish_required (P5)", func(t *testing.T) {
		a := editedByAdmin(jettyPublished)(t, f.advFixture)
		if !a.RepublishRequired {
			t.Fatal("edit of a published advisory did not set republish_required")
		}
		task := f.publish(t, f.jettyOwner, a)
		before := len(f.audits(t, a))
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		after := f.reload(t, a)
		if after.State != advisory.StatePublished || after.RepublishRequired || !after.PublishedAt.Equal(*a.PublishedAt) {
			t.Errorf("after re-publish: state %s republish %v published_at %v → %v", after.State, after.RepublishRequired, a.PublishedAt, after.PublishedAt)
		}
		want := append(slices.Clone(worker), "advisory.published", "publication.export_completed")
		if got := f.newActions(t, a, before); !slices.Equal(got, want) {
			t.Errorf("audit %v\nwant %v", got, want)
		}
	})

	// Lifecycle §12: the worker re-checks the lifecycle state; a draft
	// dismissed while its publication is queued or running is never
	// published, and the abort is final (not redelivered).
	t.Run("P6: advisory dismissed while queued refused: failed, not pushed, not published (L9, §12)", func(t *testing.T) {
		a := jettyDraft(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		// Dismissed behind the queued task's back (the row as L7 leaves it;
		// whether L7 itself waits for the run is not this row's concern).
		f.sql(t, a, dismissedSQL, "draft")
		head := gitCmd(t, f.bare, "for-each-ref", "refs/heads/main")
		before := len(f.audits(t, a))
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatalf("a state-changed abort is not redelivered: %v", err)
		}
		wantFailed(t, f.task(t, task.ID), "advisory state changed")
		if after := f.reload(t, a); after.State != advisory.StateDismissed || after.PublishedAt != nil {
			t.Errorf("state %s published_at %v, want dismissed, never published", after.State, after.PublishedAt)
		}
		if got := f.newActions(t, a, before); !slices.Equal(got, []string{"publication.export_failed"}) {
			t.Errorf("audit %v, want [publication.export_failed]", got)
		}
		if gitCmd(t, f.bare, "for-each-ref", "refs/heads/main") != head {
			t.Error("the documents of a dismissed draft were pushed")
		}
	})
	t.Run("P6: advisory dismissed while running refused at the final transaction (L9, §12)", func(t *testing.T) {
		p := f.publications(t, app.PublicationsConfig{Repo: fileRepo(t, "file://"+f.bare)})
		a := jettyDraft(t, f.advFixture)
		task := f.publish(t, f.jettyOwner, a)
		app.SetBeforeFinalize(p, func(int64) error {
			return f.db.InTx(f.sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
				_, err := tx.Exec(f.sys, dismissedSQL, a.ID, "draft")
				return err
			})
		})
		before := len(f.audits(t, a))
		if err := f.run(t, p, task); err != nil {
			t.Fatalf("a state-changed abort is not redelivered: %v", err)
		}
		wantFailed(t, f.task(t, task.ID), "advisory state changed")
		if after := f.reload(t, a); after.State != advisory.StateDismissed || after.PublishedAt != nil {
			t.Errorf("state %s published_at %v, want dismissed, never published", after.State, after.PublishedAt)
		}
		got := f.newActions(t, a, before)
		if slices.Contains(got, "advisory.published") || slices.Contains(got, "publication.export_completed") || got[len(got)-1] != "publication.export_failed" {
			t.Errorf("audit %v, want the run to end in publication.export_failed", got)
		}
		// A redelivery finds the task failed for good: still not published.
		m := message(task)
		m.Attempt = 2
		if err := p.Run(ctx, m); err != nil {
			t.Fatal(err)
		}
		if after := f.reload(t, a); after.State != advisory.StateDismissed {
			t.Errorf("redelivery published a dismissed advisory: %s", after.State)
		}
	})
	t.Run("L9: push rejected refused: the task fails (P6) with the git reason, the draft stays draft", func(t *testing.T) {
		g := newPubFixture(t)
		hook := filepath.Join(g.bare, "hooks", "pre-receive")
		if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		a := jettyDraft(t, g.advFixture)
		task := g.publish(t, g.jettyOwner, a)
		before := len(g.audits(t, a))
		if err := g.run(t, g.pubs, task); err != nil {
			t.Fatalf("a rejected push is not redelivered: %v", err)
		}
		wantFailed(t, g.task(t, task.ID), "push rejected")
		want := append(worker[:2:2], "publication.git_push_failed")
		rows := g.audits(t, a)[before:]
		var got []string
		for _, r := range rows {
			got = append(got, r.Action)
		}
		if !slices.Equal(got, want) {
			t.Errorf("audit %v\nwant %v", got, want)
		}
		if last := rows[len(rows)-1]; !strings.Contains(fmt.Sprint(last.Metadata["error"]), "push rejected") {
			t.Errorf("failure metadata %v", last.Metadata)
		}
		if after := g.reload(t, a); after.State != advisory.StateDraft {
			t.Errorf("state %s after a failure", after.State)
		}
	})
}

// --- L12: the worker's withdrawal finalisation ---

func TestWithdrawalWorkerRowsL12(t *testing.T) {
	t.Parallel()
	f := newPubFixture(t)
	ctx := context.Background()

	t.Run("L12: withdrawal run dismisses the advisory from published, CVE orphaned (O2)", func(t *testing.T) {
		a := withVersionedCVE(jettyPublished, "CVE-2026-33333")(t, f.advFixture)
		if _, err := f.svc.Withdraw(ctx, f.jettyOwner, a.AdvisoryID, "Duplicate of another advisory."); err != nil {
			t.Fatal(err)
		}
		task := f.latestTask(t, a)
		before := len(f.audits(t, a))
		if err := f.run(t, f.pubs, task); err != nil {
			t.Fatal(err)
		}
		after := f.reload(t, a)
		if got := f.task(t, task.ID); got.Status != publication.StatusSucceeded {
			t.Fatalf("task %+v", got)
		}
		if after.State != advisory.StateDismissed || after.DismissedFromState != advisory.StatePublished ||
			after.DismissedReason != "Duplicate of another advisory." || after.RepublishRequired || after.AssignedCVEID != "" {
			t.Errorf("after: state %s from %s reason %q republish %v cve %q", after.State, after.DismissedFromState,
				after.DismissedReason, after.RepublishRequired, after.AssignedCVEID)
		}
		rows := f.audits(t, a)[before:]
		var got []string
		for _, r := range rows {
			got = append(got, r.Action)
		}
		want := []string{"publication.osv_generated", "publication.csaf_generated", "publication.cve_generated", "publication.git_commit",
			"publication.git_push", "advisory.dismissed", "advisory.state_changed", "cve.unassigned", "publication.export_completed"}
		if !slices.Equal(got, want) {
			t.Fatalf("audit %v\nwant %v", got, want)
		}
		if m := rows[5].Metadata; m["withdrawn"] != true {
			t.Errorf("advisory.dismissed metadata %v, want withdrawn=true", m)
		}
		if m := rows[6].Metadata; m["narrated"] != true {
			t.Errorf("advisory.state_changed metadata %v, want narrated", m)
		}
		var cause, status string
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT cause, status FROM orphan_cves WHERE cve_id = 'CVE-2026-33333'`).Scan(&cause, &status)
		})
		if cause != "withdrawal" || status != "orphaned" {
			t.Errorf("orphan cause %q status %q, want withdrawal, orphaned", cause, status)
		}
		if !strings.Contains(gitCmd(t, f.bare, "show", "main:cves/2026/33xxx/CVE-2026-33333.json"), `"REJECTED"`) {
			t.Error("the CVE record in git is not REJECTED")
		}
	})
	t.Run("L12: withdrawal push failure refused: stays published, reason kept", func(t *testing.T) {
		g := newPubFixture(t)
		hook := filepath.Join(g.bare, "hooks", "pre-receive")
		if err := os.WriteFile(hook, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		a := jettyPublished(t, g.advFixture)
		if _, err := g.svc.Withdraw(ctx, g.admin, a.AdvisoryID, "Not a vulnerability after all."); err != nil {
			t.Fatal(err)
		}
		task := g.latestTask(t, a)
		before := len(g.audits(t, a))
		if err := g.run(t, g.pubs, task); err != nil {
			t.Fatal(err)
		}
		wantFailed(t, g.task(t, task.ID), "git")
		after := g.reload(t, a)
		if after.State != advisory.StatePublished || after.WithdrawnReason != "Not a vulnerability after all." {
			t.Errorf("after a failed withdrawal: state %s reason %q", after.State, after.WithdrawnReason)
		}
		if got := g.newActions(t, a, before); slices.Contains(got, "advisory.dismissed") || got[len(got)-1] != "publication.git_push_failed" {
			t.Errorf("audit %v", got)
		}
		// A retry re-runs it as a withdrawal (lifecycle §6.4).
		if err := os.Remove(hook); err != nil {
			t.Fatal(err)
		}
		again, err := g.pubs.Retry(ctx, g.admin, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.run(t, g.pubs, again); err != nil {
			t.Fatal(err)
		}
		if after := g.reload(t, a); after.State != advisory.StateDismissed || after.DismissedFromState != advisory.StatePublished {
			t.Errorf("after the retried withdrawal: %s from %s", after.State, after.DismissedFromState)
		}
	})
}
