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

	"github.com/eclipse-csi/advisoryhub/shared/metrics"
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
	db          *postgres.DB
	logger      *slog.Logger
	redact      func(string) string
	metrics     Metrics
	maxAttempts int
	handlers    map[queue.Kind]entry
}

// Metrics receives one measurement per delivery the runner handles (the
// advisoryhub_celery_task_* series, operations.md §10). metrics.Prometheus
// and metrics.EMF implement it.
type Metrics interface {
	Job(task, status string, d time.Duration)
}

// RunnerConfig wires a Runner.
type RunnerConfig struct {
	DB     *postgres.DB
	Logger *slog.Logger
	Redact func(string) string
	// Metrics records each delivery's task, status and duration; nil
	// records nothing.
	Metrics Metrics
	// MaxAttempts is the delivery count at which the transport gives up
	// on a message (the in-memory queue's MaxAttempts, the SQS redrive
	// policy's maxReceiveCount). A transient failure of that delivery
	// counts as status failure, earlier ones as retry. 0: unknown, every
	// transient failure counts as retry.
	MaxAttempts int
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
	m := cfg.Metrics
	if m == nil {
		m = noMetrics{}
	}
	return &Runner{db: cfg.DB, logger: cfg.Logger, redact: cfg.Redact, metrics: m, maxAttempts: cfg.MaxAttempts,
		handlers: map[queue.Kind]entry{}}, nil
}

type noMetrics struct{}

func (noMetrics) Job(string, string, time.Duration) {}

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
// are recorded in failed_jobs and acknowledged. Every delivery is measured
// once (see record), a handler's panic too: the in-memory transport
// recovers it and redelivers, so it counts as a transient failure.
func (r *Runner) Run(ctx context.Context, m queue.Message) error {
	start := time.Now()
	permanent, panicked := false, true
	defer func() {
		if panicked {
			r.record(m, start, errPanicked, false)
		}
	}()
	err := r.run(ctx, m, start, &permanent)
	panicked = false
	r.record(m, start, err, permanent)
	return err
}

var errPanicked = errors.New("job handler panicked")

// run is Run's body, for a delivery that started at start; it sets
// *permanent when the delivery was dead-lettered.
func (r *Runner) run(ctx context.Context, m queue.Message, start time.Time, permanent *bool) error {
	ctx = postgres.AsSystem(ctx) // jobs run as the trusted system principal and re-check authorization themselves
	log := r.logger.With("message_id", m.ID, "job_kind", string(m.Kind), "attempt", m.Attempt)
	if err := m.Validate(); err != nil {
		*permanent = true
		r.DeadLetter(ctx, m, queue.Permanent(err))
		return nil
	}
	e, ok := r.handlers[m.Kind]
	if !ok {
		*permanent = true
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
		*permanent = true
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

// taskNames are the task label values of our job kinds: the original's
// Celery task names (operations.md §9). The series names are the
// original's (advisoryhub_celery_task_*, kept for the alert rules), and
// the dashboards built on them select on these label values too
// (task="publication.run_publication"). Labelling with our own kind
// strings would empty those panels, and would tie the label to a string
// we may rename; the table keeps both stable. A kind missing from it is
// labelled with its own string (a new job has no original name to keep).
var taskNames = map[queue.Kind]string{
	"publication.run":       "publication.run_publication",
	"ghsa.process_webhook":  "ghsa.tasks.process_webhook",
	"invitation.send_email": "notifications.send_invitation_email",
}

// unknownTask labels a delivery of a kind no handler is registered for
// (or an invalid message): the kind is data from the queue, and label
// values must stay a bounded set.
const unknownTask = "unknown"

// TaskName is the task label of kind's deliveries.
func TaskName(kind queue.Kind) string {
	if n, ok := taskNames[kind]; ok {
		return n
	}
	return string(kind)
}

// record measures one delivery: one advisoryhub_celery_task_total and one
// duration observation, labelled with the task name and a status —
// success when the job is done (a redelivery of a job already done is
// skipped without running the handler again, and that is success too:
// nothing failed and nothing will be retried, like an entry-guarded
// Celery task returning early); failure when it was dead-lettered
// (permanent failure, invalid message, unknown kind) or failed its last
// allowed delivery; retry when the transport will deliver it again.
// DeadLetter, which the in-memory transport calls after that last
// delivery, records nothing more.
func (r *Runner) record(m queue.Message, start time.Time, err error, permanent bool) {
	task := unknownTask
	if _, ok := r.handlers[m.Kind]; ok && m.Validate() == nil {
		task = TaskName(m.Kind)
	}
	status := metrics.JobSuccess
	switch {
	case permanent:
		status = metrics.JobFailure
	case err != nil && r.maxAttempts > 0 && m.Attempt >= r.maxAttempts:
		status = metrics.JobFailure
	case err != nil:
		status = metrics.JobRetry
	}
	r.metrics.Job(task, status, time.Since(start))
}
