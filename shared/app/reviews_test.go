package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
)

// submitted is a lantern draft its owner submitted for review.
func submitted(t *testing.T, f *advFixture) *advisory.Advisory {
	t.Helper()
	a := f.lanternDraft(t)
	if _, err := f.svc.SubmitReview(context.Background(), f.owner, a.AdvisoryID); err != nil {
		t.Fatal(err)
	}
	return f.reload(t, a)
}

func decided(approve bool) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := submitted(t, f)
		if _, err := f.svc.DecideReview(context.Background(), f.admin, a.AdvisoryID, app.ReviewDecision{Approve: approve}); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}
}

// approvedPublished is an approved advisory that was published.
var approvedPublished = with(decided(true), `UPDATE advisories SET state = 'published', published_at = now() WHERE id = $1`)

// approvedWithdrawn is an approved advisory that was published and then
// withdrawn (dismissed from published, review kept: §3.3).
var approvedWithdrawn = with(decided(true), `UPDATE advisories SET state = 'dismissed', published_at = now(),
	dismissed_from_state = 'published', dismissed_reason = 'not a bug', withdrawn_reason = 'not a bug' WHERE id = $1`)

func wantReview(s advisory.ReviewStatus) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		if after.ReviewStatus != s {
			t.Errorf("review_status %q, want %q", after.ReviewStatus, s)
		}
	}
}

// reviewTasks returns the statuses of a's review tasks, oldest first, and
// whether the newest pins a's latest version.
func (f *advFixture) reviewTasks(t *testing.T, a *advisory.Advisory) (statuses []string, pinsLatest bool) {
	t.Helper()
	f.exec(t, func(tx *postgres.DB) error {
		rows, err := tx.Query(f.sys, `SELECT status, version_id = (SELECT max(id) FROM advisory_versions WHERE advisory_id = $1)
			FROM review_tasks WHERE advisory_id = $1 ORDER BY id`, a.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s, &pinsLatest); err != nil {
				return err
			}
			statuses = append(statuses, s)
		}
		return rows.Err()
	})
	return statuses, pinsLatest
}

func (f *advFixture) target(t *testing.T, a *advisory.Advisory) access.Target {
	t.Helper()
	var tg access.Target
	f.exec(t, func(tx *postgres.DB) error {
		var err error
		tg, err = tx.AccessTarget(f.sys, f.reload(t, a))
		return err
	})
	return tg
}

func submitReview(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
	return f.svc.SubmitReview(ctx, c, a.AdvisoryID)
}

func decide(approve bool, notes string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.DecideReview(ctx, c, a.AdvisoryID, app.ReviewDecision{Approve: approve, Notes: notes})
	}
}

func revoke(reason string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.RevokeApproval(ctx, c, a.AdvisoryID, reason)
	}
}

func TestSubmitReview(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	runUseCases(t, f, []useCase{
		{name: "R1: owner, draft", setup: lanternDraft, caller: asOwner, do: submitReview, actions: []string{"advisory.submitted_for_review"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				wantReview(advisory.ReviewSubmitted)(t, f, before, after)
				if st, pins := f.reviewTasks(t, after); len(st) != 1 || st[0] != "open" || !pins {
					t.Errorf("tasks %v pinsLatest %v; want one open task pinning the latest version (INV-REVIEW-2)", st, pins)
				}
				if after.SubmittedForReviewAt == nil {
					t.Error("submitted_for_review_at not set")
				}
				rows := f.audits(t, after)
				if m := rows[len(rows)-1].Metadata; m["task_id"] == nil || m["version_id"] == nil || m["version"] != float64(1) {
					t.Errorf("advisory.submitted_for_review metadata %v; want task_id, version_id, version", m)
				}
				// Edits are frozen for non-admins (INV-REVIEW-1, permissions).
				ctx := context.Background()
				if _, err := f.svc.Edit(ctx, f.owner, after.AdvisoryID, goodContent()); apperr.KindOf(err) != apperr.Forbidden {
					t.Errorf("owner edit while submitted: %v, want forbidden", err)
				}
				if _, err := f.svc.Edit(ctx, f.admin, after.AdvisoryID, goodContent()); err != nil {
					t.Errorf("admin edit while submitted: %v", err)
				}
			}},
		{name: "R1: resubmit after changes requested", setup: decided(false), caller: asOwner, do: submitReview,
			actions: []string{"advisory.submitted_for_review"}, check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if st, _ := f.reviewTasks(t, after); len(st) != 2 || st[0] != "changes_requested" || st[1] != "open" {
					t.Errorf("tasks %v; each submission opens a new task", st)
				}
			}},
		{name: "R1: resubmit over an approval", setup: decided(true), caller: asOwner, do: submitReview,
			actions: []string{"advisory.submitted_for_review"}, check: wantReview(advisory.ReviewSubmitted)},
		{name: "R1: admin refused (INV-REVIEW-3)", setup: lanternDraft, caller: asAdmin, do: submitReview, kind: apperr.Forbidden},
		{name: "R1: collaborator refused", setup: lanternDraft, caller: asCollab, do: submitReview, kind: apperr.Forbidden},
		{name: "R1: stranger refused", setup: lanternDraft, caller: asStranger, do: submitReview, kind: apperr.NotFound},
		{name: "R1: already submitted refused", setup: submitted, caller: asOwner, do: submitReview, kind: apperr.Conflict},
		{name: "R1: published refused", setup: lanternPublished, caller: asOwner, do: submitReview, kind: apperr.Conflict},
		{name: "R1: triage refused", setup: lanternTriage, caller: asOwner, do: submitReview, kind: apperr.Conflict},
		{name: "R1: GHSA-linked refused", setup: with(lanternDraft, `UPDATE advisories SET kind = 'ghsa_linked', ghsa_id = 'GHSA-aaaa-bbbb-cccc' WHERE id = $1`),
			caller: asOwner, do: submitReview, kind: apperr.Conflict},
	})
}

