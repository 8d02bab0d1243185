package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/metrics"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// Every delivery the runner handles is one advisoryhub_celery_task_total
// and one duration observation, labelled with the task's stable name
// (operations.md §10): a success, a redelivery skipped because the job was
// already done (success: nothing failed, nothing will run again), a
// permanent failure, a transient failure (retry; failure on the last
// allowed delivery), and a kind nobody handles (failure, bounded label).
func TestRunnerRecordsJobMetrics(t *testing.T) {
	db := pgtest.New(t)
	prom := metrics.NewPrometheus()
	var emfOut bytes.Buffer
	emf := metrics.NewEMF(&emfOut, nil)
	r, err := jobs.NewRunner(jobs.RunnerConfig{DB: db, Logger: slog.New(slog.DiscardHandler), Redact: identity,
		Metrics: both{prom, emf}, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	const kindFail queue.Kind = "test.fail"
	r.HandleTx("publication.run", func(context.Context, *postgres.DB, queue.Message) error { return nil })
	r.Handle(kindFail, func(_ context.Context, m queue.Message) error {
		if string(m.Payload) == `"permanent"` {
			return queue.Permanent(errors.New("bad payload"))
		}
		return errors.New("transient")
	})
	ctx := context.Background()
	msg := func(id string, kind queue.Kind, payload string, attempt int) queue.Message {
		return queue.Message{ID: id, Queue: queue.Publish, Kind: kind, Payload: json.RawMessage(payload), Attempt: attempt}
	}
	type want struct {
		task, status string
		count        float64
	}
	series := func() map[[2]string]float64 {
		got := map[[2]string]float64{}
		mfs, err := prom.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != metrics.JobTotal {
				continue
			}
			for _, m := range mf.GetMetric() {
				var k [2]string
				for _, l := range m.GetLabel() {
					switch l.GetName() {
					case "task":
						k[0] = l.GetValue()
					case "status":
						k[1] = l.GetValue()
					}
				}
				got[k] = m.GetCounter().GetValue()
			}
		}
		return got
	}
	durations := func(task string) uint64 {
		t.Helper()
		h := prom.Registry()
		mfs, err := h.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != metrics.JobDuration {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == task {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
		return 0
	}

	for _, step := range []struct {
		name    string
		m       queue.Message
		wantErr bool
		want    want
	}{
		{"success", msg("m-1", "publication.run", `1`, 1), false, want{"publication.run_publication", "success", 1}},
		{"redelivery skipped", msg("m-1", "publication.run", `1`, 2), false, want{"publication.run_publication", "success", 2}},
		{"permanent failure", msg("m-2", kindFail, `"permanent"`, 1), false, want{"test.fail", "failure", 1}},
		{"transient failure", msg("m-3", kindFail, `"transient"`, 1), true, want{"test.fail", "retry", 1}},
		{"transient failure again", msg("m-3", kindFail, `"transient"`, 2), true, want{"test.fail", "retry", 2}},
		{"last delivery fails", msg("m-3", kindFail, `"transient"`, 3), true, want{"test.fail", "failure", 2}},
		{"unknown kind", msg("m-4", "no.such.kind", `1`, 1), false, want{"unknown", "failure", 1}},
		{"invalid message", queue.Message{ID: "m-5", Queue: "nowhere", Kind: "publication.run", Attempt: 1}, false, want{"unknown", "failure", 2}},
	} {
		before := series()
		err := r.Run(ctx, step.m)
		if (err != nil) != step.wantErr {
			t.Fatalf("%s: Run = %v", step.name, err)
		}
		after := series()
		k := [2]string{step.want.task, step.want.status}
		if after[k] != step.want.count {
			t.Fatalf("%s: %s{task=%q,status=%q} = %v, want %v (all: %v)", step.name, metrics.JobTotal, k[0], k[1], after[k], step.want.count, after)
		}
		// Exactly one series moved, by one.
		var moved float64
		for key, v := range after {
			moved += v - before[key]
		}
		if moved != 1 {
			t.Fatalf("%s: %v increments, want 1 (%v → %v)", step.name, moved, before, after)
		}
	}
	if got := durations("publication.run_publication"); got != 2 {
		t.Errorf("%d duration observations for publication.run_publication, want 2", got)
	}
	if got := durations("test.fail"); got != 4 {
		t.Errorf("%d duration observations for test.fail, want 4", got)
	}
	// Four series in all: publication success, test.fail failure and
	// retry, unknown failure.
	if n := len(series()); n != 4 {
		t.Errorf("%d %s series, want 4: %v", n, metrics.JobTotal, series())
	}

	// Inside Lambda the same measurements are EMF lines: one per delivery,
	// with the task and status as dimensions.
	lines := strings.Split(strings.TrimSpace(emfOut.String()), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d EMF lines, want 8:\n%s", len(lines), emfOut.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["task"] != "publication.run_publication" || first["status"] != "success" || first[metrics.JobTotal] != 1.0 {
		t.Fatalf("EMF line: %s", lines[0])
	}
	if _, ok := first[metrics.JobDuration].(float64); !ok {
		t.Fatalf("EMF line without a duration: %s", lines[0])
	}

	// A handler's panic reaches the transport (the in-memory queue
	// recovers and redelivers it): measured as a retry, not a success.
	r.Handle("test.panic", func(context.Context, queue.Message) error { panic("boom") })
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach the transport")
			}
		}()
		_ = r.Run(ctx, msg("m-6", "test.panic", `1`, 1))
	}()
	if got := series()[[2]string{"test.panic", "retry"}]; got != 1 {
		t.Fatalf("panicking job: %v", series())
	}
}

