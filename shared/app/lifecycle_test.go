package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

type setupFn = func(t *testing.T, f *advFixture) *advisory.Advisory

func lanternDraft(t *testing.T, f *advFixture) *advisory.Advisory { return f.lanternDraft(t) }
func lanternTriage(t *testing.T, f *advFixture) *advisory.Advisory {
	return f.triage(t, "lantern", false)
}
func flaggedTriage(t *testing.T, f *advFixture) *advisory.Advisory {
	return f.triage(t, "lantern", true)
}
func unsortedTriage(t *testing.T, f *advFixture) *advisory.Advisory {
	return f.triage(t, "unsorted", true)
}
func jettyDraft(t *testing.T, f *advFixture) *advisory.Advisory {
	return f.draft(t, "jetty", f.jettyOwner)
}
func lanternPublished(t *testing.T, f *advFixture) *advisory.Advisory {
	return f.published(t, "lantern", f.owner)
}
func jettyPublished(t *testing.T, f *advFixture) *advisory.Advisory {
	return f.published(t, "jetty", f.jettyOwner)
}

// with runs stmt ($1 = advisory id) on the advisory setup made.
func with(setup setupFn, stmt string, args ...any) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		a := setup(t, f)
		f.sql(t, a, stmt, args...)
		return f.reload(t, a)
	}
}

// dismissedSQL dismisses advisory $1 from state $2, leaving the row as L6
// and L7 do.
const dismissedSQL = `UPDATE advisories SET state = 'dismissed', dismissed_reason = 'duplicate', dismissed_from_state = $2 WHERE id = $1`

func dismissedFrom(setup setupFn, from string) setupFn {
	return with(setup, dismissedSQL, from)
}

func wantState(s advisory.State) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		if after.State != s {
			t.Errorf("state %q, want %q", after.State, s)
		}
	}
}

type doFn = func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error)

type checkFn = func(t *testing.T, f *advFixture, before, after *advisory.Advisory)

// checkAll runs every check.
func checkAll(checks ...checkFn) checkFn {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		for _, c := range checks {
			c(t, f, before, after)
		}
	}
}

func dismiss(reason string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Dismiss(ctx, c, a.AdvisoryID, reason)
	}
}

