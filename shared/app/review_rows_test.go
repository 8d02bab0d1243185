package app_test

import (
	"context"
	"slices"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// The review machine rows of lifecycle.md §3 that the review services do
// not cover alone: the action-note policy of R2, R3 and R6 (§0 item 5),
// the implicit invalidation R7 (triggered by Edit / ChangeProject), the
// teardown R8 (triggered by Dismiss, §3.3) and the publish gate (§3.4).

// wantNoteBy checks that the last comment of a is author's note body, public
// or internal: a viewer sees it only if public, a collaborator always.
func wantNoteBy(author func(*advFixture) app.Caller, body string, internal bool) checkFn {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		th := thread(t, f, f.collab, after)
		if len(th.Comments) == 0 {
			t.Fatal("no action note posted")
		}
		n := th.Comments[len(th.Comments)-1]
		if n.Body != body || n.Internal != internal || n.AuthorID != author(f).UserID {
			t.Errorf("note %q internal %v by %d; want %q internal %v by %d", n.Body, n.Internal, n.AuthorID, body, internal, author(f).UserID)
		}
		seen := slices.ContainsFunc(thread(t, f, f.viewer, after).Comments, func(c app.CommentView) bool { return c.ID == n.ID })
		if seen == internal {
			t.Errorf("viewer sees the note: %v; want %v (internal %v)", seen, !internal, internal)
		}
		rows := f.audits(t, after)
		if m := rows[len(rows)-1].Metadata; m["action_note"] == nil || m["is_internal"] != internal {
			t.Errorf("comment.created metadata %v", m)
		}
	}
}

// TestReviewActionNotes: R2 and R3 notes are public action notes, R6's
// reason an internal one; all bypass the comment lock and are skipped when
// blank (lifecycle §0 item 5).
func TestReviewActionNotes(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	runUseCases(t, f, []useCase{
		{name: "R2: approval notes are a public note, posted through the comment lock", setup: commentsLocked(submitted), caller: asAdmin,
			do: decide(true, " Looks good. "), actions: []string{"advisory.review_approved", "review.task_status_changed", "comment.created"},
			check: checkAll(wantReview(advisory.ReviewApproved), wantNoteBy(asAdmin, "Looks good.", false))},
		{name: "R2: blank notes post no note", setup: submitted, caller: asAdmin, do: decide(true, "   "),
			actions: []string{"advisory.review_approved", "review.task_status_changed"}, check: wantReview(advisory.ReviewApproved)},
		{name: "R2: approve while locked, collaborator refused", setup: commentsLocked(submitted), caller: asCollab, do: decide(true, "x"), kind: apperr.Forbidden},
		{name: "R3: change-request notes are a public note, posted through the comment lock", setup: commentsLocked(submitted), caller: asAdmin,
			do: decide(false, "Add the fixed version."), actions: []string{"advisory.review_changes_requested", "review.task_status_changed", "comment.created"},
			check: checkAll(wantReview(advisory.ReviewChangesRequested), wantNoteBy(asAdmin, "Add the fixed version.", false))},
		{name: "R3: blank notes post no note", setup: submitted, caller: asAdmin, do: decide(false, ""),
			actions: []string{"advisory.review_changes_requested", "review.task_status_changed"}, check: wantReview(advisory.ReviewChangesRequested)},
		{name: "R3: request changes, not submitted refused", setup: decided(false), caller: asAdmin, do: decide(false, "again"), kind: apperr.Conflict},
		{name: "R6: revoke reason is an internal note, posted through the comment lock", setup: commentsLocked(decided(true)), caller: asAdmin,
			do: revoke("Missing CVSS rationale."), actions: []string{"advisory.review_approval_revoked", "comment.created"},
			check: checkAll(wantReview(advisory.ReviewNone), wantNoteBy(asAdmin, "Missing CVSS rationale.", true),
				func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
					rows := f.audits(t, after)
					if m := rows[len(rows)-2].Metadata; m["reason"] != "Missing CVSS rationale." {
						t.Errorf("advisory.review_approval_revoked metadata %v, want the reason", m)
					}
				})},
		{name: "R6: revoke without a reason: no note, no reason metadata", setup: decided(true), caller: asAdmin, do: revoke("  "),
			actions: []string{"advisory.review_approval_revoked"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				rows := f.audits(t, after)
				if _, ok := rows[len(rows)-1].Metadata["reason"]; ok {
					t.Errorf("metadata %v carries a reason", rows[len(rows)-1].Metadata)
				}
			}},
		// R6 applies in any lifecycle state: a withdrawal keeps the approval
		// (§3.3), and admins may still revoke it (permissions §6).
		{name: "R6: revoke on a withdrawn advisory (any state)", setup: approvedWithdrawn, caller: asAdmin, do: revoke(""),
			actions: []string{"advisory.review_approval_revoked"}, check: wantReview(advisory.ReviewNone)},
		{name: "R6: revoke on a withdrawn advisory, owner refused", setup: approvedWithdrawn, caller: asOwner, do: revoke(""), kind: apperr.Forbidden},
		{name: "R6: revoke, GHSA-linked refused", setup: with(decided(true), `UPDATE advisories SET kind = 'ghsa_linked', ghsa_id = 'GHSA-aaaa-bbbb-cccc' WHERE id = $1`),
			caller: asAdmin, do: revoke(""), kind: apperr.Conflict},
		{name: "R6: revoke, changes requested refused", setup: decided(false), caller: asAdmin, do: revoke("x"), kind: apperr.Conflict},
	})
}