// Scheduled runs are tasks too (the original's beat tasks): one series
// each, success or failure, under the original's task name when it had
// one; an unknown job name runs nothing and records nothing.
func TestScheduledRunsRecordJobMetrics(t *testing.T) {
	prom := metrics.NewPrometheus()
	reg := jobs.NewRegistry(pgtest.New(t), slog.New(slog.DiscardHandler), identity, prom)
	reg.AddScheduled(jobs.Scheduled{Name: "publication-task-reaper", Every: time.Minute,
		Run: func(context.Context) (any, error) { return nil, nil }})
	reg.AddScheduled(jobs.Scheduled{Name: "outbox-sweep", Every: time.Minute,
		Run: func(context.Context) (any, error) { return nil, errors.New("no") }})
	ctx := context.Background()
	if _, err := reg.RunScheduled(ctx, "publication-task-reaper"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.RunScheduled(ctx, "outbox-sweep"); err == nil {
		t.Fatal("want the job's error")
	}
	if _, err := reg.RunScheduled(ctx, "nope"); err == nil {
		t.Fatal("want ErrUnknown")
	}
	rec := httptest.NewRecorder()
	prom.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{
		`advisoryhub_celery_task_total{status="success",task="publication.reap_stale_publication_tasks"} 1`,
		`advisoryhub_celery_task_total{status="failure",task="outbox-sweep"} 1`,
		`advisoryhub_celery_task_duration_seconds_count{task="outbox-sweep"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("no line %s", line)
		}
	}
	if strings.Contains(rec.Body.String(), `task="nope"`) {
		t.Error("an unknown job name was recorded")
	}
}

// A runner without a recorder records nothing and runs as before.
func TestRunnerWithoutMetrics(t *testing.T) {
	r, err := jobs.NewRunner(jobs.RunnerConfig{DB: pgtest.New(t), Logger: slog.New(slog.DiscardHandler), Redact: identity})
	if err != nil {
		t.Fatal(err)
	}
	r.HandleTx(kindIncrement, func(context.Context, *postgres.DB, queue.Message) error { return nil })
	if err := r.Run(context.Background(), queue.Message{ID: "x", Queue: queue.Notify, Kind: kindIncrement, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestTaskNames(t *testing.T) {
	for kind, want := range map[queue.Kind]string{
		"publication.run":       "publication.run_publication",
		"ghsa.process_webhook":  "ghsa.tasks.process_webhook",
		"invitation.send_email": "notifications.send_invitation_email",
		"test.increment":        "test.increment",
	} {
		if got := jobs.TaskName(kind); got != want {
			t.Errorf("TaskName(%q) = %q, want %q", kind, got, want)
		}
	}
}

// both records into two recorders.
type both [2]jobs.Metrics

func (b both) Job(task, status string, d time.Duration) {
	b[0].Job(task, status, d)
	b[1].Job(task, status, d)
}
