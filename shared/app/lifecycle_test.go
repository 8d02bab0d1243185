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

func dismissedFrom(setup setupFn, from string) setupFn {
	return with(setup, `UPDATE advisories SET state = 'dismissed', dismissed_reason = 'duplicate', dismissed_from_state = $2 WHERE id = $1`, from)
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

func dismiss(reason string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Dismiss(ctx, c, a.AdvisoryID, reason)
	}
}

func TestDismiss(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	d := dismiss("Duplicate of ECL-2222-3333-4444.")
	dismissed := []string{"advisory.dismissed", "advisory.state_changed"}
	remembers := func(from advisory.State) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.State != advisory.StateDismissed || after.DismissedFromState != from || after.DismissedReason != "Duplicate of ECL-2222-3333-4444." {
				t.Errorf("after dismiss: state %q from %q reason %q", after.State, after.DismissedFromState, after.DismissedReason)
			}
			rows := f.audits(t, after)
			twin := rows[len(rows)-len(dismissed)+1]
			if twin.Action != "advisory.state_changed" || twin.Metadata["narrated"] != true {
				t.Errorf("state_changed twin %+v, want metadata.narrated=true", twin)
			}
		}
	}
	withOpenReview := func(t *testing.T, f *advFixture) *advisory.Advisory {
		a := f.lanternDraft(t)
		f.sql(t, a, `UPDATE advisories SET review_status = 'submitted' WHERE id = $1`)
		f.sql(t, a, `INSERT INTO review_tasks (advisory_id, version_id) SELECT $1, id FROM advisory_versions WHERE advisory_id = $1`)
		return f.reload(t, a)
	}
	withCVE := with(lanternDraft, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-12345' WHERE id = $1`)

	runUseCases(t, f, []useCase{
		{name: "owner, draft", setup: lanternDraft, caller: asOwner, do: d, actions: dismissed, check: remembers(advisory.StateDraft)},
		{name: "admin, draft", setup: lanternDraft, caller: asAdmin, do: d, actions: dismissed, check: remembers(advisory.StateDraft)},
		{name: "owner, triage", setup: lanternTriage, caller: asOwner, do: d, actions: dismissed, check: remembers(advisory.StateTriage)},
		{name: "collaborator", setup: lanternDraft, caller: asCollab, do: d, kind: apperr.Forbidden},
		{name: "viewer", setup: lanternDraft, caller: asViewer, do: d, kind: apperr.Forbidden},
		{name: "stranger", setup: lanternDraft, caller: asStranger, do: d, kind: apperr.NotFound},
		{name: "blank reason", setup: lanternDraft, caller: asOwner, do: dismiss("  "), kind: apperr.Invalid},
		{name: "published", setup: lanternPublished, caller: asAdmin, do: d, kind: apperr.Conflict},
		{name: "already dismissed", setup: dismissedFrom(lanternDraft, "draft"), caller: asOwner, do: d, kind: apperr.Conflict},
		{name: "CVE assigned, owner", setup: withCVE, caller: asOwner, do: d, kind: apperr.Forbidden},
		// L7: the assigned CVE is orphaned (O1) in the same transaction.
		{name: "CVE assigned, admin", setup: withCVE, caller: asAdmin, do: d, actions: append(slices.Clone(dismissed), "cve.unassigned")},
		{name: "flagged triage, owner", setup: flaggedTriage, caller: asOwner, do: d, kind: apperr.Forbidden},
		{name: "flagged triage, admin", setup: flaggedTriage, caller: asAdmin, do: d, actions: dismissed},
		{name: "approval torn down", setup: with(lanternDraft, `UPDATE advisories SET review_status = 'approved' WHERE id = $1`),
			caller: asOwner, do: d, actions: append(dismissed, "advisory.review_withdrawn"),
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.ReviewStatus != advisory.ReviewNone {
					t.Errorf("review %q, want none (R8)", after.ReviewStatus)
				}
			}},
		{name: "open review task withdrawn", setup: withOpenReview, caller: asOwner, do: d,
			actions: append(dismissed, "advisory.review_withdrawn", "review.task_status_changed"),
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				var open int
				f.exec(t, func(tx *postgres.DB) error {
					return tx.QueryRow(f.sys, `SELECT count(*) FROM review_tasks WHERE advisory_id = $1 AND status = 'open'`, after.ID).Scan(&open)
				})
				if open != 0 || after.ReviewStatus != advisory.ReviewNone {
					t.Errorf("%d open tasks, review %q", open, after.ReviewStatus)
				}
			}},
		{name: "pending reassignment request cleared",
			setup:  with(lanternDraft, `UPDATE advisories SET reassignment_requested_at = now(), reassignment_request_note = 'jetty owns this' WHERE id = $1`),
			caller: asOwner, do: d, actions: append(dismissed, "advisory.reassignment_request_cleared"),
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				rows := f.audits(t, after)
				if last := rows[len(rows)-1]; after.ReassignmentRequestedAt != nil || last.Metadata["cause"] != "dismissed" || last.Metadata["previous_note"] != "jetty owns this" {
					t.Errorf("request %v; audit %+v", after.ReassignmentRequestedAt, last)
				}
			}},
	})
}

