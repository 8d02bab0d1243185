package audit_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/audit"
)

// The ephemeral allowlist, verbatim from audit-actions.md §1.15.
var wantEphemeral = []audit.Action{
	"advisory.viewed", "ghsa.webhook_received", "ghsa.webhook_rejected",
	"ghsa.sync_run_started", "ghsa.sync_run_finished", "ghsa.metadata_fetched",
	"pmi.project_repos_synced", "roster.synced", "auth.login", "auth.logout",
	"auth.login_failed", "auth.step_up_completed", "notification.sent",
}

func TestCatalogue(t *testing.T) {
	all := audit.Actions()
	if len(all) != 97 {
		t.Fatalf("catalogue has %d actions, want 97", len(all))
	}
	shape := regexp.MustCompile(`^[a-z]+\.[a-z_]+$`)
	seen := map[audit.Action]bool{}
	for _, a := range all {
		if seen[a] {
			t.Errorf("%s listed twice", a)
		}
		seen[a] = true
		if !shape.MatchString(string(a)) || len(a) > 64 {
			t.Errorf("%q is not a storable action string", a)
		}
		if !a.Valid() {
			t.Errorf("%s: Valid() = false", a)
		}
		if !a.Tier().Valid() {
			t.Errorf("%s: invalid tier %d", a, a.Tier())
		}
	}
	for _, bad := range []audit.Action{"", "advisory", "advisory.Created", "advisory.deleted", " advisory.created"} {
		if bad.Valid() || bad.Ephemeral() || bad.Tier() != audit.TierNone {
			t.Errorf("%q: unknown action treated as known", bad)
		}
	}
}

func TestEphemeralAllowlistIsExactlyTheSpecs(t *testing.T) {
	got := audit.EphemeralActions()
	want := slices.Clone(wantEphemeral)
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ephemeral allowlist (-want +got):\n%s", diff)
	}
	for _, a := range audit.Actions() {
		if a.Ephemeral() != slices.Contains(want, a) {
			t.Errorf("%s: Ephemeral() = %v", a, a.Ephemeral())
		}
	}
}

// INV-AUDIT-5, the catalogue's hard rule: dropping an access-log partition
// never erases timeline history.
func TestEphemeralAndTimelineAreDisjoint(t *testing.T) {
	for _, a := range audit.Actions() {
		if a.Ephemeral() && a.Tier() != audit.TierNone {
			t.Errorf("%s is ephemeral and on the timeline (tier %s)", a, a.Tier())
		}
	}
	// INV-AUDIT-6: the first-seen receipt is durable and off the timeline.
	if audit.AdvisoryFirstSeen.Ephemeral() || audit.AdvisoryFirstSeen.Tier() != audit.TierNone {
		t.Error("advisory.first_seen must be a ledger action off the timeline")
	}
}

func TestTiers(t *testing.T) {
	cases := []struct {
		a    audit.Action
		want audit.Tier
	}{
		{audit.AdvisoryCreated, audit.TierViewer},
		{audit.AdvisoryEdited, audit.TierCollaborator},
		{audit.AdvisoryAccessReviewDismissed, audit.TierOwner},
		{audit.AdvisoryReopened, audit.TierNone},
		{audit.ReviewTaskStatusChanged, audit.TierNone},
		{audit.AccessGranted, audit.TierCollaborator},
		{audit.InvitationResent, audit.TierNone},
		{audit.CommentCreated, audit.TierNone},
		{audit.CVEMarkedRejectedAtCVEOrg, audit.TierViewer},
		{audit.PublicationGitPush, audit.TierCollaborator},
		{audit.PublicationGitCommit, audit.TierNone},
		{audit.GHSACVEConflictDetected, audit.TierOwner},
		{audit.ProjectCreated, audit.TierNone},
		{audit.ReportSubmitted, audit.TierNone},
	}
	for _, tc := range cases {
		if got := tc.a.Tier(); got != tc.want {
			t.Errorf("%s.Tier() = %s, want %s", tc.a, got, tc.want)
		}
	}
	// Cumulative visibility: viewer ⊂ collaborator ⊂ owner.
	v, c, o := audit.TimelineActions(audit.TierViewer), audit.TimelineActions(audit.TierCollaborator), audit.TimelineActions(audit.TierOwner)
	if len(audit.TimelineActions(audit.TierNone)) != 0 {
		t.Error("TimelineActions(TierNone) is not empty")
	}
	for _, a := range v {
		if !slices.Contains(c, a) {
			t.Errorf("%s visible to viewers but not to collaborators", a)
		}
	}
	for _, a := range c {
		if !slices.Contains(o, a) {
			t.Errorf("%s visible to collaborators but not to owners", a)
		}
	}
	if !(len(v) < len(c) && len(c) < len(o)) {
		t.Errorf("tier sizes %d, %d, %d are not strictly growing", len(v), len(c), len(o))
	}
}

func TestConstantsSpellTheirStrings(t *testing.T) {
	for a, want := range map[audit.Action]string{
		audit.AdvisoryCreated:           "advisory.created",
		audit.AdvisoryStateChanged:      "advisory.state_changed",
		audit.AdvisoryMovedToGHSA:       "advisory.moved_to_ghsa",
		audit.ProjectCreated:            "project.created",
		audit.ProjectUpdated:            "project.updated",
		audit.AuditPruned:               "audit.pruned",
		audit.PMIProjectReposSynced:     "pmi.project_repos_synced",
		audit.PublicationOSVGenerated:   "publication.osv_generated",
		audit.CVEMarkedRejectedAtCVEOrg: "cve.marked_rejected_at_cve_org",
	} {
		if string(a) != want {
			t.Errorf("constant = %q, want %q", a, want)
		}
	}
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	if b == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("stored JSON %q: %v", b, err)
	}
	return v
}

