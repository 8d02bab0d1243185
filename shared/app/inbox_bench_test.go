package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// BenchmarkInbox reads the admin inbox over the list benchmark's 10,000
// advisories (2,000 in triage, 2,000 published), with workflow queues of
// realistic size: one published advisory in seven awaiting
// re-publication, one in eleven with a failed export, one draft in
// forty-nine submitted for review with a CVE request.
func BenchmarkInbox(b *testing.B) {
	f := newAdvFixture(b)
	populateList(b, f)
	f.exec(b, func(tx *postgres.DB) error {
		for _, s := range []string{
			`UPDATE advisories SET republish_required = true WHERE state = 'published' AND id % 7 = 0`,
			`INSERT INTO advisory_versions (advisory_id, version, payload, editor_id)
			 SELECT id, 1, '{}'::jsonb, NULL FROM advisories WHERE (state = 'draft' AND id % 49 = 0) OR (state = 'published' AND id % 11 = 0)`,
			`INSERT INTO review_tasks (advisory_id, version_id, status)
			 SELECT v.advisory_id, v.id, 'open' FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id WHERE a.state = 'draft'`,
			`INSERT INTO cve_requests (advisory_id, status)
			 SELECT a.id, 'queued' FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id WHERE a.state = 'draft'`,
			`INSERT INTO publication_tasks (advisory_id, version_id, status, last_error)
			 SELECT v.advisory_id, v.id, 'failed', 'git: push rejected' FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id WHERE a.state = 'published'`,
			`ANALYZE`,
		} {
			if _, err := tx.Exec(f.sys, s); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := context.Background()
	in, err := f.svc.Inbox(ctx, f.admin, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []postgres.InboxCategory{postgres.InboxReview, postgres.InboxCVE, postgres.InboxPublish} {
		if in.Counts[c] == 0 || len(in.Items[c]) == 0 {
			b.Fatalf("queue %s empty (%v): the benchmark would measure nothing", c, in.Counts)
		}
	}
	b.Logf("queue sizes %v", in.Counts)
	run := func(category string, want int) func(b *testing.B) {
		return func(b *testing.B) {
			var lat latencies
			for b.Loop() {
				start := time.Now()
				in, err := f.svc.Inbox(ctx, f.admin, category)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if n := in.Counts[postgres.InboxTriage]; n != want {
					b.Fatalf("triage count %d, want %d", n, want)
				}
			}
			lat.report(b)
		}
	}
	b.Run("every-queue", run("", 2000))
	b.Run("review-only", run("review", 2000))
}