// TestDismiss covers L6 (triage → dismissed, can_triage) and L7 (draft →
// dismissed, can_dismiss) with their cascade (INV-LIFECYCLE-4, INV-CVE-1/2).
func TestDismiss(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	const reason = "Duplicate of ECL-2222-3333-4444."
	d := dismiss(reason)
	// The state flip, its narrated twin, the public action note.
	dismissed := []string{"advisory.dismissed", "advisory.state_changed", "comment.created"}
	remembers := func(from advisory.State) checkFn {
		return checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.State != advisory.StateDismissed || after.DismissedFromState != from || after.DismissedReason != reason {
				t.Errorf("after dismiss: state %q from %q reason %q", after.State, after.DismissedFromState, after.DismissedReason)
			}
		}, wantMeta("advisory.dismissed", map[string]any{"reason": reason, "from_state": string(from)}),
			wantNarrated(true), wantNote(false, reason))
	}
	withOpenReview := func(t *testing.T, f *advFixture) *advisory.Advisory {
		a := f.lanternDraft(t)
		f.sql(t, a, `UPDATE advisories SET review_status = 'submitted' WHERE id = $1`)
		f.sql(t, a, `INSERT INTO review_tasks (advisory_id, version_id) SELECT $1, id FROM advisory_versions WHERE advisory_id = $1`)
		return f.reload(t, a)
	}
	withCVE := with(lanternDraft, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-12345' WHERE id = $1`)
	noReviewLeft := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		var open int
		f.exec(t, func(tx *postgres.DB) error {
			return tx.QueryRow(f.sys, `SELECT count(*) FROM review_tasks WHERE advisory_id = $1 AND status = 'open'`, after.ID).Scan(&open)
		})
		if open != 0 || after.ReviewStatus != advisory.ReviewNone {
			t.Errorf("%d open tasks, review %q (R8)", open, after.ReviewStatus)
		}
	}
	requestCleared := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		if after.ReassignmentRequestedAt != nil || after.ReassignmentRequestNote != "" || after.ReassignmentSuggestedProjectID != "" {
			t.Errorf("reassignment request still pending: %v %q", after.ReassignmentRequestedAt, after.ReassignmentRequestNote)
		}
	}
	// Every step of the L7 cascade but the orphan (a queued request and an
	// assigned CVE exclude each other), in the order of lifecycle L7.
	everything := withReassignmentRequest(queued(submitted))

	runUseCases(t, f, []useCase{
		// L6: triage → dismissed.
		{name: "L6: owner dismisses a triage report", setup: lanternTriage, caller: asOwner, do: d, actions: dismissed, check: remembers(advisory.StateTriage)},
		{name: "L6: admin dismisses a flagged report", setup: flaggedTriage, caller: asAdmin, do: d, actions: dismissed, check: remembers(advisory.StateTriage)},
		{name: "L6: admin dismisses an unsorted report", setup: unsortedTriage, caller: asAdmin, do: d, actions: dismissed, check: remembers(advisory.StateTriage)},
		{name: "L6: flagged report, owner refused (INV-AUTH-6)", setup: flaggedTriage, caller: asOwner, do: d, kind: apperr.Forbidden},
		{name: "L6: collaborator refused (INV-AUTH-5)", setup: lanternTriage, caller: asCollab, do: d, kind: apperr.Forbidden},
		{name: "L6: viewer refused", setup: lanternTriage, caller: asViewer, do: d, kind: apperr.Forbidden},
		{name: "L6: blank reason refused", setup: lanternTriage, caller: asOwner, do: dismiss(" "), kind: apperr.Invalid},
		{name: "L6: GHSA-linked triage mirror refused", setup: with(lanternTriage, `UPDATE advisories SET kind = 'ghsa_linked' WHERE id = $1`),
			caller: asAdmin, do: d, kind: apperr.Forbidden},
		{name: "L6: review teardown on a triage report", setup: with(lanternTriage, `UPDATE advisories SET review_status = 'changes_requested' WHERE id = $1`),
			caller: asOwner, do: d, actions: append(slices.Clone(dismissed), "advisory.review_withdrawn"), check: noReviewLeft},

		// L7: draft → dismissed.
		{name: "L7: owner dismisses a draft", setup: lanternDraft, caller: asOwner, do: d, actions: dismissed, check: remembers(advisory.StateDraft)},
		{name: "L7: admin dismisses a draft", setup: lanternDraft, caller: asAdmin, do: d, actions: dismissed, check: remembers(advisory.StateDraft)},
		{name: "L7: collaborator refused", setup: lanternDraft, caller: asCollab, do: d, kind: apperr.Forbidden},
		{name: "L7: viewer refused", setup: lanternDraft, caller: asViewer, do: d, kind: apperr.Forbidden},
		{name: "L7: stranger refused as not found", setup: lanternDraft, caller: asStranger, do: d, kind: apperr.NotFound},
		{name: "L7: other team refused as not found", setup: lanternDraft, caller: asJettyOwner, do: d, kind: apperr.NotFound},
		{name: "L7: blank reason refused", setup: lanternDraft, caller: asOwner, do: dismiss("  "), kind: apperr.Invalid},
		{name: "L7: published refused (withdrawal instead, INV-LIFECYCLE-4)", setup: lanternPublished, caller: asAdmin, do: d, kind: apperr.Conflict},
		// "No-op if already dismissed": refused as an illegal transition,
		// nothing written, the history kept (runUseCases checks the row).
		{name: "L7: already dismissed refused, owner", setup: dismissedFrom(lanternDraft, "draft"), caller: asOwner, do: d, kind: apperr.Conflict},
		{name: "L7: already dismissed refused, admin", setup: dismissedFrom(lanternTriage, "triage"), caller: asAdmin, do: d, kind: apperr.Conflict},
		{name: "L7: CVE assigned, owner refused (admin only)", setup: withCVE, caller: asOwner, do: d, kind: apperr.Forbidden},
		// O1 in the same transaction, after the review teardown.
		{name: "L7: CVE assigned, admin orphans it (O1, INV-CVE-2)",
			setup:  with(withReassignmentRequest(reserved(lanternDraft)), `UPDATE advisories SET review_status = 'approved' WHERE id = $1`),
			caller: asAdmin, do: d, versions: 1,
			actions: append(slices.Clone(dismissed), "advisory.reassignment_request_cleared", "advisory.review_withdrawn", "cve.unassigned"),
			check: checkAll(remembers(advisory.StateDraft), requestCleared, noReviewLeft,
				wantMeta("advisory.reassignment_request_cleared", map[string]any{"cause": "dismissed", "previous_note": "Belongs to jetty."}),
				func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
					var orphans int
					f.exec(t, func(tx *postgres.DB) error {
						return tx.QueryRow(f.sys, `SELECT count(*) FROM orphan_cves WHERE cve_id = $1 AND status = 'orphaned'`, before.AssignedCVEID).Scan(&orphans)
					})
					if after.AssignedCVEID != "" || orphans != 1 {
						t.Errorf("CVE %q, %d orphans of %s", after.AssignedCVEID, orphans, before.AssignedCVEID)
					}
				})},
		{name: "L7: cascade in order: note, request cleared, CVE request cancelled, review torn down", setup: everything, caller: asOwner, do: d,
			actions: append(slices.Clone(dismissed), "advisory.reassignment_request_cleared", "cve.request_cancelled",
				"advisory.review_withdrawn", "review.task_status_changed"),
			check: checkAll(remembers(advisory.StateDraft), requestCleared, noReviewLeft, wantTasks("cancelled:"),
				wantMeta("advisory.reassignment_request_cleared", map[string]any{"cause": "dismissed", "previous_note": "Belongs to jetty."}),
				wantMeta("advisory.review_withdrawn", map[string]any{"cancelled_on_dismiss": true, "reason_length": float64(len(reason))}))},
		{name: "L7: approval torn down (R8, INV-PERM-3)", setup: with(lanternDraft, `UPDATE advisories SET review_status = 'approved' WHERE id = $1`),
			caller: asOwner, do: d, actions: append(slices.Clone(dismissed), "advisory.review_withdrawn"), check: noReviewLeft},
		{name: "L7: open review task withdrawn (R8)", setup: withOpenReview, caller: asOwner, do: d,
			actions: append(slices.Clone(dismissed), "advisory.review_withdrawn", "review.task_status_changed"), check: noReviewLeft},
	})
}