func TestReopen(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	reopen := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Reopen(ctx, c, a.AdvisoryID)
	}
	reopened := []string{"advisory.reopened", "advisory.state_changed"}
	runUseCases(t, f, []useCase{
		{name: "draft origin", setup: dismissedFrom(lanternDraft, "draft"), caller: asOwner, do: reopen, actions: reopened,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.State != advisory.StateDraft || after.DismissedReason != "duplicate" || after.DismissedFromState != advisory.StateDraft {
					t.Errorf("after reopen: %q, history %q/%q", after.State, after.DismissedReason, after.DismissedFromState)
				}
				rows := f.audits(t, after)
				if twin := rows[len(rows)-1]; twin.Metadata["narrated"] != nil {
					t.Errorf("reopen's state change is its timeline narration; got narrated %v", twin.Metadata["narrated"])
				}
			}},
		{name: "triage origin", setup: dismissedFrom(lanternTriage, "triage"), caller: asAdmin, do: reopen, actions: reopened, check: wantState(advisory.StateTriage)},
		{name: "old row without origin", setup: dismissedFrom(lanternDraft, ""), caller: asOwner, do: reopen, actions: reopened, check: wantState(advisory.StateDraft)},
		{name: "collaborator", setup: dismissedFrom(lanternDraft, "draft"), caller: asCollab, do: reopen, kind: apperr.Forbidden},
		{name: "stranger", setup: dismissedFrom(lanternDraft, "draft"), caller: asStranger, do: reopen, kind: apperr.NotFound},
		{name: "not dismissed", setup: lanternDraft, caller: asOwner, do: reopen, kind: apperr.Conflict},
		{name: "a withdrawal goes through the pipeline", setup: dismissedFrom(jettyPublished, "published"), caller: asAdmin, do: reopen, kind: apperr.Conflict},
	})
}

func promote(slug string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Promote(ctx, c, a.AdvisoryID, slug)
	}
}

