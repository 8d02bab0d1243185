package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/intake"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Helpers of the lifecycle row tests (lifecycle.md §2.1, §7, §10.1): each
// use case is named after its row ("L7: …") and checks the audit rows it
// writes through runUseCases; these helpers check what the rows carry.

// noteRow is an advisory's newest comment.
type noteRow struct {
	Count    int
	Body     string
	Internal bool
	AuthorID int64
}

func (f *advFixture) newestNote(t *testing.T, a *advisory.Advisory) noteRow {
	t.Helper()
	var n noteRow
	f.exec(t, func(tx *postgres.DB) error {
		if err := tx.QueryRow(f.sys, `SELECT count(*) FROM comments WHERE advisory_id = $1`, a.ID).Scan(&n.Count); err != nil || n.Count == 0 {
			return err
		}
		return tx.QueryRow(f.sys, `SELECT body, is_internal, COALESCE(author_id, 0) FROM comments WHERE advisory_id = $1 ORDER BY id DESC LIMIT 1`, a.ID).
			Scan(&n.Body, &n.Internal, &n.AuthorID)
	})
	return n
}

// wantNote checks that the action posted body as an author-attributed
// action note, internal or public (lifecycle §0 item 5).
func wantNote(internal bool, body string) checkFn {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		n := f.newestNote(t, after)
		if n.Count == 0 || n.Body != body || n.Internal != internal || n.AuthorID == 0 {
			t.Errorf("action note %+v, want %q (internal=%v) by the actor", n, body, internal)
		}
	}
}

// wantNoNote checks that the action posted no comment.
func wantNoNote(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
	t.Helper()
	if n := f.newestNote(t, after); n.Count != 0 {
		t.Errorf("action posted a note %+v, want none", n)
	}
}

// wantMeta checks the metadata keys of the newest audit row with action:
// each key of want must be present with that value (JSON numbers compare
// as float64).
func wantMeta(action string, want map[string]any) checkFn {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		m := f.lastAudit(t, after, action).Metadata
		if diff := cmp.Diff(want, metaKeys(m, want)); diff != "" {
			t.Errorf("%s metadata (-want +got):\n%s\nfull: %v", action, diff, m)
		}
	}
}

// metaKeys is the part of metadata m under the keys of want.
func metaKeys(m, want map[string]any) map[string]any {
	got := map[string]any{}
	for k := range want {
		if v, ok := m[k]; ok {
			got[k] = v
		}
	}
	return got
}

// wantNarrated checks the newest advisory.state_changed row: narrated
// (the twin of a descriptive row, ledger-only) or not (shown).
func wantNarrated(narrated bool) checkFn {
	return func(t *testing.T, f *advFixture, before, after *advisory.Advisory) {
		t.Helper()
		m := f.lastAudit(t, after, "advisory.state_changed").Metadata
		if got := m["narrated"] == true; got != narrated {
			t.Errorf("state_changed narrated=%v, want %v (%v)", got, narrated, m)
		}
	}
}

// TestTriageSubmittedAudit checks the advisory.triage_submitted row of
// L1 (INV-LIFECYCLE-2, INV-INTAKE-4): its metadata keys, and that a
// refused submission (a honeypot trip, INV-INTAKE-1) writes no audit row.
func TestTriageSubmittedAudit(t *testing.T) {
	t.Parallel()
	f := newAdvFixture(t)
	svc := newIntake(t, f, &fakeClock{t: time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC)}, nil)
	ctx := context.Background()
	anon := app.Caller{IP: "203.0.113.9", UserAgent: "curl/8"}
	submitted := func(t *testing.T, c app.Caller, slug string) (*advisory.Advisory, auditRow) {
		t.Helper()
		rc, err := svc.Submit(ctx, c, app.Submission{Report: report(slug)})
		if err != nil {
			t.Fatal(err)
		}
		var a *advisory.Advisory
		f.exec(t, func(tx *postgres.DB) error {
			a, err = tx.AdvisoryByID(f.sys, rc.Ref)
			return err
		})
		rows := f.audits(t, a)
		if len(rows) == 0 || rows[0].Action != "advisory.triage_submitted" {
			t.Fatalf("audit %+v, want advisory.triage_submitted first", rows)
		}
		return a, rows[0]
	}
	for _, tc := range []struct {
		name, slug, project string
		caller              app.Caller
		authenticated       bool
	}{
		{"L1: anonymous report audited", "lantern", "lantern", anon, false},
		{"L1: signed-in report on unsorted audited", intake.UnsortedChoice, "unsorted", f.stranger, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, row := submitted(t, tc.caller, tc.slug)
			want := map[string]any{"advisory_id": string(a.AdvisoryID), "project_slug": tc.project,
				"authenticated": tc.authenticated, "unsorted": tc.project == "unsorted"}
			if diff := cmp.Diff(want, metaKeys(row.Metadata, want)); diff != "" {
				t.Errorf("advisory.triage_submitted metadata (-want +got):\n%s\nfull: %v", diff, row.Metadata)
			}
			if row.ActorID != tc.caller.UserID || row.IP != tc.caller.IP {
				t.Errorf("actor %d ip %q, want the reporter's", row.ActorID, row.IP)
			}
			if a.State != advisory.StateTriage || a.Kind != advisory.KindNative || a.Routing.NeedsAdminRouting != (tc.project == "unsorted") {
				t.Errorf("advisory %q %q routing %v", a.State, a.Kind, a.Routing.NeedsAdminRouting)
			}
		})
	}
	t.Run("L1: honeypot refused, no advisory and no audit row", func(t *testing.T) {
		before := f.counts(t)
		if _, err := svc.Submit(ctx, anon, app.Submission{Report: report("lantern"), Honeypot: "http://spam.example"}); err != nil {
			t.Fatal(err)
		}
		after := f.counts(t)
		if after.Advisories != before.Advisories || after.Audit != before.Audit || after.Honeypots != before.Honeypots+1 {
			t.Errorf("counts %+v → %+v", before, after)
		}
	})
}