// TestR7ApprovalInvalidation: a non-admin content save of an approved
// native advisory resets it to none in the same save, audited with the
// editor's IP/UA (runUseCases checks them); an admin's save keeps it
// (INV-REVIEW-4).
func TestR7ApprovalInvalidation(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	retitle := edit(func(c *advisory.Content) { c.Summary = "Path traversal in lantern (reviewed)" })
	unchanged := edit(func(*advisory.Content) {})
	voided := []string{"advisory.edited", "advisory.review_approval_invalidated"}
	decidedTaskKept := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		if st, _ := f.reviewTasks(t, after); !slices.Equal(st, []string{"approved"}) {
			t.Errorf("tasks %v; a decided task is terminal (§3.2)", st)
		}
	}
	toJetty := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.ChangeProject(ctx, c, a.AdvisoryID, "jetty")
	}
	runUseCases(t, f, []useCase{
		{name: "R7: owner edit voids the approval (INV-REVIEW-4)", setup: decided(true), caller: asOwner, do: retitle, actions: voided, versions: 1,
			check: checkAll(wantReview(advisory.ReviewNone), decidedTaskKept)},
		{name: "R7: collaborator save without a change still voids", setup: decided(true), caller: asCollab, do: unchanged, actions: voided,
			check: wantReview(advisory.ReviewNone)},
		{name: "R7: owner edit of a published approval voids it and asks for re-publication", setup: approvedPublished, caller: asOwner,
			do: retitle, actions: voided, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.ReviewStatus != advisory.ReviewNone || !after.RepublishRequired || after.State != advisory.StatePublished {
					t.Errorf("after edit: %s/%s republish %v", after.State, after.ReviewStatus, after.RepublishRequired)
				}
				if access.Allowed(f.owner.Subject(), access.CapPublish, f.target(t, after)) {
					t.Error("a non-mature team may re-publish its own unreviewed edit (INV-PERM-1)")
				}
			}},
		{name: "R7: owner project change voids the approval", setup: decided(true), caller: asMover, do: toJetty,
			actions: []string{"advisory.project_changed", "advisory.review_approval_invalidated"}, versions: 1, check: wantReview(advisory.ReviewNone)},
		{name: "R7: admin edit keeps the approval", setup: decided(true), caller: asAdmin, do: retitle, actions: []string{"advisory.edited"}, versions: 1,
			check: wantReview(advisory.ReviewApproved)},
		{name: "R7: edit with changes requested leaves the review alone", setup: decided(false), caller: asOwner, do: retitle,
			actions: []string{"advisory.edited"}, versions: 1, check: wantReview(advisory.ReviewChangesRequested)},
		{name: "R7: viewer edit refused, approval kept", setup: decided(true), caller: asViewer, do: retitle, kind: apperr.Forbidden},
		{name: "R7: owner edit while submitted refused (§3.4)", setup: submitted, caller: asOwner, do: retitle, kind: apperr.Forbidden},
		{name: "R7: owner edit of a withdrawn approved advisory refused", setup: approvedWithdrawn, caller: asOwner, do: retitle, kind: apperr.Forbidden},
	})
}

