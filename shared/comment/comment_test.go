package comment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/comment"
)

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.org": "a•••@example.org",
		"Élodie@ex.fr":      "É•••@ex.fr",
		"@example.org":      "•••@example.org",
		"no-at-sign":        "no-at-sign",
		"":                  "",
	} {
		if got := comment.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// INV-PRIVACY-4: other users' emails only to owners; one's own always.
func TestViewerEmailAndLabel(t *testing.T) {
	alice := comment.Person{ID: 1, Email: "alice@example.org"}
	named := comment.Person{ID: 2, Email: "bob@example.org", DisplayName: "Bob"}
	cases := []struct {
		name      string
		v         comment.Viewer
		p         comment.Person
		email     string
		wantLabel string
	}{
		{"non-owner sees mask", comment.Viewer{UserID: 9}, alice, "a•••@example.org", "a•••@example.org"},
		{"owner sees email", comment.Viewer{UserID: 9, ShowEmails: true}, alice, "alice@example.org", "alice@example.org"},
		{"self sees own email", comment.Viewer{UserID: 1}, alice, "alice@example.org", "alice@example.org"},
		{"anonymous sees mask", comment.Viewer{}, alice, "a•••@example.org", "a•••@example.org"},
		{"display name wins", comment.Viewer{UserID: 9}, named, "b•••@example.org", "Bob"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.Email(tc.p); got != tc.email {
				t.Errorf("Email = %q, want %q", got, tc.email)
			}
			if got := tc.v.Label(tc.p); got != tc.wantLabel {
				t.Errorf("Label = %q, want %q", got, tc.wantLabel)
			}
		})
	}
}

// Mention resolution (requirements §6.8): full email case-insensitively;
// local part only when it names exactly one user.
func TestResolve(t *testing.T) {
	users := []comment.Person{
		{ID: 1, Email: "alice@example.org"},
		{ID: 2, Email: "Bob@Example.org", DisplayName: "Bob"},
		{ID: 3, Email: "sam@one.example"},
		{ID: 4, Email: "sam@two.example"},
	}
	cases := []struct {
		name   string
		tokens []string
		want   map[string]int64
	}{
		{"local part", []string{"alice"}, map[string]int64{"alice": 1}},
		{"full email, case-insensitive", []string{"bob@example.org"}, map[string]int64{"bob@example.org": 2}},
		{"local part, case-insensitive", []string{"BOB"}, map[string]int64{"bob": 2}},
		{"ambiguous local part", []string{"sam"}, map[string]int64{}},
		{"ambiguous local part, full email resolves", []string{"sam@two.example"}, map[string]int64{"sam@two.example": 4}},
		{"unknown", []string{"carol", "carol@example.org"}, map[string]int64{}},
		{"domain is not a local part", []string{"example.org"}, map[string]int64{}},
		{"several", []string{"alice", "bob@example.org", "nobody"}, map[string]int64{"alice": 1, "bob@example.org": 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]int64{}
			for k, p := range comment.Resolve(tc.tokens, users) {
				got[k] = p.ID
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeBody(t *testing.T) {
	if _, err := comment.NormalizeBody("  \n\t "); !errors.Is(err, comment.ErrEmptyBody) {
		t.Errorf("blank body: %v", err)
	}
	if _, err := comment.NormalizeBody(strings.Repeat("x", comment.MaxBody+1)); !errors.Is(err, comment.ErrBodyTooLong) {
		t.Errorf("long body: %v", err)
	}
	got, err := comment.NormalizeBody("  hi\x00 there\n")
	if err != nil || got != "hi there" {
		t.Errorf("NormalizeBody = %q, %v", got, err)
	}
}

// Requirements §4.4: the fixed per-action visibility of action notes.
func TestNoteKindVisibility(t *testing.T) {
	public := []comment.NoteKind{comment.NoteDismiss, comment.NoteWithdrawPublished, comment.NoteLockComments,
		comment.NoteReviewApprove, comment.NoteReviewRequestChanges, comment.NoteCVERequestRejected}
	for _, k := range comment.NoteKinds() {
		want := true
		for _, p := range public {
			if p == k {
				want = false
			}
		}
		if k.Internal() != want {
			t.Errorf("%s: Internal() = %v, want %v", k, k.Internal(), want)
		}
	}
	if len(comment.NoteKinds()) != 14 {
		t.Errorf("%d note kinds, want 14", len(comment.NoteKinds()))
	}
	if !comment.NoteKind("bogus").Internal() || comment.NoteKind("bogus").Valid() {
		t.Error("unknown kinds must be invalid and internal")
	}
}