// TestReopen covers the state flip and audit of L13 (the CVE restoration of
// §2.3 is TestDismissAndReopenCarryCVEState's).
func TestReopen(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	reopen := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Reopen(ctx, c, a.AdvisoryID)
	}
	reopened := []string{"advisory.reopened", "advisory.state_changed"}
	// The state change is the timeline's narration of a reopen: untagged.
	audited := checkAll(wantNarrated(false),
		wantMeta("advisory.reopened", map[string]any{"cve_request_restored": false, "orphan_disposition": "none"}))
	runUseCases(t, f, []useCase{
		{name: "L13: owner reopens to the draft origin", setup: dismissedFrom(lanternDraft, "draft"), caller: asOwner, do: reopen, actions: reopened,
			check: checkAll(audited, func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.State != advisory.StateDraft || after.DismissedReason != "duplicate" || after.DismissedFromState != advisory.StateDraft {
					t.Errorf("after reopen: %q, history %q/%q", after.State, after.DismissedReason, after.DismissedFromState)
				}
			})},
		{name: "L13: admin reopens to the triage origin", setup: dismissedFrom(lanternTriage, "triage"), caller: asAdmin, do: reopen, actions: reopened,
			check: checkAll(audited, wantState(advisory.StateTriage))},
		{name: "L13: old row without origin reopens to draft", setup: dismissedFrom(lanternDraft, ""), caller: asOwner, do: reopen, actions: reopened,
			check: checkAll(audited, wantState(advisory.StateDraft))},
		{name: "L13: collaborator refused", setup: dismissedFrom(lanternDraft, "draft"), caller: asCollab, do: reopen, kind: apperr.Forbidden},
		{name: "L13: viewer refused", setup: dismissedFrom(lanternTriage, "triage"), caller: asViewer, do: reopen, kind: apperr.Forbidden},
		{name: "L13: stranger refused as not found", setup: dismissedFrom(lanternDraft, "draft"), caller: asStranger, do: reopen, kind: apperr.NotFound},
		{name: "L13: not dismissed refused", setup: lanternDraft, caller: asOwner, do: reopen, kind: apperr.Conflict},
		// Reopening a withdrawal is L14: the pipeline re-publishes it, and
		// the advisory stays dismissed until the worker's success.
		{name: "L14: reopen of a withdrawal queues its re-publication", caller: asAdmin, do: reopen,
			setup: with(dismissedFrom(jettyPublished, "published"), `UPDATE advisories SET withdrawn_reason = 'bogus' WHERE id = $1`),
			// The reason was set without a version here, so clearing it
			// leaves the payload as the latest version has it: no append.
			actions: []string{"advisory.reopened", "publication.export_started"}, versions: 0,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				wantState(advisory.StateDismissed)(t, f, before, after)
				if after.WithdrawnReason != "" {
					t.Errorf("withdrawn_reason %q kept; the un-withdrawal clears it", after.WithdrawnReason)
				}
			}},
		{name: "L14: reopen of a withdrawal by a non-mature team member refused", setup: dismissedFrom(lanternPublished, "published"), caller: asOwner, do: reopen, kind: apperr.Forbidden},
	})
}