// TestR8ReviewTeardown: dismissal from draft/triage tears the review down
// to none and withdraws an open task, so a reopened advisory cannot ride
// an old approval (§3.3, INV-LIFECYCLE-4, INV-PERM-3).
func TestR8ReviewTeardown(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	const reason = "Duplicate of ECL-2222-3333-4444 – déjà vu."
	// L7 order: the flip, its public note, then the teardown.
	dismissed := []string{"advisory.dismissed", "advisory.state_changed", "comment.created"}
	teardown := func(prev advisory.ReviewStatus, taskStatuses ...string) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			t.Helper()
			if before.ReviewStatus != prev || after.ReviewStatus != advisory.ReviewNone || after.State != advisory.StateDismissed {
				t.Errorf("review %q → %q, state %q; want %q → none, dismissed", before.ReviewStatus, after.ReviewStatus, after.State, prev)
			}
			if st, _ := f.reviewTasks(t, after); !slices.Equal(st, taskStatuses) {
				t.Errorf("tasks %v, want %v", st, taskStatuses)
			}
			var withdrawn, taskRow *auditRow
			rows := f.audits(t, after)
			for i := range rows {
				switch rows[i].Action {
				case "advisory.review_withdrawn":
					withdrawn = &rows[i]
				case "review.task_status_changed":
					taskRow = &rows[i]
				}
			}
			if withdrawn == nil {
				t.Fatal("no advisory.review_withdrawn row")
			}
			m := withdrawn.Metadata
			if m["cancelled_on_dismiss"] != true || m["reason_length"] != float64(len([]rune(reason))) {
				t.Errorf("advisory.review_withdrawn metadata %v; want cancelled_on_dismiss, reason_length %d", m, len([]rune(reason)))
			}
			if prev == advisory.ReviewSubmitted {
				id := float64(f.newestReviewTaskID(t, after))
				if m["task_id"] != id || taskRow == nil || taskRow.Metadata["task_id"] != id {
					t.Errorf("teardown rows %v / %v; want task_id %v on both", m, taskRow, id)
				}
			} else if _, ok := m["task_id"]; ok {
				t.Errorf("metadata %v names a task, but none was open", m)
			}
		}
	}
	runUseCases(t, f, []useCase{
		{name: "R8: owner dismisses a submitted draft, open task withdrawn", setup: submitted, caller: asOwner, do: dismiss(reason),
			actions: append(slices.Clone(dismissed), "advisory.review_withdrawn", "review.task_status_changed"),
			check:   teardown(advisory.ReviewSubmitted, "withdrawn")},
		{name: "R8: admin dismisses a submitted draft", setup: submitted, caller: asAdmin, do: dismiss(reason),
			actions: append(slices.Clone(dismissed), "advisory.review_withdrawn", "review.task_status_changed"),
			check:   teardown(advisory.ReviewSubmitted, "withdrawn")},
		{name: "R8: dismissing an approved draft drops the approval, decided task kept", setup: decided(true), caller: asOwner, do: dismiss(reason),
			actions: append(slices.Clone(dismissed), "advisory.review_withdrawn"), check: teardown(advisory.ReviewApproved, "approved")},
		{name: "R8: dismissing a changes_requested draft", setup: decided(false), caller: asOwner, do: dismiss(reason),
			actions: append(slices.Clone(dismissed), "advisory.review_withdrawn"), check: teardown(advisory.ReviewChangesRequested, "changes_requested")},
		{name: "R8: nothing to tear down at none", setup: lanternDraft, caller: asOwner, do: dismiss(reason), actions: dismissed,
			check: wantReview(advisory.ReviewNone)},
		{name: "R8: submitted draft, collaborator refused", setup: submitted, caller: asCollab, do: dismiss(reason), kind: apperr.Forbidden},
		{name: "R8: submitted draft, blank reason refused", setup: submitted, caller: asOwner, do: dismiss("  "), kind: apperr.Invalid},
		{name: "R8: approved published advisory refused (withdrawn instead, §3.3)", setup: approvedPublished, caller: asAdmin,
			do: dismiss(reason), kind: apperr.Conflict},
	})

	t.Run("R8: a reopened advisory starts at none with no open task (INV-PERM-3)", func(t *testing.T) {
		ctx := context.Background()
		for _, setup := range []setupFn{submitted, decided(true)} {
			a := setup(t, f)
			if _, err := f.svc.Dismiss(ctx, f.owner, a.AdvisoryID, reason); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Reopen(ctx, f.owner, a.AdvisoryID); err != nil {
				t.Fatal(err)
			}
			after := f.reload(t, a)
			var open int
			f.exec(t, func(tx *postgres.DB) error {
				return tx.QueryRow(f.sys, `SELECT count(*) FROM review_tasks WHERE advisory_id = $1 AND status = 'open'`, a.ID).Scan(&open)
			})
			if after.State != advisory.StateDraft || after.ReviewStatus != advisory.ReviewNone || open != 0 {
				t.Errorf("after reopen: %s/%s with %d open tasks", after.State, after.ReviewStatus, open)
			}
			if access.Allowed(f.owner.Subject(), access.CapPublish, f.target(t, after)) {
				t.Error("a reopened advisory rides its old approval (INV-PERM-3)")
			}
			if _, err := f.svc.SubmitReview(ctx, f.owner, a.AdvisoryID); err != nil {
				t.Errorf("resubmission after reopen: %v", err)
			}
		}
	})
}

