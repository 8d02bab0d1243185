// Package jobs maps queued job kinds to their handlers, runs named scheduled
// jobs, and holds the operator commands.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// TxHandler does its whole effect in the given transaction. The runner writes
// the message's receipt in the same transaction, so the effect happens
// exactly once however often the message is delivered.
type TxHandler func(ctx context.Context, tx *postgres.DB, m queue.Message) error

// Handler is for jobs whose effect leaves the database (a git push, an
// email). It must be idempotent itself — typically an entry guard on a task
// row; the runner records a receipt after it succeeds so that later
// redeliveries are skipped without calling it.
type Handler func(ctx context.Context, m queue.Message) error

type entry struct {
	tx    TxHandler
	plain Handler
}

// Runner dispatches delivered messages to handlers. It is a queue.Handler
// (see Run) for both transports.
type Runner struct {
	db       *postgres.DB
	logger   *slog.Logger
	redact   func(string) string
	handlers map[queue.Kind]entry
}

// RunnerConfig wires a Runner.
type RunnerConfig struct {
	DB     *postgres.DB
	Logger *slog.Logger
	Redact func(string) string
}

// NewRunner builds a Runner with no handlers.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	var errs []error
	if cfg.DB == nil {
		errs = append(errs, errors.New("jobs: DB is required"))
	}
	if cfg.Logger == nil {
		errs = append(errs, errors.New("jobs: Logger is required"))
	}
	if cfg.Redact == nil {
		errs = append(errs, errors.New("jobs: Redact is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Runner{db: cfg.DB, logger: cfg.Logger, redact: cfg.Redact, handlers: map[queue.Kind]entry{}}, nil
}

// HandleTx registers a transactional handler for kind.
func (r *Runner) HandleTx(kind queue.Kind, h TxHandler) { r.register(kind, entry{tx: h}) }

// Handle registers a plain (self-idempotent) handler for kind.
func (r *Runner) Handle(kind queue.Kind, h Handler) { r.register(kind, entry{plain: h}) }

func (r *Runner) register(kind queue.Kind, e entry) {
	if _, dup := r.handlers[kind]; dup {
		panic(fmt.Sprintf("jobs: handler for %q registered twice", kind)) // programming error at boot
	}
	r.handlers[kind] = e
}

// Kinds lists the registered job kinds.
func (r *Runner) Kinds() []queue.Kind {
	out := make([]queue.Kind, 0, len(r.handlers))
	for k := range r.handlers {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

var errDuplicate = errors.New("duplicate delivery")

// Run handles one delivery. A nil return acknowledges the message; an error
// asks the transport to redeliver it. Permanent failures and unknown kinds
// are recorded in failed_jobs and acknowledged.
func (r *Runner) Run(ctx context.Context, m queue.Message) error {
	ctx = postgres.AsSystem(ctx) // jobs run as the trusted system principal and re-check authorization themselves
	log := r.logger.With("message_id", m.ID, "job_kind", string(m.Kind), "attempt", m.Attempt)
	start := time.Now()
	if err := m.Validate(); err != nil {
		r.DeadLetter(ctx, m, queue.Permanent(err))
		return nil
	}
	e, ok := r.handlers[m.Kind]
	if !ok {
		r.DeadLetter(ctx, m, queue.Permanent(fmt.Errorf("no handler for job kind %q", m.Kind)))
		return nil
	}
	done, err := r.db.HasReceipt(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("job %s: check receipt: %w", m.ID, err)
	}
	if done {
		log.InfoContext(ctx, "job already handled; skipping redelivery")
		return nil
	}
	if e.tx != nil {
		err = r.db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
			fresh, err := tx.InsertReceipt(ctx, m.ID, string(m.Kind))
			if err != nil {
				return err
			}
			if !fresh {
				return errDuplicate
			}
			return e.tx(ctx, tx, m)
		})
		if errors.Is(err, errDuplicate) {
			log.InfoContext(ctx, "job handled concurrently by another delivery; skipping")
			return nil
		}
	} else {
		err = e.plain(ctx, m)
		if err == nil {
			if _, rerr := r.db.InsertReceipt(ctx, m.ID, string(m.Kind)); rerr != nil {
				// The effect happened; without a receipt a redelivery calls
				// the (idempotent) handler again. Log, don't fail.
				log.WarnContext(ctx, "job receipt not recorded", "error", r.redact(rerr.Error()))
			}
		}
	}
	if err == nil {
		log.InfoContext(ctx, "job done", "duration_ms", time.Since(start).Milliseconds())
		return nil
	}
	if queue.IsPermanent(err) {
		r.DeadLetter(ctx, m, err)
		return nil
	}
	log.WarnContext(ctx, "job failed; will be redelivered", "error", r.redact(err.Error()))
	return err
}

// DeadLetter records m as failed for operators. The in-memory transport
// calls it when a message runs out of attempts; SQS moves such messages to
// the dead-letter queue by its redrive policy instead.
func (r *Runner) DeadLetter(ctx context.Context, m queue.Message, cause error) {
	msg := r.redact(cause.Error())
	if len(msg) > 8000 {
		msg = msg[:8000]
	}
	r.logger.ErrorContext(ctx, "job failed for good", "message_id", m.ID, "job_kind", string(m.Kind), "attempt", m.Attempt, "error", msg)
	err := r.db.InsertFailedJob(postgres.AsSystem(ctx), postgres.FailedJob{
		MessageID: m.ID, Queue: string(m.Queue), Kind: string(m.Kind), Payload: m.Payload, Attempts: m.Attempt, LastError: msg,
	})
	if err != nil {
		r.logger.ErrorContext(ctx, "failed job not recorded", "message_id", m.ID, "error", r.redact(err.Error()))
	}
}