const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

func TestPrepare(t *testing.T) {
	type want struct {
		ephemeral          bool
		commentID          int64
		previous, new, md  any
		ip, ua             string
		errIs              error
		errContains        string
		actorID, advisoryN int64
	}
	long := strings.Repeat("é", 600)
	cases := []struct {
		name string
		e    audit.Entry
		want want
	}{
		{"unknown action refused", audit.Entry{Action: "advisory.deleted"}, want{errIs: audit.ErrUnknownAction}},
		{"empty action refused", audit.Entry{}, want{errIs: audit.ErrUnknownAction}},
		{"bad IP refused", audit.Entry{Action: audit.AdvisoryCreated, IP: "10.0.0.300"}, want{errContains: "invalid IP"}},
		{"ledger defaults", audit.Entry{Action: audit.AdvisoryCreated},
			want{md: map[string]any{}}},
		{"ledger values redacted", audit.Entry{
			ActorID: 7, AdvisoryID: 9, CommentID: 3, Action: audit.CommentEdited,
			Previous: map[string]any{"body": "token " + token},
			New:      []string{"https://user:s3cret@example.org/x"},
			Metadata: map[string]any{"password": "hunter2", "note": "Authorization: Bearer abcdefghijklmnopqrstuvwxyz"},
			IP:       "::ffff:192.0.2.1", UserAgent: "curl " + token,
		}, want{
			actorID: 7, advisoryN: 9, commentID: 3,
			previous: map[string]any{"body": "token ***"},
			new:      []any{"https://***@example.org/x"},
			md:       map[string]any{"password": "***", "note": "Authorization: Bearer ***"},
			ip:       "192.0.2.1", ua: "curl ***",
		}},
		{"typed nil values are NULL", audit.Entry{Action: audit.AdvisoryEdited, Previous: map[string]any(nil), New: (*struct{})(nil)},
			want{md: map[string]any{}}},
		{"NUL and invalid UTF-8 made storable", audit.Entry{Action: audit.AdvisoryEdited,
			Metadata: map[string]any{"k\x00": "a\x00b", "bad": "x\xffy"}},
			want{md: map[string]any{"k\uFFFD": "a\uFFFDb", "bad": "x\uFFFDy"}}},
		{"user agent truncated to 512 characters", audit.Entry{Action: audit.AdvisoryCreated, UserAgent: long, IP: "fe80::1%eth0"},
			want{md: map[string]any{}, ua: strings.Repeat("é", 512), ip: "fe80::1"}},
		{"ephemeral folds values into metadata", audit.Entry{
			Action: audit.GHSAMetadataFetched, AdvisoryID: 4, CommentID: 5,
			Previous: map[string]any{"state": "draft"}, New: map[string]any{"token": "x"},
		}, want{ephemeral: true, advisoryN: 4, md: map[string]any{
			"_previous_value": map[string]any{"state": "draft"},
			"_new_value":      map[string]any{"token": "***"},
			"comment_id":      float64(5),
		}}},
		{"ephemeral never overwrites caller keys", audit.Entry{
			Action:   audit.NotificationSent,
			Previous: "old", New: "new", CommentID: 5,
			Metadata: map[string]any{"_previous_value": "mine", "_new_value": nil, "comment_id": 8},
		}, want{ephemeral: true, md: map[string]any{"_previous_value": "mine", "_new_value": nil, "comment_id": float64(8)}}},
		{"ephemeral without values has no fold keys", audit.Entry{Action: audit.AuthLogin, IP: "192.0.2.7"},
			want{ephemeral: true, md: map[string]any{}, ip: "192.0.2.7"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.e.Prepare()
			switch {
			case tc.want.errIs != nil || tc.want.errContains != "":
				if err == nil || (tc.want.errIs != nil && !errors.Is(err, tc.want.errIs)) ||
					!strings.Contains(err.Error(), tc.want.errContains) {
					t.Fatalf("Prepare() error = %v, want %v %q", err, tc.want.errIs, tc.want.errContains)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if p.Ephemeral != tc.want.ephemeral || p.CommentID != tc.want.commentID ||
				p.ActorID != tc.want.actorID || p.AdvisoryID != tc.want.advisoryN ||
				p.IP != tc.want.ip || p.UserAgent != tc.want.ua || p.Action != tc.e.Action {
				t.Errorf("Prepare() = %+v", p)
			}
			if p.Metadata == nil {
				t.Error("metadata is nil; want at least {}")
			}
			if tc.want.ephemeral && (p.Previous != nil || p.New != nil) {
				t.Error("access-log entry keeps previous/new columns")
			}
			got := map[string]any{"previous": decode(t, p.Previous), "new": decode(t, p.New), "md": decode(t, p.Metadata)}
			want := map[string]any{"previous": tc.want.previous, "new": tc.want.new, "md": tc.want.md}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stored JSON (-want +got):\n%s", diff)
			}
		})
	}
}