func TestDecideReview(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	decidedTask := func(status string) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			t.Helper()
			if st, _ := f.reviewTasks(t, after); len(st) != 1 || st[0] != status {
				t.Errorf("tasks %v, want [%s]", st, status)
			}
		}
	}
	runUseCases(t, f, []useCase{
		// R2
		{name: "R2: approve", setup: submitted, caller: asAdmin, do: decide(true, "Looks good."),
			actions: []string{"advisory.review_approved", "review.task_status_changed", "comment.created"},
			check:   checkAll(wantReview(advisory.ReviewApproved), decidedTask("approved"))},
		{name: "R2: approve without notes", setup: submitted, caller: asAdmin, do: decide(true, ""),
			actions: []string{"advisory.review_approved", "review.task_status_changed"}, check: wantReview(advisory.ReviewApproved)},
		{name: "R2: approve, owner refused", setup: submitted, caller: asOwner, do: decide(true, ""), kind: apperr.Forbidden},
		{name: "R2: approve, not submitted refused", setup: lanternDraft, caller: asAdmin, do: decide(true, ""), kind: apperr.Conflict},
		// R3
		{name: "R3: request changes", setup: submitted, caller: asAdmin, do: decide(false, "Add the affected versions."),
			actions: []string{"advisory.review_changes_requested", "review.task_status_changed", "comment.created"},
			check:   checkAll(wantReview(advisory.ReviewChangesRequested), decidedTask("changes_requested"))},
		{name: "R3: request changes, collaborator refused", setup: submitted, caller: asCollab, do: decide(false, ""), kind: apperr.Forbidden},
		{name: "R3: request changes, already approved refused (§3.2)", setup: decided(true), caller: asAdmin, do: decide(false, ""), kind: apperr.Conflict},
	})
}

