// Package memqueue is the in-process job transport of the local shim: one
// buffered channel and a pool of workers per logical queue, with redelivery
// after a failure and a dead-letter hook once a message runs out of
// attempts. It behaves like SQS where it matters to handlers: at-least-once
// delivery and an Attempt count.
package memqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// Config configures a Queue.
type Config struct {
	// Handler handles every message, whatever its queue (the jobs runner).
	Handler queue.Handler
	// OnDead is called with a message that failed MaxAttempts times.
	OnDead func(ctx context.Context, m queue.Message, err error)
	// MaxAttempts bounds deliveries of one message (default 5).
	MaxAttempts int
	// Backoff is the delay before redelivery attempt n+1 (default
	// exponential from 100 ms, capped at 30 s).
	Backoff func(attempt int) time.Duration
	// Workers per queue (default 2).
	Workers int
	Logger  *slog.Logger
}

// Queue is the in-memory transport. It implements queue.Sender.
type Queue struct {
	cfg     Config
	chans   map[queue.Name]chan queue.Message
	mu      sync.Mutex
	closed  bool
	pending sync.WaitGroup // messages accepted and not yet finished (incl. waiting retries)
	workers sync.WaitGroup
	stop    context.CancelFunc
	ctx     context.Context
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("memqueue: closed")

// New starts the workers.
func New(cfg Config) (*Queue, error) {
	if cfg.Handler == nil || cfg.OnDead == nil || cfg.Logger == nil {
		return nil, errors.New("memqueue: Handler, OnDead and Logger are required")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration {
			d := 100 * time.Millisecond << min(n-1, 9)
			return min(d, 30*time.Second)
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	ctx, stop := context.WithCancel(context.Background())
	q := &Queue{cfg: cfg, chans: map[queue.Name]chan queue.Message{}, ctx: ctx, stop: stop}
	for _, name := range queue.Names() {
		ch := make(chan queue.Message, 1024)
		q.chans[name] = ch
		for range cfg.Workers {
			q.workers.Add(1)
			go q.work(ch)
		}
	}
	return q, nil
}

// Send enqueues m for delivery (Attempt 1).
func (q *Queue) Send(ctx context.Context, m queue.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.pending.Add(1)
	q.mu.Unlock()
	m.Attempt = 1
	select {
	case q.chans[m.Queue] <- m:
		return nil
	case <-ctx.Done():
		q.pending.Done()
		return fmt.Errorf("memqueue: send %s: %w", m.ID, ctx.Err())
	}
}

func (q *Queue) work(ch chan queue.Message) {
	defer q.workers.Done()
	for {
		select {
		case <-q.ctx.Done():
			return
		case m := <-ch:
			q.deliver(m)
		}
	}
}

func (q *Queue) deliver(m queue.Message) {
	err := q.safeHandle(m)
	if err == nil {
		q.pending.Done()
		return
	}
	if m.Attempt >= q.cfg.MaxAttempts {
		q.cfg.OnDead(q.ctx, m, err)
		q.pending.Done()
		return
	}
	next := m
	next.Attempt++
	time.AfterFunc(q.cfg.Backoff(m.Attempt), func() {
		select {
		case q.chans[next.Queue] <- next:
		case <-q.ctx.Done():
			// Shut down before the redelivery: record it rather than lose it.
			q.cfg.OnDead(context.WithoutCancel(q.ctx), next, fmt.Errorf("shut down before redelivery; last error: %w", err))
			q.pending.Done()
		}
	})
}

func (q *Queue) safeHandle(m queue.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("memqueue: handler panicked: %v", r)
			q.cfg.Logger.Error("job handler panicked", "message_id", m.ID, "job_kind", string(m.Kind), "panic", fmt.Sprint(r))
		}
	}()
	return q.cfg.Handler(q.ctx, m)
}

// Close stops accepting messages, waits until every accepted message has
// been handled (including redeliveries) or ctx ends, then stops the workers.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.pending.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("memqueue: drain: %w", ctx.Err())
	}
	q.stop()
	q.workers.Wait()
	return err
}
