package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/memqueue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue/sqstest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const kindIncrement queue.Kind = "test.increment"

func identity(s string) string { return s }

// transport is one job transport under test, wired to a runner.
type transport struct {
	sender queue.Sender
	// drain waits until every message sent so far has been handled.
	drain func(t *testing.T)
}

// harness is a database, a runner whose test handler counts its effect in
// a table (so exactly-once is checked in the database, not in memory), and
// an outbox sending through the transport.
type harness struct {
	db     *postgres.DB
	runner *jobs.Runner
	outbox *postgres.Outbox
	tr     transport
	calls  atomic.Int64
}

func newHarness(t *testing.T, mk func(t *testing.T, h *harness) transport, wrap func(queue.Sender) queue.Sender) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{db: pgtest.New(t)}
	if _, err := h.db.Exec(ctx, `CREATE TABLE test_effects (message_id text NOT NULL, n int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	var err error
	h.runner, err = jobs.NewRunner(jobs.RunnerConfig{DB: h.db, Logger: logger, Redact: identity})
	if err != nil {
		t.Fatal(err)
	}
	h.runner.HandleTx(kindIncrement, func(ctx context.Context, tx *postgres.DB, m queue.Message) error {
		h.calls.Add(1)
		_, err := tx.Exec(ctx, `INSERT INTO test_effects (message_id, n) VALUES ($1, 1)`, m.ID)
		return err
	})
	h.tr = mk(t, h)
	sender := h.tr.sender
	if wrap != nil {
		sender = wrap(sender)
	}
	h.outbox, err = postgres.NewOutbox(postgres.OutboxConfig{DB: h.db, Sender: sender, Logger: logger, Redact: identity})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) effects(t *testing.T) int {
	t.Helper()
	var n int
	if err := h.db.QueryRow(context.Background(), `SELECT count(*) FROM test_effects`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) unsent(t *testing.T) (n int, lastError string) {
	t.Helper()
	err := h.db.QueryRow(context.Background(),
		`SELECT count(*), COALESCE(max(last_error), '') FROM outbox WHERE sent_at IS NULL`).Scan(&n, &lastError)
	if err != nil {
		t.Fatal(err)
	}
	return n, lastError
}

// enqueue commits (or, with fail, rolls back) a transaction that writes a job.
func (h *harness) enqueue(t *testing.T, fail bool) (string, error) {
	t.Helper()
	var id string
	err := h.db.InTx(context.Background(), pgx.TxOptions{}, func(tx *postgres.DB) error {
		var err error
		if id, err = tx.Enqueue(context.Background(), queue.Notify, kindIncrement, map[string]int{"n": 1}); err != nil {
			return err
		}
		if fail {
			return errors.New("the change failed")
		}
		return nil
	})
	return id, err
}

func memTransport(t *testing.T, h *harness) transport {
	mq, err := memqueue.New(memqueue.Config{
		Handler: h.runner.Run, OnDead: h.runner.DeadLetter, MaxAttempts: 3,
		Backoff: func(int) time.Duration { return time.Millisecond }, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = mq.Close(context.Background())
		}
	})
	return transport{sender: mq, drain: func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		closed = true
		if err := mq.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}}
}

func sqsTransport(t *testing.T, h *harness) transport {
	endpoint := sqstest.Start(t)
	client := sqstest.Client(t, endpoint)
	ctx, cancel := context.WithCancel(context.Background())
	urls, err := sqsqueue.EnsureQueues(ctx, client, sqstest.Prefix(t), 3, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	flat := map[queue.Name]string{}
	for n, u := range urls {
		flat[n] = u.Queue
	}
	s, err := sqsqueue.New(sqsqueue.Config{Client: client, URLs: flat})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = s.Poll(ctx, queue.Notify, h.runner.Run) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return transport{sender: s, drain: func(t *testing.T) {
		// Drained when the queue holds no visible and no in-flight message.
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
				QueueUrl: aws.String(flat[queue.Notify]),
				AttributeNames: []types.QueueAttributeName{
					types.QueueAttributeNameApproximateNumberOfMessages,
					types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("queue not drained: %v", out.Attributes)
			}
			<-time.After(50 * time.Millisecond)
		}
	}}
}

var transports = []struct {
	name string
	mk   func(t *testing.T, h *harness) transport
}{
	{"memory", memTransport},
	{"sqs", sqsTransport},
}

// INV-PUB-5: a job written in a transaction that rolls back is never
// delivered, not even by the sweep.
func TestRolledBackJobIsNeverDelivered(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.mk, nil)
			if _, err := h.enqueue(t, true); err == nil {
				t.Fatal("enqueue in a failing transaction: want error")
			}
			res, err := h.outbox.Sweep(context.Background(), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			h.tr.drain(t)
			if res.Sent != 0 || h.effects(t) != 0 || h.calls.Load() != 0 {
				t.Fatalf("rolled-back job delivered: sweep sent %d, effects %d, handler calls %d", res.Sent, h.effects(t), h.calls.Load())
			}
		})
	}
}

// A committed job is delivered after commit and handled exactly once, even
// when the transport delivers it twice (at-least-once delivery).
func TestCommittedJobHandledExactlyOnceWhenDeliveredTwice(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.mk, nil)
			id, err := h.enqueue(t, false)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := h.unsent(t); n != 0 {
				t.Fatalf("%d outbox rows unsent after commit; want them dispatched", n)
			}
			// Redeliver the same message, as SQS may.
			dup := queue.Message{ID: id, Queue: queue.Notify, Kind: kindIncrement, Payload: []byte(`{"n":1}`)}
			if err := h.tr.sender.Send(context.Background(), dup); err != nil {
				t.Fatal(err)
			}
			// And let a sweep that raced the dispatcher send it a third time.
			if _, err := h.db.Exec(context.Background(), `UPDATE outbox SET sent_at = NULL`); err != nil {
				t.Fatal(err)
			}
			if res, err := h.outbox.Sweep(context.Background(), 0, 100); err != nil || res.Sent != 1 {
				t.Fatalf("sweep: %+v, %v", res, err)
			}
			h.tr.drain(t)
			if got := h.effects(t); got != 1 {
				t.Fatalf("effect applied %d times, want exactly 1", got)
			}
			var receipts int
			if err := h.db.QueryRow(context.Background(), `SELECT count(*) FROM job_receipts WHERE message_id = $1`, id).Scan(&receipts); err != nil || receipts != 1 {
				t.Fatalf("receipts for %s = %d (%v), want 1", id, receipts, err)
			}
		})
	}
}

// failingSender fails its first n sends, as a queue outage would.
type failingSender struct {
	inner queue.Sender
	left  atomic.Int64
}

func (f *failingSender) Send(ctx context.Context, m queue.Message) error {
	if f.left.Add(-1) >= 0 {
		return fmt.Errorf("send %s: queue unavailable", m.ID)
	}
	return f.inner.Send(ctx, m)
}

// An outbox row whose send failed after commit stays unsent, with the
// error recorded, and the sweep sends it; the job then runs once.
func TestSweepResendsFailedSend(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.mk, func(s queue.Sender) queue.Sender {
				f := &failingSender{inner: s}
				f.left.Store(1)
				return f
			})
			if _, err := h.enqueue(t, false); err != nil {
				t.Fatalf("a failed send must not fail the committed change: %v", err)
			}
			n, lastErr := h.unsent(t)
			if n != 1 || lastErr == "" {
				t.Fatalf("after a failed send: %d unsent rows, last_error %q; want 1 with the error", n, lastErr)
			}
			// Too young for the sweep: a live dispatcher may still own it.
			if res, err := h.outbox.Sweep(context.Background(), time.Hour, 100); err != nil || res.Sent != 0 {
				t.Fatalf("sweep of young rows: %+v, %v", res, err)
			}
			res, err := h.outbox.Sweep(context.Background(), 0, 100)
			if err != nil || res.Sent != 1 {
				t.Fatalf("sweep: %+v, %v", res, err)
			}
			h.tr.drain(t)
			if n, _ := h.unsent(t); n != 0 {
				t.Fatalf("%d rows still unsent after the sweep", n)
			}
			if got := h.effects(t); got != 1 {
				t.Fatalf("effect applied %d times, want 1", got)
			}
		})
	}
}

// Poison messages end in failed_jobs (memory transport): a permanent error
// at once, a transient one after the last attempt, and an unknown kind.
func TestPoisonMessagesAreRecorded(t *testing.T) {
	h := newHarness(t, memTransport, nil)
	h.runner.Handle("test.permanent", func(context.Context, queue.Message) error {
		return queue.Permanent(errors.New("payload names no task"))
	})
	var transient atomic.Int64
	h.runner.Handle("test.transient", func(context.Context, queue.Message) error {
		transient.Add(1)
		return errors.New("remote down")
	})
	ctx := context.Background()
	for i, k := range []queue.Kind{"test.permanent", "test.transient", "test.nobody"} {
		m := queue.Message{ID: fmt.Sprintf("m%d", i), Queue: queue.Publish, Kind: k, Payload: []byte(`{}`)}
		if err := h.tr.sender.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	h.tr.drain(t)
	list, err := h.db.ListFailedJobs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]postgres.FailedJob{}
	for _, f := range list {
		got[f.Kind] = f
	}
	if f := got["test.permanent"]; f.Attempts != 1 || f.LastError == "" {
		t.Errorf("permanent failure: %+v; want recorded after 1 attempt", f)
	}
	if f := got["test.transient"]; f.Attempts != 3 || transient.Load() != 3 {
		t.Errorf("transient failure: %+v after %d calls; want recorded after 3 attempts", f, transient.Load())
	}
	if f := got["test.nobody"]; f.MessageID != "m2" {
		t.Errorf("unknown kind not recorded: %+v", f)
	}
}

// Poison messages on SQS reach the dead-letter queue by the redrive policy.
func TestPoisonMessageReachesSQSDeadLetterQueue(t *testing.T) {
	endpoint := sqstest.Start(t)
	client := sqstest.Client(t, endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	urls, err := sqsqueue.EnsureQueues(ctx, client, sqstest.Prefix(t), 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	flat := map[queue.Name]string{}
	for n, u := range urls {
		flat[n] = u.Queue
	}
	s, err := sqsqueue.New(sqsqueue.Config{Client: client, URLs: flat})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, memTransport, nil)
	h.runner.Handle("test.broken", func(context.Context, queue.Message) error { return errors.New("always fails") })
	if err := s.Send(ctx, queue.Message{ID: "poison-1", Queue: queue.Similarity, Kind: "test.broken"}); err != nil {
		t.Fatal(err)
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Poll(pollCtx, queue.Similarity, h.runner.Run) }()
	defer func() { stopPoll(); <-done }()
	for {
		n, err := sqsqueue.DLQDepth(ctx, client, urls[queue.Similarity].DLQ)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("poison message never reached the dead-letter queue")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