func promote(slug string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Promote(ctx, c, a.AdvisoryID, slug)
	}
}

// TestPromote covers L4 (INV-LIFECYCLE-5, INV-AUTH-5/6).
func TestPromote(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	promoted := []string{"advisory.triage_promoted", "advisory.state_changed"}
	sameRow := func(from, project string) checkFn {
		return checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			// INV-LIFECYCLE-5: same row, id and creation time.
			if after.ID != before.ID || after.AdvisoryID != before.AdvisoryID || !after.CreatedAt.Equal(before.CreatedAt) ||
				after.State != advisory.StateDraft || after.Project.Slug != project {
				t.Errorf("promoted: %+v", after)
			}
			if after.Routing.NeedsAdminRouting || after.Routing.Note != "" {
				t.Errorf("routing flag survived promotion: %+v", after.Routing)
			}
			var grants int
			f.exec(t, func(tx *postgres.DB) error {
				return tx.QueryRow(f.sys, `SELECT count(*) FROM access_grants WHERE advisory_id = $1`, after.ID).Scan(&grants)
			})
			if grants != 2 {
				t.Errorf("%d grants after promotion, want the 2 kept", grants)
			}
		}, wantNarrated(true), wantMeta("advisory.triage_promoted", map[string]any{
			"previous_project_slug": from, "project_slug": project, "reassigned": from != project,
		}))
	}
	runUseCases(t, f, []useCase{
		{name: "L4: owner promotes on the same project", setup: lanternTriage, caller: asOwner, do: promote(""), actions: promoted,
			check: sameRow("lantern", "lantern")},
		{name: "L4: owner promotes naming the current project", setup: lanternTriage, caller: asOwner, do: promote("lantern"), actions: promoted,
			check: sameRow("lantern", "lantern")},
		{name: "L4: owner on the target team promotes onto it", setup: lanternTriage, caller: asMover, do: promote("jetty"), actions: promoted, versions: 1,
			check: sameRow("lantern", "jetty")},
		{name: "L4: admin promotes onto any project", setup: lanternTriage, caller: asAdmin, do: promote("jetty"), actions: promoted, versions: 1,
			check: sameRow("lantern", "jetty")},
		{name: "L4: admin promotes from unsorted onto a real project", setup: unsortedTriage, caller: asAdmin, do: promote("lantern"), actions: promoted, versions: 1,
			check: sameRow("unsorted", "lantern")},
		{name: "L4: admin promotes a flagged report, clearing the flag", setup: flaggedTriage, caller: asAdmin, do: promote(""), actions: promoted,
			check: sameRow("lantern", "lantern")},
		{name: "L4: owner not on the target team refused", setup: lanternTriage, caller: asOwner, do: promote("jetty"), kind: apperr.Forbidden},
		{name: "L4: unsorted without a target refused", setup: unsortedTriage, caller: asAdmin, do: promote(""), kind: apperr.Invalid},
		{name: "L4: unsorted as the target refused", setup: unsortedTriage, caller: asAdmin, do: promote("unsorted"), kind: apperr.Invalid},
		{name: "L4: promotion onto unsorted refused", setup: lanternTriage, caller: asAdmin, do: promote("unsorted"), kind: apperr.Invalid},
		{name: "L4: flagged report, owner refused (INV-AUTH-6)", setup: flaggedTriage, caller: asOwner, do: promote(""), kind: apperr.Forbidden},
		{name: "L4: collaborator refused (INV-AUTH-5)", setup: lanternTriage, caller: asCollab, do: promote(""), kind: apperr.Forbidden},
		{name: "L4: viewer refused", setup: lanternTriage, caller: asViewer, do: promote(""), kind: apperr.Forbidden},
		{name: "L4: stranger refused as not found", setup: lanternTriage, caller: asStranger, do: promote(""), kind: apperr.NotFound},
		{name: "L4: draft refused", setup: lanternDraft, caller: asOwner, do: promote(""), kind: apperr.Conflict},
		{name: "L4: unknown project refused", setup: lanternTriage, caller: asAdmin, do: promote("nope"), kind: apperr.Invalid},
		{name: "L4: GHSA-linked triage mirror refused", setup: with(lanternTriage, `UPDATE advisories SET kind = 'ghsa_linked' WHERE id = $1`),
			caller: asAdmin, do: promote(""), kind: apperr.Forbidden},
	})
}