// TestR8WithdrawalKeepsReview: withdrawal (L12) does not run R8; the
// withdrawn advisory keeps its approval until an admin revokes it (R6, any
// state) (§3.3, INV-LIFECYCLE-4).
func TestR8WithdrawalKeepsReview(t *testing.T) {
	t.Parallel()
	pf := newPubFixture(t)
	f := pf.advFixture
	ctx := context.Background()
	a := decided(true)(t, f)
	if err := pf.run(t, pf.pubs, pf.publish(t, f.owner, a)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Withdraw(ctx, f.admin, a.AdvisoryID, "Not a vulnerability after all."); err != nil {
		t.Fatal(err)
	}
	if err := pf.run(t, pf.pubs, pf.latestTask(t, a)); err != nil {
		t.Fatal(err)
	}
	t.Run("R8: withdrawal does not tear the review down (§3.3)", func(t *testing.T) {
		after := f.reload(t, a)
		if after.State != advisory.StateDismissed || after.DismissedFromState != advisory.StatePublished || after.ReviewStatus != advisory.ReviewApproved {
			t.Fatalf("after withdrawal: %s from %s, review %s; want dismissed from published, still approved",
				after.State, after.DismissedFromState, after.ReviewStatus)
		}
		for _, r := range f.audits(t, a) {
			if r.Action == "advisory.review_withdrawn" {
				t.Errorf("withdrawal wrote %+v", r)
			}
		}
	})
	t.Run("R6: admin revokes the kept approval of the withdrawn advisory", func(t *testing.T) {
		n := len(f.audits(t, a))
		if _, err := f.svc.RevokeApproval(ctx, f.owner, a.AdvisoryID, ""); apperr.KindOf(err) != apperr.Forbidden {
			t.Errorf("owner revoke: %v, want forbidden", err)
		}
		if _, err := f.svc.RevokeApproval(ctx, f.admin, a.AdvisoryID, ""); err != nil {
			t.Fatal(err)
		}
		if got := f.newActions(t, a, n); !slices.Equal(got, []string{"advisory.review_approval_revoked"}) {
			t.Errorf("audit rows %v", got)
		}
		if after := f.reload(t, a); after.ReviewStatus != advisory.ReviewNone || after.State != advisory.StateDismissed {
			t.Errorf("after revoke: %s/%s", after.State, after.ReviewStatus)
		}
	})
}

// TestReviewPublishGate is §3.4 on a draft: submitted blocks publication
// for everyone, admins included (INV-PERM-3); a non-mature team publishes
// only an approved draft (INV-PERM-1); a mature team publishes from none
// or changes_requested too (INV-PERM-2); admins publish regardless.
func TestReviewPublishGate(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	jettyDraftAt := func(status string) setupFn {
		return with(jettyDraft, `UPDATE advisories SET review_status = $2 WHERE id = $1`, status)
	}
	withdrawnReview := func(t *testing.T, f *advFixture) *advisory.Advisory {
		a := submitted(t, f)
		if _, err := f.svc.WithdrawReview(context.Background(), f.owner, a.AdvisoryID); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}
	cases := []struct {
		name   string
		setup  setupFn
		caller func(*advFixture) app.Caller
		want   bool
	}{
		{"R1: submitted, team publish refused (INV-PERM-3)", submitted, asOwner, false},
		{"R1: submitted, admin publish refused (INV-PERM-3)", submitted, asAdmin, false},
		{"R1: submitted, mature team publish refused (INV-PERM-3)", jettyDraftAt("submitted"), asJettyOwner, false},
		{"R2: approved, team publishes (INV-PERM-1)", decided(true), asOwner, true},
		{"R2: approved, collaborator publish refused", decided(true), asCollab, false},
		{"R3: changes requested, team publish refused (INV-PERM-1)", decided(false), asOwner, false},
		{"R3: changes requested, admin publishes", decided(false), asAdmin, true},
		{"R3: changes requested, mature team publishes (INV-PERM-2)", jettyDraftAt("changes_requested"), asJettyOwner, true},
		{"R4: withdrawn review, team publish refused (INV-PERM-1)", withdrawnReview, asOwner, false},
		{"R4: withdrawn review, admin publishes", withdrawnReview, asAdmin, true},
		{"R6: revoked approval, team publish refused", func(t *testing.T, f *advFixture) *advisory.Advisory {
			a := decided(true)(t, f)
			if _, err := f.svc.RevokeApproval(context.Background(), f.admin, a.AdvisoryID, ""); err != nil {
				t.Fatal(err)
			}
			return f.reload(t, a)
		}, asOwner, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.setup(t, f)
			if got := access.Allowed(tc.caller(f).Subject(), access.CapPublish, f.target(t, a)); got != tc.want {
				t.Errorf("can_publish %v, want %v (review_status %s)", got, tc.want, a.ReviewStatus)
			}
		})
	}
}
