package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

type commentWorld struct {
	*advFixture
	comments *app.Comments
	grants   *app.Grants
}

func newCommentWorld(t *testing.T) *commentWorld {
	t.Helper()
	f := newAdvFixture(t)
	cs, err := app.NewComments(app.CommentsConfig{DB: f.db})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := app.NewGrants(app.GrantsConfig{DB: f.db})
	if err != nil {
		t.Fatal(err)
	}
	return &commentWorld{advFixture: f, comments: cs, grants: gs}
}

func ids(th app.Thread) []int64 {
	var out []int64
	for _, c := range th.Comments {
		out = append(out, c.ID)
	}
	return out
}

// outboxRows counts the queued jobs.
func (f *advFixture) outboxRows(t *testing.T) int {
	t.Helper()
	var n int
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT count(*) FROM outbox`).Scan(&n)
	})
	return n
}

func TestPostCommentPermissions(t *testing.T) {
	t.Parallel()
	w := newCommentWorld(t)
	ctx := context.Background()
	a := w.lanternDraft(t)
	cases := []struct {
		name     string
		caller   app.Caller
		internal bool
		locked   bool
		kind     apperr.Kind
	}{
		{"viewer public", w.viewer, false, false, 0},
		{"viewer internal refused", w.viewer, true, false, apperr.Forbidden},
		{"collaborator internal", w.collab, true, false, 0},
		{"owner internal", w.owner, true, false, 0},
		{"stranger sees nothing", w.stranger, false, false, apperr.NotFound},
		{"anonymous", app.Caller{}, false, false, apperr.NotFound},
		{"locked: viewer refused", w.viewer, false, true, apperr.Forbidden},
		{"locked: collaborator refused", w.collab, true, true, apperr.Forbidden},
		{"locked: owner posts", w.owner, false, true, 0},
	}
	locked := false
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.locked != locked { // locking twice is refused (K1, K2)
				if err := w.comments.SetLock(ctx, w.owner, a.AdvisoryID, tc.locked, ""); err != nil {
					t.Fatal(err)
				}
				locked = tc.locked
			}
			before := len(w.audits(t, a))
			cv, err := w.comments.Post(ctx, tc.caller, a.AdvisoryID, " hello **there** ", tc.internal)
			if apperr.KindOf(err) != tc.kind {
				t.Fatalf("Post: %v (kind %v), want kind %v", err, apperr.KindOf(err), tc.kind)
			}
			after := w.audits(t, a)
			if tc.kind != 0 {
				if len(after) != before {
					t.Errorf("a refused post wrote %d audit rows", len(after)-before)
				}
				return
			}
			if cv.Body != "hello **there**" || cv.Internal != tc.internal || cv.HTML != "<p>hello <strong>there</strong></p>\n" {
				t.Errorf("comment %+v", cv)
			}
			if last := after[len(after)-1]; last.Action != "comment.created" || last.ActorID != tc.caller.UserID || last.IP != "192.0.2.10" {
				t.Errorf("audit %+v", last)
			}
		})
	}
	if _, err := w.comments.Post(ctx, w.owner, a.AdvisoryID, "   ", false); !errors.Is(err, comment.ErrEmptyBody) {
		t.Errorf("blank body: %v", err)
	}
}

// INV-COMMENT-2: internal visibility is decided at every read, so losing
// collaborator rank hides internal comments at once — list, history and
// edit alike.
func TestInternalCommentVisibilityAfterGrantChanges(t *testing.T) {
	t.Parallel()
	w := newCommentWorld(t)
	ctx := context.Background()
	a := w.lanternDraft(t)
	pub, err := w.comments.Post(ctx, w.collab, a.AdvisoryID, "public note", false)
	if err != nil {
		t.Fatal(err)
	}
	internal, err := w.comments.Post(ctx, w.collab, a.AdvisoryID, "internal note", true)
	if err != nil {
		t.Fatal(err)
	}
	grantID := func() int64 {
		p, err := w.grants.List(ctx, w.owner, a.AdvisoryID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range p.Grants {
			if g.PrincipalType == access.PrincipalUser && g.PrincipalID == w.collab.UserID {
				return g.ID
			}
		}
		t.Fatal("collaborator grant not found")
		return 0
	}
	steps := []struct {
		name   string
		change func(t *testing.T)
		list   []int64 // what collab sees; nil: the advisory is gone
		kind   apperr.Kind
	}{
		{"collaborator sees both", func(*testing.T) {}, []int64{pub.ID, internal.ID}, 0},
		{"demoted to viewer: internal hidden", func(t *testing.T) {
			if _, err := w.grants.Grant(ctx, w.owner, a.AdvisoryID, app.GrantRequest{PrincipalType: access.PrincipalUser,
				UserID: w.collab.UserID, Permission: "viewer"}); err != nil {
				t.Fatal(err)
			}
		}, []int64{pub.ID}, 0},
		{"promoted again: internal back", func(t *testing.T) {
			if _, err := w.grants.Grant(ctx, w.owner, a.AdvisoryID, app.GrantRequest{PrincipalType: access.PrincipalUser,
				UserID: w.collab.UserID, Permission: "collaborator"}); err != nil {
				t.Fatal(err)
			}
		}, []int64{pub.ID, internal.ID}, 0},
		{"revoked: nothing at all", func(t *testing.T) {
			if _, err := w.grants.Revoke(ctx, w.owner, a.AdvisoryID, grantID()); err != nil {
				t.Fatal(err)
			}
		}, nil, apperr.NotFound},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			th, err := w.comments.List(ctx, w.collab, a.AdvisoryID)
			if apperr.KindOf(err) != st.kind {
				t.Fatalf("List: %v, want kind %v", err, st.kind)
			}
			if diff := cmp.Diff(st.list, ids(th)); diff != "" {
				t.Errorf("visible comments (-want +got):\n%s", diff)
			}
			seesInternal := len(st.list) == 2
			_, herr := w.comments.History(ctx, w.collab, a.AdvisoryID, internal.ID)
			_, eerr := w.comments.Edit(ctx, w.collab, a.AdvisoryID, internal.ID, "internal note, edited in "+st.name)
			if seesInternal && (herr != nil || eerr != nil) {
				t.Errorf("history %v, edit %v; want both allowed", herr, eerr)
			}
			if !seesInternal && (apperr.KindOf(herr) != apperr.NotFound || apperr.KindOf(eerr) != apperr.NotFound) {
				t.Errorf("history %v, edit %v; want not found", herr, eerr)
			}
		})
	}
	// The viewer (via group) never saw the internal one.
	th, err := w.comments.List(ctx, w.viewer, a.AdvisoryID)
	if err != nil || !cmp.Equal(ids(th), []int64{pub.ID}) {
		t.Errorf("viewer sees %v (%v)", ids(th), err)
	}
}

func TestCommentMentions(t *testing.T) {
	t.Parallel()
	w := newCommentWorld(t)
	ctx := context.Background()
	a := w.lanternDraft(t)
	// user5 = viewer, user4 = collab (fixture emails userN@example.org).
	w.exec(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(w.sys, `UPDATE users SET display_name = 'Val Viewer' WHERE id = $1`, w.viewer.UserID)
		return err
	})
	cv, err := w.comments.Post(ctx, w.collab, a.AdvisoryID, "ping @user5 and @User1@Example.org, not `@user6` nor @nobody", false)
	if err != nil {
		t.Fatal(err)
	}
	// The author is a collaborator: other users' emails are masked
	// (INV-PRIVACY-4), display names shown.
	want := `<p>ping <span class="mention">@Val Viewer</span> and <span class="mention">@u•••@example.org</span>, not <code>@user6</code> nor @nobody</p>` + "\n"
	if string(cv.HTML) != want {
		t.Errorf("collaborator's rendering\n got %s\nwant %s", cv.HTML, want)
	}
	th, err := w.comments.List(ctx, w.owner, a.AdvisoryID)
	if err != nil {
		t.Fatal(err)
	}
	wantOwner := `<p>ping <span class="mention">@Val Viewer</span> and <span class="mention">@user1@example.org</span>, not <code>@user6</code> nor @nobody</p>` + "\n"
	if got := string(th.Comments[0].HTML); got != wantOwner || !th.ShowEmails {
		t.Errorf("owner's rendering\n got %s\nwant %s", got, wantOwner)
	}
	if th.Comments[0].AuthorEmail != "user4@example.org" {
		t.Errorf("owner sees author email %q", th.Comments[0].AuthorEmail)
	}
	th, _ = w.comments.List(ctx, w.viewer, a.AdvisoryID)
	if th.Comments[0].AuthorEmail != "u•••@example.org" || th.Comments[0].AuthorLabel != "u•••@example.org" {
		t.Errorf("viewer sees author %q / %q", th.Comments[0].AuthorLabel, th.Comments[0].AuthorEmail)
	}
	// The two resolved mentions are counted in the audit entry; nothing is
	// queued (notifications are not built yet).
	var mentions []any
	for _, r := range w.audits(t, a) {
		if r.Action == "comment.created" {
			mentions = append(mentions, r.Metadata["mentions"])
		}
	}
	if len(mentions) != 1 || mentions[0] != float64(2) {
		t.Errorf("comment.created mentions %v, want [2]", mentions)
	}
	if _, err := w.comments.Edit(ctx, w.collab, a.AdvisoryID, cv.ID, cv.Body+" and @user6"); err != nil {
		t.Fatal(err)
	}
	if jobs := w.outboxRows(t); jobs != 0 {
		t.Errorf("%d outbox rows", jobs)
	}
}

func TestEditRedactHistory(t *testing.T) {
	t.Parallel()
	w := newCommentWorld(t)
	ctx := context.Background()
	a := w.lanternDraft(t)
	cv, err := w.comments.Post(ctx, w.viewer, a.AdvisoryID, "first", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.comments.Edit(ctx, w.owner, a.AdvisoryID, cv.ID, "not mine"); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("edit by another user: %v", err)
	}
	if _, err := w.comments.Edit(ctx, w.viewer, a.AdvisoryID, cv.ID, "second"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.comments.Edit(ctx, w.viewer, a.AdvisoryID, cv.ID, "second"); err != nil {
		t.Fatal(err) // unchanged: no version
	}
	vs, err := w.comments.History(ctx, w.viewer, a.AdvisoryID, cv.ID)
	if err != nil || len(vs) != 2 || vs[0].Body != "first" || vs[1].Body != "second" || vs[1].Number != 2 {
		t.Fatalf("history %+v %v", vs, err)
	}
	// Redaction: author or admin only; one-way; keeps the place.
	if err := w.comments.Redact(ctx, w.owner, a.AdvisoryID, cv.ID); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("redact by a non-author owner: %v", err)
	}
	later, err := w.comments.Post(ctx, w.owner, a.AdvisoryID, "later", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.comments.Redact(ctx, w.admin, a.AdvisoryID, cv.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.comments.Redact(ctx, w.admin, a.AdvisoryID, cv.ID); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("second redaction: %v", err)
	}
	if _, err := w.comments.Edit(ctx, w.viewer, a.AdvisoryID, cv.ID, "resurrect"); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("edit after redaction: %v", err)
	}
	th, err := w.comments.List(ctx, w.viewer, a.AdvisoryID)
	if err != nil || !cmp.Equal(ids(th), []int64{cv.ID, later.ID}) {
		t.Fatalf("thread %v %v", ids(th), err)
	}
	if r := th.Comments[0]; !r.Redacted() || r.Body != "" || r.HTML != "" || r.CanEdit {
		t.Errorf("redacted comment shown as %+v", r)
	}
	vs, _ = w.comments.History(ctx, w.viewer, a.AdvisoryID, cv.ID)
	for _, v := range vs {
		if v.Body != "" {
			t.Errorf("history of a redacted comment shows %q", v.Body)
		}
	}
	var actions []string
	for _, r := range w.audits(t, a) {
		if strings.HasPrefix(r.Action, "comment.") {
			actions = append(actions, r.Action)
		}
	}
	if diff := cmp.Diff([]string{"comment.created", "comment.edited", "comment.created", "comment.redacted"}, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestLockAndActionNotes(t *testing.T) {
	t.Parallel()
	w := newCommentWorld(t)
	ctx := context.Background()
	a := w.lanternDraft(t)
	if err := w.comments.SetLock(ctx, w.collab, a.AdvisoryID, true, "x"); apperr.KindOf(err) != apperr.Forbidden {
		t.Errorf("collaborator lock: %v", err)
	}
	if err := w.comments.SetLock(ctx, w.owner, a.AdvisoryID, true, "heated; token ghp_abcdefghijklmnopqrstuvwxyz0123"); err != nil {
		t.Fatal(err)
	}
	th, err := w.comments.List(ctx, w.viewer, a.AdvisoryID)
	if err != nil || !th.Locked || th.CanComment || len(th.Comments) != 1 {
		t.Fatalf("thread after lock: %+v %v", th, err)
	}
	note := th.Comments[0]
	if note.Internal || note.AuthorID != w.owner.UserID || strings.Contains(note.Body, "ghp_") || !strings.Contains(note.Body, "heated") {
		t.Errorf("lock note %+v", note)
	}
	// An internal-policy note, written inside another action's transaction.
	w.exec(t, func(tx *postgres.DB) error {
		_, err := app.RecordActionNote(w.sys, tx, w.owner, a.ID, comment.NoteFlagForRouting, "misrouted")
		return err
	})
	w.exec(t, func(tx *postgres.DB) error { // blank and system notes are no-ops
		if id, err := app.RecordActionNote(w.sys, tx, w.owner, a.ID, comment.NoteDismiss, "  "); id != 0 || err != nil {
			return errors.New("blank note posted")
		}
		if id, err := app.RecordActionNote(w.sys, tx, app.Caller{}, a.ID, comment.NoteDismiss, "auto"); id != 0 || err != nil {
			return errors.New("system note posted")
		}
		return nil
	})
	if th, _ := w.comments.List(ctx, w.viewer, a.AdvisoryID); len(th.Comments) != 1 {
		t.Errorf("viewer sees %d comments, want the public lock note only", len(th.Comments))
	}
	if th, _ := w.comments.List(ctx, w.collab, a.AdvisoryID); len(th.Comments) != 2 || !th.Comments[1].Internal {
		t.Errorf("collaborator sees %+v", th.Comments)
	}
	if err := w.comments.SetLock(ctx, w.owner, a.AdvisoryID, false, ""); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range w.audits(t, a) {
		if strings.HasPrefix(r.Action, "advisory.comments_") {
			actions = append(actions, r.Action)
		}
	}
	if diff := cmp.Diff([]string{"advisory.comments_locked", "advisory.comments_unlocked"}, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	var reloaded *advisory.Advisory = w.reload(t, a)
	if reloaded.CommentsLocked {
		t.Error("still locked")
	}
}

// thread is a's comment thread as c sees it.
func thread(t *testing.T, f *advFixture, c app.Caller, a *advisory.Advisory) app.Thread {
	t.Helper()
	cs, err := app.NewComments(app.CommentsConfig{DB: f.db})
	if err != nil {
		t.Fatal(err)
	}
	th, err := cs.List(context.Background(), c, a.AdvisoryID)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// setLock is the K1 (locked) or K2 (!locked) call of a use-case table,
// answering the reloaded advisory.
func setLock(locked bool, reason string) doFn {
	return func(ctx context.Context, f *advFixture, c app.Caller, a *advisory.Advisory) (*advisory.Advisory, error) {
		cs, err := app.NewComments(app.CommentsConfig{DB: f.db})
		if err != nil {
			return nil, err
		}
		if err := cs.SetLock(ctx, c, a.AdvisoryID, locked, reason); err != nil {
			return nil, err
		}
		return f.svc.Get(ctx, c, a.AdvisoryID)
	}
}

// commentsLocked is setup with comments locked by the owner, with a reason
// carrying a secret.
func commentsLocked(setup setupFn) setupFn {
	return func(t *testing.T, f *advFixture) *advisory.Advisory {
		t.Helper()
		a := setup(t, f)
		if _, err := setLock(true, secretReason)(context.Background(), f, f.owner, a); err != nil {
			t.Fatal(err)
		}
		return f.reload(t, a)
	}
}

const secretReason = "heated; token ghp_abcdefghijklmnopqrstuvwxyz0123"

// lockRow reads the stored lock columns of a.
func (f *advFixture) lockRow(t *testing.T, a *advisory.Advisory) (by int64, at bool, reason string) {
	t.Helper()
	f.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(f.sys, `SELECT COALESCE(comments_locked_by_id, 0), comments_locked_at IS NOT NULL, comments_lock_reason
			FROM advisories WHERE id = $1`, a.ID).Scan(&by, &at, &reason)
	})
	return by, at, reason
}

// TestCommentLockRows covers lifecycle §10.2: K1 lock (owner, any state,
// not already locked; the optional reason is a public action note that
// bypasses the lock, redacted, INV-AUDIT-2) and K2 unlock (owner,
// currently locked; the reason is cleared). Neither is versioned.
func TestCommentLockRows(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	lockedBy := func(who func(*advFixture) app.Caller, wantReason string) checkFn {
		return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
			t.Helper()
			by, at, reason := f.lockRow(t, after)
			if !after.CommentsLocked || by != who(f).UserID || !at || reason != wantReason {
				t.Errorf("locked %v by %d (at set %v) reason %q; want locked by %d, reason %q", after.CommentsLocked, by, at, reason, who(f).UserID, wantReason)
			}
			if m := f.lastAudit(t, after, "advisory.comments_locked").Metadata; m["reason"] != wantReason {
				t.Errorf("advisory.comments_locked metadata %v, want reason %q", m, wantReason)
			}
		}
	}
	unlocked := func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		by, at, reason := f.lockRow(t, after)
		if after.CommentsLocked || by != 0 || at || reason != "" {
			t.Errorf("after unlock: locked %v by %d at %v reason %q; want all cleared", after.CommentsLocked, by, at, reason)
		}
		m := f.lastAudit(t, after, "advisory.comments_unlocked").Metadata
		if p, _ := m["previous_reason"].(string); !strings.Contains(p, "heated") || strings.Contains(p, "ghp_") {
			t.Errorf("advisory.comments_unlocked metadata %v, want the redacted previous_reason", m)
		}
	}
	runUseCases(t, f, []useCase{
		{name: "K1: owner locks with a reason", setup: lanternDraft, caller: asOwner, do: setLock(true, "  "+secretReason+" "),
			actions: []string{"advisory.comments_locked", "comment.created"},
			check: func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
				_, _, reason := f.lockRow(t, after)
				if !strings.Contains(reason, "heated") || strings.Contains(reason, "ghp_") {
					t.Fatalf("stored reason %q, want it redacted (permissions §13)", reason)
				}
				lockedBy(asOwner, reason)(t, f, before, after)
				// The note is public (viewer sees it) and was posted although
				// the lock now refuses the viewer (it bypasses the lock).
				th := thread(t, f, f.viewer, after)
				if !th.Locked || th.CanComment || len(th.Comments) != 1 {
					t.Fatalf("viewer's thread %+v; want locked, one public note", th)
				}
				if n := th.Comments[0]; n.Internal || n.AuthorID != f.owner.UserID || n.Body != reason {
					t.Errorf("lock note %+v", n)
				}
			}},
		{name: "K1: admin locks without a reason, no note", setup: lanternDraft, caller: asAdmin, do: setLock(true, "   "),
			actions: []string{"advisory.comments_locked"}, check: lockedBy(asAdmin, "")},
		{name: "K1: owner locks a dismissed advisory (any state)", setup: dismissedFrom(lanternDraft, "draft"), caller: asOwner,
			do: setLock(true, ""), actions: []string{"advisory.comments_locked"}, check: lockedBy(asOwner, "")},
		{name: "K1: owner locks a triage report", setup: lanternTriage, caller: asOwner, do: setLock(true, "spam"),
			actions: []string{"advisory.comments_locked", "comment.created"}, check: lockedBy(asOwner, "spam")},
		{name: "K1: collaborator refused", setup: lanternDraft, caller: asCollab, do: setLock(true, "x"), kind: apperr.Forbidden},
		{name: "K1: viewer refused", setup: lanternDraft, caller: asViewer, do: setLock(true, "x"), kind: apperr.Forbidden},
		{name: "K1: stranger refused", setup: lanternDraft, caller: asStranger, do: setLock(true, "x"), kind: apperr.NotFound},
		{name: "K1: already locked refused", setup: commentsLocked(lanternDraft), caller: asOwner, do: setLock(true, "again"), kind: apperr.Conflict},
		{name: "K1: already locked, collaborator refused", setup: commentsLocked(lanternDraft), caller: asCollab, do: setLock(true, ""), kind: apperr.Forbidden},

		{name: "K2: owner unlocks", setup: commentsLocked(lanternDraft), caller: asOwner, do: setLock(false, ""),
			actions: []string{"advisory.comments_unlocked"}, check: unlocked},
		{name: "K2: admin unlocks, a reason is ignored", setup: commentsLocked(lanternDraft), caller: asAdmin, do: setLock(false, "done"),
			actions: []string{"advisory.comments_unlocked"}, check: unlocked},
		{name: "K2: collaborator refused", setup: commentsLocked(lanternDraft), caller: asCollab, do: setLock(false, ""), kind: apperr.Forbidden},
		{name: "K2: viewer refused", setup: commentsLocked(lanternDraft), caller: asViewer, do: setLock(false, ""), kind: apperr.Forbidden},
		{name: "K2: not locked refused", setup: lanternDraft, caller: asOwner, do: setLock(false, ""), kind: apperr.Conflict},
	})
}