func changeProject(slug string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.ChangeProject(ctx, c, a.AdvisoryID, slug)
	}
}

func TestChangeProject(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	moved := []string{"advisory.project_changed"}
	onto := func(slug string) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.Project.Slug != slug || after.AccessReviewRequiredAt == nil {
				t.Errorf("project %q, access review %v", after.Project.Slug, after.AccessReviewRequiredAt)
			}
		}
	}
	runUseCases(t, f, []useCase{
		{name: "owner on both teams", setup: lanternDraft, caller: asMover, do: changeProject("jetty"), actions: moved, versions: 1, check: onto("jetty")},
		{name: "admin, any project", setup: lanternDraft, caller: asAdmin, do: changeProject("jetty"), actions: moved, versions: 1, check: onto("jetty")},
		{name: "owner, not on the destination team", setup: lanternDraft, caller: asOwner, do: changeProject("jetty"), kind: apperr.Forbidden},
		{name: "collaborator", setup: lanternDraft, caller: asCollab, do: changeProject("jetty"), kind: apperr.Forbidden},
		{name: "same project", setup: lanternDraft, caller: asOwner, do: changeProject("lantern"), kind: apperr.Invalid},
		{name: "unknown project", setup: lanternDraft, caller: asOwner, do: changeProject("nope"), kind: apperr.Invalid},
		{name: "dismissed", setup: dismissedFrom(lanternDraft, "draft"), caller: asAdmin, do: changeProject("jetty"), kind: apperr.Forbidden},
		{name: "GHSA-linked", setup: with(lanternDraft, `UPDATE advisories SET kind = 'ghsa_linked' WHERE id = $1`), caller: asAdmin, do: changeProject("jetty"), kind: apperr.Forbidden},
		{name: "published", setup: lanternPublished, caller: asMover, do: changeProject("jetty"), actions: moved, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.RepublishRequired {
					t.Error("republish_required not set")
				}
			}},
		{name: "approved, team member voids", setup: with(lanternDraft, `UPDATE advisories SET review_status = 'approved' WHERE id = $1`),
			caller: asMover, do: changeProject("jetty"), actions: []string{"advisory.project_changed", "advisory.review_approval_invalidated"}, versions: 1},
		// D4: the edit form's project change clears a pending request as
		// accepted; nothing pending, nothing cleared.
		{name: "D4: edit-form project change clears the request as accepted",
			setup:  with(lanternDraft, `UPDATE advisories SET reassignment_requested_at = now(), reassignment_request_note = 'move it' WHERE id = $1`),
			caller: asAdmin, do: changeProject("jetty"), actions: []string{"advisory.project_changed", "advisory.reassignment_request_cleared"}, versions: 1,
			check: checkAll(onto("jetty"), wantMeta("advisory.reassignment_request_cleared", map[string]any{"cause": "accepted", "previous_note": "move it"}),
				func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
					if after.ReassignmentRequestedAt != nil || after.ReassignmentRequestNote != "" {
						t.Errorf("request still pending: %v %q", after.ReassignmentRequestedAt, after.ReassignmentRequestNote)
					}
				})},
		{name: "D4: nothing pending, no cleared row", setup: lanternDraft, caller: asMover, do: changeProject("jetty"), actions: moved, versions: 1, check: onto("jetty")},
		{name: "D4: refused project change keeps the request", setup: withReassignmentRequest(lanternDraft), caller: asOwner, do: changeProject("jetty"), kind: apperr.Forbidden},
		// On a triage row the edit form routes to reassign_triage_project.
		{name: "F3: triage via the edit form", setup: lanternTriage, caller: asAdmin, do: changeProject("unsorted"), actions: moved, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if !after.Routing.NeedsAdminRouting || after.AccessReviewRequiredAt != nil {
					t.Errorf("triage onto unsorted: flag %v, access review %v", after.Routing.NeedsAdminRouting, after.AccessReviewRequiredAt)
				}
			}},
	})
}

func reassign(slug string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.ReassignTriage(ctx, c, a.AdvisoryID, slug)
	}
}

