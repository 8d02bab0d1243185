package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

func withWithdrawalRequest(setup setupFn, note string) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := setup(t, f)
		f.sql(t, a, `UPDATE advisories SET withdrawal_requested_at = now(), withdrawal_requested_by_id = $2, withdrawal_request_note = $3 WHERE id = $1`,
			f.owner.UserID, note)
		return f.reload(t, a)
	}
}

func withReassignmentRequest(setup setupFn) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := setup(t, f)
		f.sql(t, a, `UPDATE advisories SET reassignment_requested_at = now(), reassignment_requested_by_id = $2,
			reassignment_request_note = 'Belongs to jetty.', reassignment_suggested_project_id = (SELECT id FROM projects WHERE slug = 'jetty')
			WHERE id = $1`, f.owner.UserID)
		return f.reload(t, a)
	}
}

// TestWithdrawalRequests covers Q1–Q3 (Q3: the request transaction; the
// worker's withdrawal branch is L12's).
func TestWithdrawalRequests(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	request := func(note string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.RequestWithdrawal(ctx, c, a.AdvisoryID, note)
		}
	}
	cancel := func(note string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.CancelWithdrawalRequest(ctx, c, a.AdvisoryID, note)
		}
	}
	approve := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.ApproveWithdrawal(ctx, c, a.AdvisoryID)
	}
	pending := withWithdrawalRequest(lanternPublished, "Not a real issue.")
	cleared := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		if after.WithdrawalRequestedAt != nil || after.WithdrawalRequestNote != "" || after.WithdrawalRequestedByID != 0 {
			t.Errorf("request still pending: %+v", after)
		}
	}
	withdrawn := func(reason, previousNote string) checkFn {
		return checkAll(cleared, func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.WithdrawnReason != reason || after.State != advisory.StatePublished || !after.RepublishRequired {
				t.Errorf("withdrawal not recorded: reason %q state %s republish %v", after.WithdrawnReason, after.State, after.RepublishRequired)
			}
			var queuedTasks int
			var pinned string
			f.exec(t, func(tx *postgres.DB) error {
				return tx.QueryRow(f.sys, `SELECT count(*), max(v.payload->>'withdrawn_reason') FROM publication_tasks p
					JOIN advisory_versions v ON v.id = p.version_id WHERE p.advisory_id = $1 AND p.status = 'queued'`, after.ID).Scan(&queuedTasks, &pinned)
			})
			if queuedTasks != 1 || pinned != reason {
				t.Errorf("%d queued publication tasks pinned to withdrawn_reason %q, want 1 pinned to %q", queuedTasks, pinned, reason)
			}
		}, wantMeta("advisory.withdrawal_request_cleared", map[string]any{"cause": "approved", "previous_note": previousNote}),
			wantNote(false, reason))
	}
	approved := []string{"advisory.withdrawal_request_cleared", "comment.created", "publication.export_started"}
	runUseCases(t, f, []useCase{
		{name: "Q1: non-mature team member requests", setup: lanternPublished, caller: asOwner, do: request(" Not a real issue. "),
			actions: []string{"advisory.withdrawal_requested", "comment.created"},
			check: checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.WithdrawalRequestedAt == nil || after.WithdrawalRequestNote != "Not a real issue." || after.WithdrawalRequestedByID != f.owner.UserID {
					t.Errorf("request not recorded: %+v", after)
				}
				if after.State != advisory.StatePublished || after.WithdrawnReason != "" {
					t.Errorf("a request withdrew: state %q reason %q", after.State, after.WithdrawnReason)
				}
			}, wantMeta("advisory.withdrawal_requested", map[string]any{"note": "Not a real issue."}), wantNote(true, "Not a real issue."))},
		{name: "Q1: mature publisher refused (withdraws directly)", setup: jettyPublished, caller: asJettyOwner, do: request("x"), kind: apperr.Forbidden},
		{name: "Q1: admin refused (withdraws directly)", setup: lanternPublished, caller: asAdmin, do: request("x"), kind: apperr.Forbidden},
		{name: "Q1: collaborator refused", setup: lanternPublished, caller: asCollab, do: request("x"), kind: apperr.Forbidden},
		{name: "Q1: stranger refused as not found", setup: lanternPublished, caller: asStranger, do: request("x"), kind: apperr.NotFound},
		{name: "Q1: draft refused", setup: lanternDraft, caller: asOwner, do: request("x"), kind: apperr.Conflict},
		{name: "Q1: already pending refused", setup: pending, caller: asOwner, do: request("x"), kind: apperr.Conflict},
		{name: "Q1: blank note refused", setup: lanternPublished, caller: asOwner, do: request(" "), kind: apperr.Invalid},

		{name: "Q2: owner cancels with a note", setup: pending, caller: asOwner, do: cancel("Fixed upstream instead."),
			actions: []string{"advisory.withdrawal_request_cleared", "comment.created"},
			check: checkAll(cleared, wantNote(true, "Fixed upstream instead."), wantMeta("advisory.withdrawal_request_cleared",
				map[string]any{"cause": "cancelled", "previous_note": "Not a real issue.", "note": "Fixed upstream instead."}))},
		{name: "Q2: admin cancels without a note", setup: pending, caller: asAdmin, do: cancel(""),
			actions: []string{"advisory.withdrawal_request_cleared"}, check: checkAll(cleared, wantNoNote)},
		{name: "Q2: collaborator refused", setup: pending, caller: asCollab, do: cancel(""), kind: apperr.Forbidden},
		{name: "Q2: none pending refused", setup: lanternPublished, caller: asOwner, do: cancel(""), kind: apperr.Conflict},

		{name: "Q3: admin approves", setup: pending, caller: asAdmin, do: approve, versions: 1, actions: approved,
			check: withdrawn("Not a real issue.", "Not a real issue.")},
		{name: "Q3: admin approves a blank note, the fallback reason", setup: withWithdrawalRequest(lanternPublished, ""), caller: asAdmin, do: approve,
			versions: 1, actions: approved, check: withdrawn(app.DefaultWithdrawalReason, "")},
		{name: "Q3: owner refused", setup: pending, caller: asOwner, do: approve, kind: apperr.Forbidden},
		{name: "Q3: none pending refused", setup: lanternPublished, caller: asAdmin, do: approve, kind: apperr.Conflict},
		// One transaction: a refused withdrawal leaves the request pending.
		{name: "Q3: publication in flight refused (INV-CONCURRENCY-1)", caller: asAdmin, do: approve, kind: apperr.Conflict,
			setup: with(pending, `INSERT INTO publication_tasks (advisory_id, version_id, status)
				SELECT $1, id, 'running' FROM advisory_versions WHERE advisory_id = $1`)},
	})
}