func TestPromote(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	promoted := []string{"advisory.triage_promoted", "advisory.state_changed"}
	sameRow := func(project string, flagCleared bool) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			// INV-LIFECYCLE-5: same row, id and creation time.
			if after.ID != before.ID || after.AdvisoryID != before.AdvisoryID || !after.CreatedAt.Equal(before.CreatedAt) ||
				after.State != advisory.StateDraft || after.Project.Slug != project {
				t.Errorf("promoted: %+v", after)
			}
			if flagCleared && after.Routing.NeedsAdminRouting {
				t.Error("routing flag survived promotion")
			}
			var grants int
			f.exec(t, func(tx *postgres.DB) error {
				return tx.QueryRow(f.sys, `SELECT count(*) FROM access_grants WHERE advisory_id = $1`, after.ID).Scan(&grants)
			})
			if grants != 2 {
				t.Errorf("%d grants after promotion, want the 2 kept", grants)
			}
		}
	}
	runUseCases(t, f, []useCase{
		{name: "owner, same project", setup: lanternTriage, caller: asOwner, do: promote(""), actions: promoted, check: sameRow("lantern", false)},
		{name: "owner onto a team project", setup: lanternTriage, caller: asMover, do: promote("jetty"), actions: promoted, versions: 1, check: sameRow("jetty", false)},
		{name: "owner onto a foreign project", setup: lanternTriage, caller: asOwner, do: promote("jetty"), kind: apperr.Forbidden},
		{name: "admin from unsorted", setup: unsortedTriage, caller: asAdmin, do: promote("lantern"), actions: promoted, versions: 1, check: sameRow("lantern", true)},
		{name: "unsorted without a target", setup: unsortedTriage, caller: asAdmin, do: promote(""), kind: apperr.Invalid},
		{name: "flagged, owner", setup: flaggedTriage, caller: asOwner, do: promote(""), kind: apperr.Forbidden},
		{name: "flagged, admin clears the flag", setup: flaggedTriage, caller: asAdmin, do: promote(""), actions: promoted, check: sameRow("lantern", true)},
		{name: "collaborator", setup: lanternTriage, caller: asCollab, do: promote(""), kind: apperr.Forbidden},
		{name: "viewer", setup: lanternTriage, caller: asViewer, do: promote(""), kind: apperr.Forbidden},
		{name: "draft", setup: lanternDraft, caller: asOwner, do: promote(""), kind: apperr.Conflict},
		{name: "unknown project", setup: lanternTriage, caller: asAdmin, do: promote("nope"), kind: apperr.Invalid},
		{name: "GHSA-linked triage mirror", setup: with(lanternTriage, `UPDATE advisories SET kind = 'ghsa_linked' WHERE id = $1`),
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
		{name: "pending reassignment accepted",
			setup:  with(lanternDraft, `UPDATE advisories SET reassignment_requested_at = now(), reassignment_request_note = 'move it' WHERE id = $1`),
			caller: asAdmin, do: changeProject("jetty"), actions: []string{"advisory.project_changed", "advisory.reassignment_request_cleared"}, versions: 1,
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				rows := f.audits(t, after)
				if after.ReassignmentRequestedAt != nil || rows[len(rows)-1].Metadata["cause"] != "accepted" {
					t.Errorf("request %v, audit %+v", after.ReassignmentRequestedAt, rows[len(rows)-1])
				}
			}},
		// On a triage row the edit form routes to reassign_triage_project.
		{name: "triage via the edit form", setup: lanternTriage, caller: asAdmin, do: changeProject("unsorted"), actions: moved, versions: 1,
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

func TestReassignTriage(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	moved := []string{"advisory.project_changed"}
	flag := func(want bool, note string) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.Routing.NeedsAdminRouting != want || after.Routing.Note != note || after.State != advisory.StateTriage {
				t.Errorf("routing %+v, state %q", after.Routing, after.State)
			}
			rows := f.audits(t, after)
			if m := rows[len(rows)-1].Metadata; m["in_triage"] != true || m["flagged_for_routing"] != want {
				t.Errorf("metadata %v", m)
			}
		}
	}
	runUseCases(t, f, []useCase{
		{name: "admin onto unsorted sets the flag", setup: lanternTriage, caller: asAdmin, do: reassign("unsorted"), actions: moved, versions: 1,
			check: flag(true, advisory.DefaultUnsortedRoutingNote)},
		{name: "admin off unsorted clears the flag", setup: unsortedTriage, caller: asAdmin, do: reassign("jetty"), actions: moved, versions: 1,
			check: flag(false, "")},
		{name: "owner onto a team project", setup: lanternTriage, caller: asMover, do: reassign("jetty"), actions: moved, versions: 1,
			check: flag(false, "")},
		{name: "owner onto a foreign project", setup: lanternTriage, caller: asOwner, do: reassign("jetty"), kind: apperr.Forbidden},
		{name: "owner, flagged", setup: flaggedTriage, caller: asMover, do: reassign("jetty"), kind: apperr.Forbidden},
		{name: "owner onto unsorted", setup: lanternTriage, caller: asOwner, do: reassign("unsorted"), kind: apperr.Forbidden},
		{name: "draft", setup: lanternDraft, caller: asAdmin, do: reassign("jetty"), kind: apperr.Conflict},
	})
}

func TestRoutingFlag(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	flag := func(note string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.FlagForRouting(ctx, c, a.AdvisoryID, note)
		}
	}
	clearFlag := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.ClearRoutingFlag(ctx, c, a.AdvisoryID, "our mistake")
	}
	flagged := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		if !after.Routing.NeedsAdminRouting || after.Routing.Note != "belongs to jetty" || after.Routing.FlaggedByID != f.owner.UserID || after.Routing.FlaggedAt == nil {
			t.Errorf("routing %+v", after.Routing)
		}
	}
	cleared := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		rows := f.audits(t, after)
		if m := rows[len(rows)-1].Metadata; after.Routing.NeedsAdminRouting || m["previous_note"] != "not ours" || m["note"] != "our mistake" {
			t.Errorf("routing %+v, audit %v", after.Routing, m)
		}
	}
	runUseCases(t, f, []useCase{
		{name: "flag: owner", setup: lanternTriage, caller: asOwner, do: flag(" belongs to jetty "), actions: []string{"advisory.flagged_for_routing"}, check: flagged},
		{name: "flag: admin is the destination", setup: lanternTriage, caller: asAdmin, do: flag("x"), kind: apperr.Forbidden},
		{name: "flag: collaborator", setup: lanternTriage, caller: asCollab, do: flag("x"), kind: apperr.Forbidden},
		{name: "flag: blank note", setup: lanternTriage, caller: asOwner, do: flag(""), kind: apperr.Invalid},
		{name: "flag: already flagged", setup: flaggedTriage, caller: asOwner, do: flag("x"), kind: apperr.Conflict},
		{name: "flag: unsorted is always flagged", setup: unsortedTriage, caller: asAdmin, do: flag("x"), kind: apperr.Conflict},
		{name: "flag: draft", setup: lanternDraft, caller: asOwner, do: flag("x"), kind: apperr.Conflict},
		{name: "clear: owner retracts", setup: flaggedTriage, caller: asOwner, do: clearFlag, actions: []string{"advisory.routing_flag_cleared"}, check: cleared},
		{name: "clear: admin", setup: flaggedTriage, caller: asAdmin, do: clearFlag, actions: []string{"advisory.routing_flag_cleared"}, check: cleared},
		{name: "clear: viewer", setup: flaggedTriage, caller: asViewer, do: clearFlag, kind: apperr.Forbidden},
		{name: "clear: not flagged", setup: lanternTriage, caller: asOwner, do: clearFlag, kind: apperr.Conflict},
		{name: "clear: unsorted only by reassignment", setup: unsortedTriage, caller: asAdmin, do: clearFlag, kind: apperr.Conflict},
	})
}

