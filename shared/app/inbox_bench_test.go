package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// BenchmarkInbox reads the admin inbox over the list benchmark's 10,000
// advisories (2,000 in triage, 2,000 published), with workflow queues of
// realistic size: one published advisory in ten awaiting re-publication,
// one draft in fifty submitted for review with a CVE request.
func BenchmarkInbox(b *testing.B) {
	f := newAdvFixture(b)
	populateList(b, f)
	f.exec(b, func(tx *postgres.DB) error {
		for _, s := range []string{
			`UPDATE advisories SET republish_required = true WHERE state = 'published' AND id % 10 = 0`,
			`INSERT INTO advisory_versions (advisory_id, version, payload, editor_id)
			 SELECT id, 1, '{}'::jsonb, NULL FROM advisories WHERE state = 'draft' AND id % 50 = 0`,
			`INSERT INTO review_tasks (advisory_id, version_id, status)
			 SELECT v.advisory_id, v.id, 'open' FROM advisory_versions v`,
			`INSERT INTO cve_requests (advisory_id, status) SELECT advisory_id, 'queued' FROM advisory_versions`,
			`ANALYZE`,
		} {
			if _, err := tx.Exec(f.sys, s); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := context.Background()
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
