package advisory

import (
	"errors"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// lifecycle §2.1, §10.1: (from, transition) → to or a conflict.
func TestNext(t *testing.T) {
	unsorted := ProjectRef{ID: "u", Slug: "unsorted"}
	cases := []struct {
		name string
		a    Advisory
		tr   Transition
		want State
		err  error
	}{
		{"promote triage", Advisory{State: StateTriage}, TransitionPromote, StateDraft, nil},
		{"promote draft", Advisory{State: StateDraft}, TransitionPromote, "", ErrIllegalTransition},
		{"dismiss triage", Advisory{State: StateTriage}, TransitionDismiss, StateDismissed, nil},
		{"dismiss draft", Advisory{State: StateDraft}, TransitionDismiss, StateDismissed, nil},
		{"dismiss published", Advisory{State: StatePublished}, TransitionDismiss, "", ErrIllegalTransition},
		{"dismiss dismissed", Advisory{State: StateDismissed}, TransitionDismiss, "", ErrIllegalTransition},
		{"reopen from draft", Advisory{State: StateDismissed, DismissedFromState: StateDraft}, TransitionReopen, StateDraft, nil},
		{"reopen old row", Advisory{State: StateDismissed}, TransitionReopen, StateDraft, nil},
		{"reopen from triage", Advisory{State: StateDismissed, DismissedFromState: StateTriage}, TransitionReopen, StateTriage, nil},
		{"reopen a withdrawal", Advisory{State: StateDismissed, DismissedFromState: StatePublished}, TransitionReopen, "", ErrViaPipeline},
		{"reopen draft", Advisory{State: StateDraft}, TransitionReopen, "", ErrIllegalTransition},
		{"withdraw published", Advisory{State: StatePublished}, TransitionWithdraw, StatePublished, nil},
		{"withdraw draft", Advisory{State: StateDraft}, TransitionWithdraw, "", ErrIllegalTransition},
		{"flag triage", Advisory{State: StateTriage}, TransitionFlagRouting, StateTriage, nil},
		{"flag flagged", Advisory{State: StateTriage, Routing: Routing{NeedsAdminRouting: true}}, TransitionFlagRouting, "", ErrIllegalTransition},
		{"flag draft", Advisory{State: StateDraft}, TransitionFlagRouting, "", ErrIllegalTransition},
		{"clear flagged", Advisory{State: StateTriage, Routing: Routing{NeedsAdminRouting: true}}, TransitionClearRouting, StateTriage, nil},
		{"clear unflagged", Advisory{State: StateTriage}, TransitionClearRouting, "", ErrIllegalTransition},
		{"clear on unsorted", Advisory{State: StateTriage, Project: unsorted, Routing: Routing{NeedsAdminRouting: true}}, TransitionClearRouting, "", ErrIllegalTransition},
		{"reassign triage", Advisory{State: StateTriage}, TransitionReassignTriage, StateTriage, nil},
		{"reassign draft", Advisory{State: StateDraft}, TransitionReassignTriage, "", ErrIllegalTransition},
		{"unknown", Advisory{State: StateDraft}, "teleport", "", ErrIllegalTransition},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.a.Next(tc.tr)
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Next: %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
			if err != nil && apperr.KindOf(err) != apperr.Conflict {
				t.Errorf("kind %v, want conflict", apperr.KindOf(err))
			}
		})
	}
}

func TestDismissTearsDownAndRemembers(t *testing.T) {
	now := time.Now()
	a := Advisory{State: StateDraft, ReviewStatus: ReviewApproved, ReassignmentRequestedAt: &now,
		ReassignmentRequestedByID: 4, ReassignmentRequestNote: "belongs to jetty", ReassignmentSuggestedProjectID: "p"}
	if _, err := a.Dismiss("  "); apperr.KindOf(err) != apperr.Invalid || a.State != StateDraft {
		t.Fatalf("blank reason: %v, state %q", err, a.State)
	}
	d, err := a.Dismiss(" duplicate of ECL-2222-3333-4444 ")
	if err != nil {
		t.Fatal(err)
	}
	if a.State != StateDismissed || a.DismissedFromState != StateDraft || a.DismissedReason != "duplicate of ECL-2222-3333-4444" ||
		a.ReviewStatus != ReviewNone || a.ReassignmentRequestedAt != nil || a.ReassignmentSuggestedProjectID != "" {
		t.Errorf("after dismiss: %+v", a)
	}
	if d.PreviousReview != ReviewApproved || d.Reassignment == nil || d.Reassignment.Note != "belongs to jetty" || d.Reassignment.RequestedBy != 4 {
		t.Errorf("dismissal: %+v", d)
	}
	to, err := a.Reopen()
	if err != nil || to != StateDraft || a.DismissedReason == "" || a.DismissedFromState != StateDraft {
		t.Errorf("reopen: %q %v; reason %q origin %q kept", to, err, a.DismissedReason, a.DismissedFromState)
	}
}