// TestReassignTriage covers F3 (INV-INTAKE-4).
func TestReassignTriage(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	moved := []string{"advisory.project_changed"}
	onto := func(from, project string, flagged, cleared bool, note string) checkFn {
		return checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.Project.Slug != project || after.Routing.NeedsAdminRouting != flagged || after.Routing.Note != note ||
				after.State != advisory.StateTriage || after.AccessReviewRequiredAt != nil {
				t.Errorf("project %q, routing %+v, state %q, access review %v", after.Project.Slug, after.Routing, after.State, after.AccessReviewRequiredAt)
			}
		}, wantMeta("advisory.project_changed", map[string]any{
			"in_triage": true, "flagged_for_routing": flagged, "cleared_flag": cleared, "note": note,
			"previous_project_slug": from, "project_slug": project,
		}))
	}
	runUseCases(t, f, []useCase{
		{name: "F3: admin onto unsorted sets the flag with the default note", setup: lanternTriage, caller: asAdmin, do: reassign("unsorted"), actions: moved, versions: 1,
			check: onto("lantern", "unsorted", true, false, advisory.DefaultUnsortedRoutingNote)},
		{name: "F3: admin off unsorted clears the flag", setup: unsortedTriage, caller: asAdmin, do: reassign("jetty"), actions: moved, versions: 1,
			check: onto("unsorted", "jetty", false, true, "")},
		{name: "F3: admin routes a flagged report, clearing the flag", setup: flaggedTriage, caller: asAdmin, do: reassign("jetty"), actions: moved, versions: 1,
			check: onto("lantern", "jetty", false, true, "")},
		{name: "F3: owner onto a project whose team they are on", setup: lanternTriage, caller: asMover, do: reassign("jetty"), actions: moved, versions: 1,
			check: onto("lantern", "jetty", false, false, "")},
		{name: "F3: owner not on the destination team refused", setup: lanternTriage, caller: asOwner, do: reassign("jetty"), kind: apperr.Forbidden},
		{name: "F3: flagged report, owner refused (INV-AUTH-6)", setup: flaggedTriage, caller: asMover, do: reassign("jetty"), kind: apperr.Forbidden},
		{name: "F3: owner onto unsorted refused", setup: lanternTriage, caller: asOwner, do: reassign("unsorted"), kind: apperr.Forbidden},
		{name: "F3: collaborator refused", setup: lanternTriage, caller: asCollab, do: reassign("jetty"), kind: apperr.Forbidden},
		{name: "F3: same project refused", setup: lanternTriage, caller: asAdmin, do: reassign("lantern"), kind: apperr.Invalid},
		{name: "F3: unknown project refused", setup: lanternTriage, caller: asAdmin, do: reassign("nope"), kind: apperr.Invalid},
		{name: "F3: draft refused", setup: lanternDraft, caller: asAdmin, do: reassign("jetty"), kind: apperr.Conflict},
	})
}