// TestReassignmentRequests covers D1–D3 (INV-AUTH-9).
func TestReassignmentRequests(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	request := func(note, slug string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.RequestReassignment(ctx, c, a.AdvisoryID, note, slug)
		}
	}
	withdraw := func(note string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.WithdrawReassignment(ctx, c, a.AdvisoryID, note)
		}
	}
	accept := func(slug string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.AcceptReassignment(ctx, c, a.AdvisoryID, slug)
		}
	}
	pending := withReassignmentRequest(lanternDraft)
	noSuggestion := with(lanternDraft, `UPDATE advisories SET reassignment_requested_at = now(), reassignment_request_note = 'not ours' WHERE id = $1`)
	requested := func(slug string) checkFn {
		return checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			if after.ReassignmentRequestedAt == nil || after.ReassignmentRequestedByID != f.owner.UserID || after.ReassignmentRequestNote != "Belongs to jetty." ||
				(after.ReassignmentSuggestedProjectID != "") != (slug != "") || after.Project.Slug != "lantern" {
				t.Errorf("request not recorded: %+v", after)
			}
		}, wantMeta("advisory.reassignment_requested", map[string]any{"note": "Belongs to jetty.", "suggested_project_slug": slug}),
			wantNote(true, "Belongs to jetty."))
	}
	moved := []string{"advisory.project_changed", "advisory.reassignment_request_cleared"}
	movedTo := func(slug, cause string) checkFn {
		return checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			t.Helper()
			if after.Project.Slug != slug || after.ReassignmentRequestedAt != nil || after.ReassignmentRequestNote != "" || after.AccessReviewRequiredAt == nil {
				t.Errorf("project %s, request %v, access review %v", after.Project.Slug, after.ReassignmentRequestedAt, after.AccessReviewRequiredAt)
			}
		}, wantMeta("advisory.project_changed", map[string]any{"cause": cause, "in_triage": false, "previous_project_slug": "lantern", "project_slug": slug}),
			wantMeta("advisory.reassignment_request_cleared", map[string]any{"cause": "accepted", "previous_note": "Belongs to jetty."}))
	}
	runUseCases(t, f, []useCase{
		{name: "D1: owner requests with a suggestion", setup: lanternDraft, caller: asOwner, do: request(" Belongs to jetty. ", "jetty"),
			actions: []string{"advisory.reassignment_requested", "comment.created"}, check: requested("jetty")},
		{name: "D1: owner requests without a suggestion", setup: lanternDraft, caller: asOwner, do: request("Belongs to jetty.", ""),
			actions: []string{"advisory.reassignment_requested", "comment.created"}, check: requested("")},
		{name: "D1: an unknown suggestion counts as none", setup: lanternDraft, caller: asOwner, do: request("Belongs to jetty.", "nope"),
			actions: []string{"advisory.reassignment_requested", "comment.created"}, check: requested("")},
		{name: "D1: admin refused (reassigns directly)", setup: lanternDraft, caller: asAdmin, do: request("x", ""), kind: apperr.Forbidden},
		{name: "D1: collaborator refused", setup: lanternDraft, caller: asCollab, do: request("x", ""), kind: apperr.Forbidden},
		{name: "D1: published refused", setup: lanternPublished, caller: asOwner, do: request("x", ""), kind: apperr.Conflict},
		{name: "D1: triage refused", setup: lanternTriage, caller: asOwner, do: request("x", ""), kind: apperr.Conflict},
		{name: "D1: GHSA-linked draft refused", setup: with(lanternDraft, `UPDATE advisories SET kind = 'ghsa_linked' WHERE id = $1`),
			caller: asOwner, do: request("x", ""), kind: apperr.Conflict},
		{name: "D1: already pending refused", setup: pending, caller: asOwner, do: request("x", ""), kind: apperr.Conflict},
		{name: "D1: blank note refused", setup: lanternDraft, caller: asOwner, do: request(" ", ""), kind: apperr.Invalid},
		{name: "D1: current project suggested refused", setup: lanternDraft, caller: asOwner, do: request("x", "lantern"), kind: apperr.Invalid},

		{name: "D2: owner withdraws with a note", setup: pending, caller: asOwner, do: withdraw("We keep it."),
			actions: []string{"advisory.reassignment_request_cleared", "comment.created"},
			check: checkAll(wantNote(true, "We keep it."), wantMeta("advisory.reassignment_request_cleared",
				map[string]any{"cause": "withdrawn", "previous_note": "Belongs to jetty.", "note": "We keep it."}))},
		{name: "D2: admin withdraws", setup: pending, caller: asAdmin, do: withdraw(""), actions: []string{"advisory.reassignment_request_cleared"}, check: wantNoNote},
		{name: "D2: collaborator refused", setup: pending, caller: asCollab, do: withdraw(""), kind: apperr.Forbidden},
		{name: "D2: none pending refused", setup: lanternDraft, caller: asOwner, do: withdraw(""), kind: apperr.Conflict},

		{name: "D3: admin accepts the suggestion", setup: pending, caller: asAdmin, do: accept(""), versions: 1, actions: moved,
			check: movedTo("jetty", "reassignment_accepted")},
		{name: "D3: admin accepts by naming the suggestion", setup: pending, caller: asAdmin, do: accept("jetty"), versions: 1, actions: moved,
			check: movedTo("jetty", "reassignment_accepted")},
		{name: "D3: member of both teams accepts the suggestion", setup: pending, caller: asMover, do: accept(""), versions: 1, actions: moved,
			check: movedTo("jetty", "reassignment_accepted")},
		// Note n: a member of the suggested team only, who cannot see the
		// advisory before the move, may accept in one click.
		{name: "D3: suggested team member who cannot see it yet accepts", setup: pending, caller: asJettyOwner, versions: 1, actions: moved,
			do: func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
				if _, err := f.svc.Get(ctx, c, a.AdvisoryID); !errors.Is(err, advisory.ErrNotFound) {
					return nil, fmt.Errorf("before the move the suggested team sees the advisory: %v", err)
				}
				return f.svc.AcceptReassignment(ctx, c, a.AdvisoryID, "")
			},
			check: movedTo("jetty", "reassignment_accepted")},
		{name: "D3: admin picks another project", setup: pending, caller: asAdmin, do: accept("unsorted"), versions: 1, actions: moved,
			check: movedTo("unsorted", "reassignment_resolved")},
		{name: "D3: admin picks a project without a suggestion", setup: noSuggestion, caller: asAdmin, do: accept("jetty"), versions: 1, actions: moved,
			check: checkAll(func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.Project.Slug != "jetty" {
					t.Errorf("project %s", after.Project.Slug)
				}
			}, wantMeta("advisory.project_changed", map[string]any{"cause": "reassignment_resolved", "in_triage": false}))},
		{name: "D3: stranger refused as not found", setup: pending, caller: asStranger, do: accept(""), kind: apperr.NotFound},
		{name: "D3: current team only refused", setup: pending, caller: asOwner, do: accept(""), kind: apperr.Forbidden},
		// The picker is admin-only, even onto a project of the caller's team.
		{name: "D3: non-admin picker refused", setup: noSuggestion, caller: asMover, do: accept("jetty"), kind: apperr.Forbidden},
		{name: "D3: one click without a suggestion refused", setup: noSuggestion, caller: asAdmin, do: accept(""), kind: apperr.Forbidden},
		{name: "D3: the current project refused", setup: pending, caller: asAdmin, do: accept("lantern"), kind: apperr.Forbidden},
		{name: "D3: unknown project refused", setup: pending, caller: asAdmin, do: accept("nope"), kind: apperr.Invalid},
		{name: "D3: none pending refused", setup: lanternDraft, caller: asAdmin, do: accept(""), kind: apperr.Conflict},
	})
}