func TestEditSideEffects(t *testing.T) {
	c := Content{Summary: "x"}
	cases := []struct {
		name          string
		a             Advisory
		admin         bool
		wantRepublish bool
		wantReview    ReviewStatus
		invalidated   bool
	}{
		{"draft", Advisory{State: StateDraft, Kind: KindNative, ReviewStatus: ReviewNone}, false, false, ReviewNone, false},
		{"published", Advisory{State: StatePublished, Kind: KindNative, ReviewStatus: ReviewNone}, false, true, ReviewNone, false},
		{"approved, team member", Advisory{State: StateDraft, Kind: KindNative, ReviewStatus: ReviewApproved}, false, false, ReviewNone, true},
		{"approved, admin", Advisory{State: StateDraft, Kind: KindNative, ReviewStatus: ReviewApproved}, true, false, ReviewApproved, false},
		{"published approved", Advisory{State: StatePublished, Kind: KindNative, ReviewStatus: ReviewApproved}, false, true, ReviewNone, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.a.Edit(c, tc.admin)
			if err != nil {
				t.Fatal(err)
			}
			if tc.a.RepublishRequired != tc.wantRepublish || tc.a.ReviewStatus != tc.wantReview || s.ApprovalInvalidated != tc.invalidated {
				t.Errorf("republish %v review %q invalidated %v", tc.a.RepublishRequired, tc.a.ReviewStatus, s.ApprovalInvalidated)
			}
		})
	}
	a := Advisory{State: StateDraft, Kind: KindNative, Content: c}
	var ve *ValidationError
	if _, err := a.Edit(Content{Summary: string(make([]rune, 301))}, false); !errors.As(err, &ve) || a.Content.Summary != "x" {
		t.Errorf("invalid content: %v; content %q", err, a.Content.Summary)
	}
}

// F3, INV-INTAKE-4, lifecycle §8.
func TestMoveProject(t *testing.T) {
	now := time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)
	jetty := ProjectRef{ID: "r", Slug: "jetty"}
	unsorted := ProjectRef{ID: "u", Slug: "unsorted"}
	home := ProjectRef{ID: "h", Slug: "lantern"}

	tri := Advisory{State: StateTriage, Project: home}
	m, err := tri.MoveProject(unsorted, 7, true, now)
	if err != nil || !m.FlaggedForRouting || !tri.Routing.NeedsAdminRouting || tri.Routing.Note != DefaultUnsortedRoutingNote || tri.AccessReviewRequiredAt != nil {
		t.Fatalf("onto unsorted: %+v %v; %+v", m, err, tri)
	}
	m, err = tri.MoveProject(jetty, 7, true, now)
	if err != nil || !m.ClearedFlag || tri.Routing.NeedsAdminRouting || tri.Project != jetty {
		t.Fatalf("admin onto a real project: %+v %v; %+v", m, err, tri)
	}
	if _, err := tri.MoveProject(jetty, 7, true, now); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("onto the same project: %v", err)
	}

	pub := Advisory{State: StatePublished, Kind: KindNative, ReviewStatus: ReviewApproved, Project: home, ReassignmentRequestedAt: &now}
	m, err = pub.MoveProject(jetty, 7, false, now)
	if err != nil || m.InTriage || !m.Save.ApprovalInvalidated || m.Reassignment == nil ||
		!pub.RepublishRequired || pub.AccessReviewRequiredAt == nil || !pub.AccessReviewRequiredAt.Equal(now) {
		t.Fatalf("edit-form move: %+v %v; %+v", m, err, pub)
	}
	dis := Advisory{State: StateDismissed, Project: home}
	if _, err := dis.MoveProject(jetty, 7, true, now); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("dismissed: %v", err)
	}
}

func TestPromoteNeedsARealProject(t *testing.T) {
	unsorted := ProjectRef{ID: "u", Slug: "unsorted"}
	a := Advisory{State: StateTriage, Project: unsorted, Routing: Routing{NeedsAdminRouting: true, Note: "x"}}
	if _, err := a.Promote(unsorted); apperr.KindOf(err) != apperr.Invalid || a.State != StateTriage {
		t.Fatalf("promote on unsorted: %v", err)
	}
	prev, err := a.Promote(ProjectRef{ID: "r", Slug: "jetty"})
	if err != nil || prev != unsorted || a.State != StateDraft || a.Routing.NeedsAdminRouting {
		t.Fatalf("promote: %v %+v", err, a)
	}
}

func TestWithdrawAndRouting(t *testing.T) {
	now := time.Now()
	a := Advisory{State: StatePublished, WithdrawalRequestedAt: &now, WithdrawalRequestNote: "please", WithdrawalRequestedByID: 3}
	if _, err := a.Withdraw(""); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("blank reason: %v", err)
	}
	w, err := a.Withdraw("not a vulnerability")
	if err != nil || a.State != StatePublished || a.WithdrawnReason != "not a vulnerability" || !a.RepublishRequired ||
		w.Request == nil || w.Request.Note != "please" || a.WithdrawalRequestedAt != nil {
		t.Fatalf("withdraw: %+v %v; %+v", w, err, a)
	}

	tri := Advisory{State: StateTriage, Project: ProjectRef{Slug: "lantern"}}
	if err := tri.FlagForRouting(" ", 1, now); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("blank note: %v", err)
	}
	if err := tri.FlagForRouting("wrong team", 1, now); err != nil || !tri.Routing.NeedsAdminRouting || tri.Routing.FlaggedByID != 1 {
		t.Fatalf("flag: %v %+v", err, tri.Routing)
	}
	prev, err := tri.ClearRouting()
	if err != nil || prev != "wrong team" || tri.Routing != (Routing{}) {
		t.Fatalf("clear: %q %v %+v", prev, err, tri.Routing)
	}
}