// newestReviewTaskID is the id of a's newest review task.
func (f *advFixture) newestReviewTaskID(t *testing.T, a *advisory.Advisory) int64 {
	t.Helper()
	var id int64
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT max(id) FROM review_tasks WHERE advisory_id = $1`, a.ID).Scan(&id)
	})
	return id
}

// TestDecideReviewTask is the dashboard's decision on one task (R2, R3 by
// task id; §3.2: decided tasks are terminal).
func TestDecideReviewTask(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	refused := func(name string, setup setupFn, c func(*advFixture) app.Caller, taskOffset int64, kind apperr.Kind) {
		t.Run(name, func(t *testing.T) {
			a := setup(t, f)
			n, before := len(f.audits(t, a)), f.reload(t, a)
			_, err := f.svc.DecideReviewTask(ctx, c(f), f.newestReviewTaskID(t, a)+taskOffset, app.ReviewDecision{Approve: true, Notes: "ok"})
			if apperr.KindOf(err) != kind {
				t.Fatalf("error %v, want kind %v", err, kind)
			}
			if got := f.newActions(t, a, n); len(got) != 0 {
				t.Errorf("refused decision wrote %v", got)
			}
			if diff := cmp.Diff(before, f.reload(t, a)); diff != "" {
				t.Errorf("refused decision changed the row (-before +after):\n%s", diff)
			}
		})
	}
	refused("R2: dashboard decision, owner refused", submitted, asOwner, 0, apperr.Forbidden)
	refused("R2: dashboard decision, collaborator refused", submitted, asCollab, 0, apperr.Forbidden)
	refused("R2: dashboard decision, stranger refused", submitted, asStranger, 0, apperr.NotFound)
	refused("R2: dashboard decision, unknown task refused", submitted, asAdmin, 1000, apperr.NotFound)
	refused("R2: dashboard decision on an approved task refused (§3.2)", decided(true), asAdmin, 0, apperr.Conflict)
	refused("R3: dashboard decision on a changes_requested task refused (§3.2)", decided(false), asAdmin, 0, apperr.Conflict)
	// The dashboard is admin-only: a non-admin is forbidden whatever the
	// task's state (permissions §12).
	refused("R3: dashboard decision on a decided task, owner refused as forbidden", decided(false), asOwner, 0, apperr.Forbidden)
	refused("R3: dashboard decision on a withdrawn task refused (§3.2)", func(t *testing.T, f *advFixture) *advisory.Advisory {
		a := submitted(t, f)
		if _, err := f.svc.WithdrawReview(ctx, f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}, asAdmin, 0, apperr.Conflict)

	t.Run("R2: dashboard approval", func(t *testing.T) {
		a := submitted(t, f)
		taskID, n := f.newestReviewTaskID(t, a), len(f.audits(t, a))
		view, err := f.svc.DecideReviewTask(ctx, f.admin, taskID, app.ReviewDecision{Approve: true, Notes: " ok "})
		if err != nil {
			t.Fatal(err)
		}
		got := view.Task
		if view.People.Emails[f.owner.UserID] == "" || view.People.Emails[f.admin.UserID] == "" || !view.People.ShowEmails {
			t.Errorf("people %+v", view.People)
		}
		if got.ID != taskID || got.Status != advisory.ReviewTaskApproved || got.ReviewerID != f.admin.UserID || got.SubmittedByID != f.owner.UserID ||
			got.DecisionNotes != "ok" || got.DecidedAt == nil || got.AdvisoryID != a.AdvisoryID {
			t.Errorf("decided task %+v", got)
		}
		if diff := cmp.Diff([]string{"advisory.review_approved", "review.task_status_changed", "comment.created"}, f.newActions(t, a, n)); diff != "" {
			t.Errorf("audit rows (-want +got):\n%s", diff)
		}
		if after := f.reload(t, a); after.ReviewStatus != advisory.ReviewApproved {
			t.Errorf("review %q, want approved", after.ReviewStatus)
		}
	})
	t.Run("R3: dashboard request changes without notes", func(t *testing.T) {
		a := submitted(t, f)
		taskID, n := f.newestReviewTaskID(t, a), len(f.audits(t, a))
		view, err := f.svc.DecideReviewTask(ctx, f.admin, taskID, app.ReviewDecision{})
		if err != nil {
			t.Fatal(err)
		}
		if view.Task.Status != advisory.ReviewTaskChangesRequested || view.Task.DecisionNotes != "" {
			t.Errorf("decided task %+v", view.Task)
		}
		if diff := cmp.Diff([]string{"advisory.review_changes_requested", "review.task_status_changed"}, f.newActions(t, a, n)); diff != "" {
			t.Errorf("audit rows (-want +got):\n%s", diff)
		}
		if after := f.reload(t, a); after.ReviewStatus != advisory.ReviewChangesRequested {
			t.Errorf("review %q, want changes_requested", after.ReviewStatus)
		}
	})
}

func TestWithdrawReopenRevokeReview(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	withdraw := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.WithdrawReview(ctx, c, a.AdvisoryID)
	}
	reopen := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.ReopenReview(ctx, c, a.AdvisoryID)
	}
	runUseCases(t, f, []useCase{
		// R4
		{name: "R4: withdraw, owner", setup: submitted, caller: asOwner, do: withdraw,
			actions: []string{"advisory.review_withdrawn", "review.task_status_changed"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				wantReview(advisory.ReviewNone)(t, f, before, after)
				if st, _ := f.reviewTasks(t, after); len(st) != 1 || st[0] != "withdrawn" {
					t.Errorf("tasks %v, want [withdrawn]", st)
				}
			}},
		{name: "R4: withdraw, admin refused (INV-REVIEW-3)", setup: submitted, caller: asAdmin, do: withdraw, kind: apperr.Forbidden},
		{name: "R4: withdraw, collaborator refused", setup: submitted, caller: asCollab, do: withdraw, kind: apperr.Forbidden},
		{name: "R4: withdraw, not submitted refused", setup: lanternDraft, caller: asOwner, do: withdraw, kind: apperr.Conflict},
		// R5
		{name: "R5: reopen review, owner", setup: decided(false), caller: asOwner, do: reopen,
			actions: []string{"advisory.state_changed"}, check: wantReview(advisory.ReviewNone)},
		{name: "R5: reopen review, admin", setup: decided(false), caller: asAdmin, do: reopen,
			actions: []string{"advisory.state_changed"}, check: wantReview(advisory.ReviewNone)},
		{name: "R5: reopen review, collaborator refused", setup: decided(false), caller: asCollab, do: reopen, kind: apperr.Forbidden},
		{name: "R5: reopen review, approved refused", setup: decided(true), caller: asOwner, do: reopen, kind: apperr.Conflict},
		// R6
		{name: "R6: revoke, admin", setup: decided(true), caller: asAdmin, do: revoke("Missing CVSS rationale."),
			actions: []string{"advisory.review_approval_revoked", "comment.created"}, check: wantReview(advisory.ReviewNone)},
		{name: "R6: revoke, published, no reason", setup: approvedPublished, caller: asAdmin, do: revoke(""),
			actions: []string{"advisory.review_approval_revoked"}, check: wantReview(advisory.ReviewNone)},
		{name: "R6: revoke, owner refused", setup: decided(true), caller: asOwner, do: revoke(""), kind: apperr.Forbidden},
		{name: "R6: revoke, not approved refused", setup: submitted, caller: asAdmin, do: revoke(""), kind: apperr.Conflict},
	})
}

// TestReviewScenario walks a non-mature draft through review to its
// publication into a real bare repository, and shows a mature team
// publishes directly, without review (issue 6 acceptance; INV-PERM-1..3).
func TestReviewScenario(t *testing.T) {
	t.Parallel()
	pf := newPubFixture(t)
	f := pf.advFixture
	ctx := context.Background()
	a := f.lanternDraft(t)
	owner := f.owner.Subject()
	canPublish := func(s access.Subject) bool { return access.Allowed(s, access.CapPublish, f.target(t, a)) }
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if canPublish(owner) {
		t.Fatal("non-mature team may publish an unreviewed draft (INV-PERM-1)")
	}
	_, err := f.svc.SubmitReview(ctx, f.owner, a.AdvisoryID)
	step("submit", err)
	if canPublish(owner) || canPublish(f.admin.Subject()) {
		t.Fatal("publish allowed while submitted (INV-PERM-3)")
	}
	_, err = f.svc.DecideReview(ctx, f.admin, a.AdvisoryID, app.ReviewDecision{Notes: "Add the fixed version."})
	step("request changes", err)
	_, err = f.svc.Edit(ctx, f.owner, a.AdvisoryID, func() advisory.Content {
		c := goodContent()
		c.Affected[0].Versions = []string{"1.0.0", "1.0.1"}
		return c
	}())
	step("edit", err)
	_, err = f.svc.SubmitReview(ctx, f.owner, a.AdvisoryID)
	step("resubmit", err)
	if st, pins := f.reviewTasks(t, a); len(st) != 2 || !pins {
		t.Errorf("tasks %v pinsLatest %v; the resubmission pins the edited version", st, pins)
	}
	_, err = f.svc.DecideReview(ctx, f.admin, a.AdvisoryID, app.ReviewDecision{Approve: true})
	step("approve", err)
	if got := f.reload(t, a); got.ReviewStatus != advisory.ReviewApproved || got.State != advisory.StateDraft {
		t.Fatalf("after approval: %s/%s", got.State, got.ReviewStatus)
	}
	if !canPublish(owner) {
		t.Error("the team may not publish an approved draft (INV-PERM-1)")
	}
	published := func(a *advisory.Advisory, c app.Caller) {
		t.Helper()
		task := pf.publish(t, c, a)
		step("publish", pf.run(t, pf.pubs, task))
		if got := f.reload(t, a); got.State != advisory.StatePublished || got.PublishedAt == nil {
			t.Fatalf("after publication: state %s, published_at %v", got.State, got.PublishedAt)
		}
		if done := pf.task(t, task.ID); done.Status != publication.StatusSucceeded || done.CommitSHA == "" {
			t.Fatalf("publication task %+v", done)
		}
	}
	published(a, f.owner)
	want := []string{"advisory.created", "advisory.submitted_for_review", "advisory.review_changes_requested",
		"review.task_status_changed", "comment.created", "advisory.edited", "advisory.submitted_for_review",
		"advisory.review_approved", "review.task_status_changed", "publication.export_started"}
	var got []string
	for _, r := range f.audits(t, a) {
		if strings.HasPrefix(r.Action, "publication.") && r.Action != "publication.export_started" || r.Action == "advisory.published" {
			continue // the worker's build, git and completion entries are the publication tests' business
		}
		got = append(got, r.Action)
	}
	if len(got) != len(want) {
		t.Fatalf("audit trail %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit %d: %s, want %s", i, got[i], want[i])
		}
	}

	// Mature publisher: no review needed (INV-PERM-2), published directly.
	m := f.draft(t, "jetty", f.jettyOwner)
	if !access.Allowed(f.jettyOwner.Subject(), access.CapPublish, f.target(t, m)) {
		t.Error("a mature publisher may not publish an unreviewed draft")
	}
	published(m, f.jettyOwner)
}
