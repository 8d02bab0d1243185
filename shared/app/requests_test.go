package app_test

import (
	"context"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
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

// TestWithdrawalRequests covers Q1–Q3.
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
	runUseCases(t, f, []useCase{
		// Q1
		{name: "request, non-mature owner", setup: lanternPublished, caller: asOwner, do: request("Not a real issue."),
			actions: []string{"advisory.withdrawal_requested", "comment.created"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.WithdrawalRequestedAt == nil || after.WithdrawalRequestNote != "Not a real issue." || after.WithdrawalRequestedByID != f.owner.UserID {
					t.Errorf("request not recorded: %+v", after)
				}
			}},
		{name: "request, mature publisher", setup: jettyPublished, caller: asJettyOwner, do: request("x"), kind: apperr.Forbidden},
		{name: "request, admin", setup: lanternPublished, caller: asAdmin, do: request("x"), kind: apperr.Forbidden},
		{name: "request, collaborator", setup: lanternPublished, caller: asCollab, do: request("x"), kind: apperr.Forbidden},
		{name: "request, draft", setup: lanternDraft, caller: asOwner, do: request("x"), kind: apperr.Conflict},
		{name: "request, already pending", setup: pending, caller: asOwner, do: request("x"), kind: apperr.Conflict},
		{name: "request, blank note", setup: lanternPublished, caller: asOwner, do: request(" "), kind: apperr.Invalid},
		// Q2
		{name: "cancel, owner with note", setup: pending, caller: asOwner, do: cancel("Fixed upstream instead."),
			actions: []string{"advisory.withdrawal_request_cleared", "comment.created"}, check: cleared},
		{name: "cancel, admin", setup: pending, caller: asAdmin, do: cancel(""),
			actions: []string{"advisory.withdrawal_request_cleared"}, check: cleared},
		{name: "cancel, collaborator", setup: pending, caller: asCollab, do: cancel(""), kind: apperr.Forbidden},
		{name: "cancel, none pending", setup: lanternPublished, caller: asOwner, do: cancel(""), kind: apperr.Conflict},
		// Q3
		{name: "approve", setup: pending, caller: asAdmin, do: approve, versions: 1,
			actions: []string{"publication.export_started", "advisory.withdrawal_request_cleared"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				cleared(t, f, before, after)
				if after.WithdrawnReason != "Not a real issue." || after.State != advisory.StatePublished || !after.RepublishRequired {
					t.Errorf("withdrawal not recorded: reason %q state %s", after.WithdrawnReason, after.State)
				}
			}},
		{name: "approve, blank note falls back", setup: withWithdrawalRequest(lanternPublished, ""), caller: asAdmin, do: approve, versions: 1,
			actions: []string{"publication.export_started", "advisory.withdrawal_request_cleared"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.WithdrawnReason != app.DefaultWithdrawalReason {
					t.Errorf("reason %q", after.WithdrawnReason)
				}
			}},
		{name: "approve, owner", setup: pending, caller: asOwner, do: approve, kind: apperr.Forbidden},
		{name: "approve, none pending", setup: lanternPublished, caller: asAdmin, do: approve, kind: apperr.Conflict},
	})
}

// TestReassignmentRequests covers D1–D3.
func TestReassignmentRequests(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	request := func(note, slug string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.RequestReassignment(ctx, c, a.AdvisoryID, note, slug)
		}
	}
	withdraw := func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		return f.svc.WithdrawReassignment(ctx, c, a.AdvisoryID, "")
	}
	accept := func(slug string) doFn {
		return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
			return f.svc.AcceptReassignment(ctx, c, a.AdvisoryID, slug)
		}
	}
	pending := withReassignmentRequest(lanternDraft)
	movedTo := func(slug string) func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			t.Helper()
			if after.Project.Slug != slug || after.ReassignmentRequestedAt != nil || after.AccessReviewRequiredAt == nil {
				t.Errorf("project %s, request %v, access review %v", after.Project.Slug, after.ReassignmentRequestedAt, after.AccessReviewRequiredAt)
			}
		}
	}
	runUseCases(t, f, []useCase{
		// D1
		{name: "request with suggestion", setup: lanternDraft, caller: asOwner, do: request("Belongs to jetty.", "jetty"),
			actions: []string{"advisory.reassignment_requested", "comment.created"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				if after.ReassignmentRequestedAt == nil || after.ReassignmentSuggestedProjectID == "" {
					t.Errorf("request not recorded: %+v", after)
				}
			}},
		{name: "request, unknown suggestion counts as none", setup: lanternDraft, caller: asOwner, do: request("Not ours.", "nope"),
			actions: []string{"advisory.reassignment_requested", "comment.created"}},
		{name: "request, admin refused", setup: lanternDraft, caller: asAdmin, do: request("x", ""), kind: apperr.Forbidden},
		{name: "request, collaborator", setup: lanternDraft, caller: asCollab, do: request("x", ""), kind: apperr.Forbidden},
		{name: "request, published", setup: lanternPublished, caller: asOwner, do: request("x", ""), kind: apperr.Conflict},
		{name: "request, already pending", setup: pending, caller: asOwner, do: request("x", ""), kind: apperr.Conflict},
		{name: "request, blank note", setup: lanternDraft, caller: asOwner, do: request(" ", ""), kind: apperr.Invalid},
		{name: "request, current project suggested", setup: lanternDraft, caller: asOwner, do: request("x", "lantern"), kind: apperr.Invalid},
		// D2
		{name: "withdraw, owner", setup: pending, caller: asOwner, do: withdraw, actions: []string{"advisory.reassignment_request_cleared"}},
		{name: "withdraw, admin", setup: pending, caller: asAdmin, do: withdraw, actions: []string{"advisory.reassignment_request_cleared"}},
		{name: "withdraw, collaborator", setup: pending, caller: asCollab, do: withdraw, kind: apperr.Forbidden},
		{name: "withdraw, none pending", setup: lanternDraft, caller: asOwner, do: withdraw, kind: apperr.Conflict},
		// D3
		{name: "accept suggestion, admin", setup: pending, caller: asAdmin, do: accept(""), versions: 1,
			actions: []string{"advisory.project_changed", "advisory.reassignment_request_cleared"}, check: movedTo("jetty")},
		{name: "accept suggestion, suggested team member", setup: pending, caller: asMover, do: accept(""), versions: 1,
			actions: []string{"advisory.project_changed", "advisory.reassignment_request_cleared"}, check: movedTo("jetty")},
		// Note n: a member of the suggested team only, who cannot see the
		// advisory before the move, may accept; a stranger may not even see it.
		{name: "accept suggestion, suggested team only", setup: pending, caller: asJettyOwner, do: accept(""), versions: 1,
			actions: []string{"advisory.project_changed", "advisory.reassignment_request_cleared"}, check: movedTo("jetty")},
		{name: "accept, stranger", setup: pending, caller: asStranger, do: accept(""), kind: apperr.NotFound},
		{name: "admin picks another project", setup: pending, caller: asAdmin, do: accept("unsorted"), versions: 1,
			actions: []string{"advisory.project_changed", "advisory.reassignment_request_cleared"}, check: movedTo("unsorted")},
		{name: "accept, current team only", setup: pending, caller: asOwner, do: accept(""), kind: apperr.Forbidden},
		{name: "accept, none pending", setup: lanternDraft, caller: asAdmin, do: accept(""), kind: apperr.Conflict},
	})
}