// TestRoutingFlag covers F1 and F2 (INV-AUTH-6, INV-INTAKE-4).
func TestRoutingFlag(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	flag := func(note string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.FlagForRouting(ctx, c, a.AdvisoryID, note)
		}
	}
	clearFlag := func(note string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.ClearRoutingFlag(ctx, c, a.AdvisoryID, note)
		}
	}
	flagged := checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		if !after.Routing.NeedsAdminRouting || after.Routing.Note != "belongs to jetty" || after.Routing.FlaggedByID != f.owner.UserID || after.Routing.FlaggedAt == nil {
			t.Errorf("routing %+v", after.Routing)
		}
	}, wantMeta("advisory.flagged_for_routing", map[string]any{"note": "belongs to jetty"}), wantNote(true, "belongs to jetty"))
	cleared := func(note string) checkFn {
		return checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.Routing.NeedsAdminRouting || after.Routing.Note != "" {
				t.Errorf("routing %+v", after.Routing)
			}
		}, wantMeta("advisory.routing_flag_cleared", map[string]any{"previous_note": "not ours", "note": note}))
	}
	runUseCases(t, f, []useCase{
		{name: "F1: owner flags a report", setup: lanternTriage, caller: asOwner, do: flag(" belongs to jetty "),
			actions: []string{"advisory.flagged_for_routing", "comment.created"}, check: flagged},
		{name: "F1: admin refused (the destination)", setup: lanternTriage, caller: asAdmin, do: flag("x"), kind: apperr.Forbidden},
		{name: "F1: collaborator refused", setup: lanternTriage, caller: asCollab, do: flag("x"), kind: apperr.Forbidden},
		{name: "F1: viewer refused", setup: lanternTriage, caller: asViewer, do: flag("x"), kind: apperr.Forbidden},
		{name: "F1: blank note refused", setup: lanternTriage, caller: asOwner, do: flag(""), kind: apperr.Invalid},
		{name: "F1: already flagged refused", setup: flaggedTriage, caller: asOwner, do: flag("x"), kind: apperr.Conflict},
		{name: "F1: unsorted refused (always flagged)", setup: unsortedTriage, caller: asAdmin, do: flag("x"), kind: apperr.Conflict},
		{name: "F1: draft refused", setup: lanternDraft, caller: asOwner, do: flag("x"), kind: apperr.Conflict},
		{name: "F1: GHSA-linked triage mirror refused", setup: with(lanternTriage, `UPDATE advisories SET kind = 'ghsa_linked' WHERE id = $1`),
			caller: asOwner, do: flag("x"), kind: apperr.Forbidden},
		{name: "F2: owner retracts with a note", setup: flaggedTriage, caller: asOwner, do: clearFlag(" our mistake "),
			actions: []string{"advisory.routing_flag_cleared", "comment.created"}, check: checkAll(cleared("our mistake"), wantNote(true, "our mistake"))},
		{name: "F2: admin clears without a note", setup: flaggedTriage, caller: asAdmin, do: clearFlag(""),
			actions: []string{"advisory.routing_flag_cleared"}, check: checkAll(cleared(""), wantNoNote)},
		{name: "F2: viewer refused", setup: flaggedTriage, caller: asViewer, do: clearFlag(""), kind: apperr.Forbidden},
		{name: "F2: collaborator refused", setup: flaggedTriage, caller: asCollab, do: clearFlag(""), kind: apperr.Forbidden},
		{name: "F2: not flagged refused", setup: lanternTriage, caller: asOwner, do: clearFlag(""), kind: apperr.Conflict},
		{name: "F2: unsorted refused (only reassignment lifts it)", setup: unsortedTriage, caller: asAdmin, do: clearFlag(""), kind: apperr.Conflict},
		{name: "F2: draft refused", setup: lanternDraft, caller: asOwner, do: clearFlag(""), kind: apperr.Conflict},
	})
}

func withdraw(reason string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Withdraw(ctx, c, a.AdvisoryID, reason)
	}
}

// TestWithdraw covers the request transaction of L12 (the worker side is
// publication_test.go's): withdrawn_reason versioned, a pending request
// cleared as approved, the public action note, the task queued
// (INV-WITHDRAW, INV-CONCURRENCY-1).
func TestWithdraw(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	const reason = "Not a vulnerability after all."
	w := withdraw(reason)
	recorded := checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		if after.State != advisory.StatePublished || after.WithdrawnReason != reason || !after.RepublishRequired {
			t.Errorf("after withdraw: state %q reason %q republish %v", after.State, after.WithdrawnReason, after.RepublishRequired)
		}
		if latest := f.latestVersion(t, after); latest.Payload.WithdrawnReason != after.WithdrawnReason {
			t.Errorf("latest version's withdrawn_reason %q", latest.Payload.WithdrawnReason)
		}
	}, wantNote(false, reason))
	// L12: the public action note, then the withdrawal version is exported
	// by a task queued at once.
	queuedW := []string{"comment.created", "publication.export_started"}
	runUseCases(t, f, []useCase{
		{name: "L12: admin withdraws", setup: lanternPublished, caller: asAdmin, do: w, actions: queuedW, versions: 1, check: recorded},
		{name: "L12: mature team member withdraws", setup: jettyPublished, caller: asJettyOwner, do: w, actions: queuedW, versions: 1, check: recorded},
		{name: "L12: mature team member withdraws with a CVE", setup: with(jettyPublished, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-1111' WHERE id = $1`),
			caller: asJettyOwner, do: w, actions: queuedW, versions: 1},
		{name: "L12: non-mature team member refused", setup: lanternPublished, caller: asOwner, do: w, kind: apperr.Forbidden},
		{name: "L12: collaborator refused", setup: jettyPublished, caller: asCollab, do: w, kind: apperr.Forbidden},
		{name: "L12: draft refused", setup: lanternDraft, caller: asAdmin, do: w, kind: apperr.Conflict},
		{name: "L12: blank reason refused", setup: lanternPublished, caller: asAdmin, do: withdraw(" "), kind: apperr.Invalid},
		{name: "L12: publication in flight refused", caller: asAdmin, do: w, kind: apperr.Conflict,
			setup: with(lanternPublished, `INSERT INTO publication_tasks (advisory_id, version_id, status)
				SELECT $1, id, 'running' FROM advisory_versions WHERE advisory_id = $1`)},
		{name: "L12: direct withdrawal clears a pending request as approved", caller: asAdmin, do: w,
			actions: append([]string{"advisory.withdrawal_request_cleared"}, queuedW...), versions: 1,
			setup: with(lanternPublished, `UPDATE advisories SET withdrawal_requested_at = now(), withdrawal_request_note = 'please' WHERE id = $1`),
			check: checkAll(recorded, wantMeta("advisory.withdrawal_request_cleared", map[string]any{"cause": "approved", "previous_note": "please"}),
				func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
					if after.WithdrawalRequestedAt != nil || after.WithdrawalRequestNote != "" {
						t.Errorf("request still pending: %v %q", after.WithdrawalRequestedAt, after.WithdrawalRequestNote)
					}
				})},
	})
}