func withdraw(reason string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.Withdraw(ctx, c, a.AdvisoryID, reason)
	}
}

func TestWithdraw(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	w := withdraw("Not a vulnerability after all.")
	recorded := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		if after.State != advisory.StatePublished || after.WithdrawnReason != "Not a vulnerability after all." || !after.RepublishRequired {
			t.Errorf("after withdraw: state %q reason %q republish %v", after.State, after.WithdrawnReason, after.RepublishRequired)
		}
		var latest advisory.Version
		f.exec(t, func(tx *postgres.DB) error {
			var err error
			latest, err = tx.LatestVersion(f.sys, after.ID)
			return err
		})
		if latest.Payload.WithdrawnReason != after.WithdrawnReason {
			t.Errorf("latest version's withdrawn_reason %q", latest.Payload.WithdrawnReason)
		}
	}
	// L12: the withdrawal version is exported by a task queued at once.
	edited := []string{"publication.export_started"}
	runUseCases(t, f, []useCase{
		{name: "admin", setup: lanternPublished, caller: asAdmin, do: w, actions: edited, versions: 1, check: recorded},
		{name: "mature team member", setup: jettyPublished, caller: asJettyOwner, do: w, actions: edited, versions: 1, check: recorded},
		{name: "mature team member with a CVE", setup: with(jettyPublished, `UPDATE advisories SET assigned_cve_id = 'CVE-2026-1111' WHERE id = $1`),
			caller: asJettyOwner, do: w, actions: edited, versions: 1},
		{name: "non-mature team member", setup: lanternPublished, caller: asOwner, do: w, kind: apperr.Forbidden},
		{name: "collaborator", setup: jettyPublished, caller: asCollab, do: w, kind: apperr.Forbidden},
		{name: "draft", setup: lanternDraft, caller: asAdmin, do: w, kind: apperr.Conflict},
		{name: "blank reason", setup: lanternPublished, caller: asAdmin, do: withdraw(" "), kind: apperr.Invalid},
		{name: "publication in flight", caller: asAdmin, do: w, kind: apperr.Conflict,
			setup: with(lanternPublished, `INSERT INTO publication_tasks (advisory_id, version_id, status)
				SELECT $1, id, 'running' FROM advisory_versions WHERE advisory_id = $1`)},
		{name: "pending request approved", caller: asAdmin, do: w, actions: []string{"publication.export_started", "advisory.withdrawal_request_cleared"}, versions: 1,
			setup: with(lanternPublished, `UPDATE advisories SET withdrawal_requested_at = now(), withdrawal_request_note = 'please' WHERE id = $1`),
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				rows := f.audits(t, after)
				if m := rows[len(rows)-1].Metadata; after.WithdrawalRequestedAt != nil || m["cause"] != "approved" || m["previous_note"] != "please" {
					t.Errorf("request %v, audit %v", after.WithdrawalRequestedAt, m)
				}
			}},
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
		rows := f.audits(t, a)
		n := f.versionCount(t, a)
		switch {
		case errs[0] == nil: // edit first, then dismiss
			if after.Content.Summary != "edited during the race" || n != 2 || len(rows) != 4 || rows[1].Action != "advisory.edited" {
				t.Fatalf("edit won: summary %q, %d versions, %d audit rows", after.Content.Summary, n, len(rows))
			}
			orders["edit first"]++
		case apperr.KindOf(errs[0]) == apperr.Forbidden: // dismissed first: the edit sees a dismissed row
			if after.Content.Summary == "edited during the race" || n != 1 || len(rows) != 3 {
				t.Fatalf("dismiss won: summary %q, %d versions, %d audit rows", after.Content.Summary, n, len(rows))
			}
			orders["dismiss first"]++
		default:
			t.Fatalf("edit: %v", errs[0])
		}
	}
	t.Logf("orders seen: %v", orders)
}