// barrier runs fns at once, each in its own goroutine, and returns their
// errors.
func barrier(fns ...func() error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(fns))
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// INV-CONCURRENCY-2, INV-VERSION-1: two concurrent edits of one advisory
// both land, as v2 and v3, never as two v2.
func TestConcurrentEdits(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	for range 20 {
		a := f.lanternDraft(t)
		c1, c2 := goodContent(), goodContent()
		c1.Summary, c2.Summary = "first writer", "second writer"
		errs := barrier(
			func() error { _, err := f.svc.Edit(ctx, f.owner, a.AdvisoryID, c1); return err },
			func() error { _, err := f.svc.Edit(ctx, f.collab, a.AdvisoryID, c2); return err },
		)
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		var vs []advisory.Version
		f.exec(t, func(tx *postgres.DB) error {
			var err error
			vs, err = tx.Versions(f.sys, a.ID)
			return err
		})
		if len(vs) != 3 || vs[1].Number != 2 || vs[2].Number != 3 {
			t.Fatalf("versions %d, want v1..v3", len(vs))
		}
		// The live row is the later write, and the newest version records it.
		after := f.reload(t, a)
		if after.Content.Summary != vs[2].Payload.Content.Summary || vs[1].Payload.Content.Summary == vs[2].Payload.Content.Summary {
			t.Fatalf("live %q, v2 %q, v3 %q", after.Content.Summary, vs[1].Payload.Content.Summary, vs[2].Payload.Content.Summary)
		}
		if n := len(f.audits(t, a)); n != 3 {
			t.Fatalf("%d audit rows, want created + 2 edited", n)
		}
	}
}

// An edit racing a dismissal is serialised by the row lock: the row ends
// consistent with one order or the other, never a mix.
func TestEditRacingDismissal(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	ctx := context.Background()
	orders := map[string]int{}
	for range 20 {
		a := f.lanternDraft(t)
		c := goodContent()
		c.Summary = "edited during the race"
		errs := barrier(
			func() error { _, err := f.svc.Edit(ctx, f.collab, a.AdvisoryID, c); return err },
			func() error { _, err := f.svc.Dismiss(ctx, f.owner, a.AdvisoryID, "racing"); return err },
		)
		if errs[1] != nil {
			t.Fatalf("dismiss: %v", errs[1])
		}
		after := f.reload(t, a)
		if after.State != advisory.StateDismissed || after.DismissedReason != "racing" || after.DismissedFromState != advisory.StateDraft {
			t.Fatalf("after the race: %+v", after)
		}
		// created, [edited,] dismissed, state_changed and the dismissal's
		// public action note (comment.created).
		rows := f.audits(t, a)
		n := f.versionCount(t, a)
		switch {
		case errs[0] == nil: // edit first, then dismiss
			if after.Content.Summary != "edited during the race" || n != 2 || len(rows) != 5 || rows[1].Action != "advisory.edited" {
				t.Fatalf("edit won: summary %q, %d versions, %d audit rows", after.Content.Summary, n, len(rows))
			}
			orders["edit first"]++
		case apperr.KindOf(errs[0]) == apperr.Forbidden: // dismissed first: the edit sees a dismissed row
			if after.Content.Summary == "edited during the race" || n != 1 || len(rows) != 4 {
				t.Fatalf("dismiss won: summary %q, %d versions, %d audit rows", after.Content.Summary, n, len(rows))
			}
			orders["dismiss first"]++
		default:
			t.Fatalf("edit: %v", errs[0])
		}
	}
	t.Logf("orders seen: %v", orders)
}
