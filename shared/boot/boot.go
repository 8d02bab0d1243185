// Package boot builds the object graph from a Config. Only boot knows the
// whole graph; the function mains and the local shim call it once per cold
// start.
package boot

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/awssecrets"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/metrics"
	"github.com/eclipse-csi/advisoryhub/shared/pgembed"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/memqueue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
	"github.com/eclipse-csi/advisoryhub/shared/redact"
	"github.com/eclipse-csi/advisoryhub/shared/webhook"
)

// Options are the choices that differ between the Lambda functions and the
// local shim.
type Options struct {
	Logger *slog.Logger
	// EmbeddedDir, when DATABASE_URL is unset, is where a private PostgreSQL
	// cluster is started (the local shim). Empty: DATABASE_URL is required.
	EmbeddedDir string
	// Migrate applies pending migrations at start (local shim). In the cloud
	// a one-off "migrate" command runs before new versions take traffic.
	Migrate bool
	// CreateQueues creates the SQS queues (with dead-letter queues) when
	// QUEUE_BACKEND=sqs and no queue URLs are configured: LocalStack/moto.
	CreateQueues bool
}

// App is the built object graph.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	DB       *postgres.DB
	Outbox   *postgres.Outbox
	Runner   *jobs.Runner
	Registry *jobs.Registry
	Sender   queue.Sender
	Webhooks *app.Webhooks
	// Limiter is the PostgreSQL rate limiter; Intake the public report
	// service. Both are shared by the web handler and the scheduled
	// sweeps that prune their tables.
	Limiter *ratelimit.Limiter
	Intake  *app.Intake
	// Publications are the publication use cases: the web's publish and
	// retry, the publish worker's publication.run handler and the reaper.
	Publications *app.Publications
	// Metrics is the process's one recorder: the job runner's task series
	// and the web's request series (served at /metrics outside Lambda).
	Metrics metrics.Recorder

	mem     *memqueue.Queue
	sqs     *sqsqueue.Sender
	cluster *pgembed.Cluster
}

// Redact is the one secret scrubber every component uses (INV-SECRET-1).
func Redact(s string) string { return redact.String(s) }

// New builds the App.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	if opts.Logger == nil {
		return nil, errors.New("boot: Logger is required")
	}
	a := &App{Config: cfg, Logger: opts.Logger}
	defer func() {
		if err != nil {
			a.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := a.resolveSecrets(ctx); err != nil {
		return nil, err
	}
	dbURL := a.Config.DB.URL.Value()
	if dbURL == "" {
		if opts.EmbeddedDir == "" {
			return nil, errors.New("boot: DATABASE_URL is required")
		}
		if dbURL, err = a.startEmbedded(ctx, opts.EmbeddedDir); err != nil {
			return nil, err
		}
	}
	if a.DB, err = postgres.Open(ctx, dbURL, postgres.Options{MaxConns: cfg.DB.MaxConns}); err != nil {
		return nil, err
	}
	if opts.Migrate {
		res, err := a.DB.Migrate(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			a.Logger.InfoContext(ctx, "migration applied", "version", r.Version, "source", filepath.Base(r.Source))
		}
	}
	if err := a.ensureUnsortedProject(ctx, opts.Migrate); err != nil {
		return nil, err
	}
	a.Metrics = newMetrics(cfg)
	if a.Runner, err = jobs.NewRunner(jobs.RunnerConfig{DB: a.DB, Logger: a.Logger, Redact: Redact,
		Metrics: a.Metrics, MaxAttempts: cfg.Jobs.MaxAttempts}); err != nil {
		return nil, err
	}
	if err := a.buildSender(ctx, opts); err != nil {
		return nil, err
	}
	if a.Outbox, err = postgres.NewOutbox(postgres.OutboxConfig{DB: a.DB, Sender: a.Sender, Logger: a.Logger, Redact: Redact}); err != nil {
		return nil, err
	}
	if a.Webhooks, err = app.NewWebhooks(a.DB); err != nil {
		return nil, err
	}
	a.Runner.HandleTx(app.KindProcessWebhook, a.Webhooks.Process)
	if a.Limiter, err = ratelimit.New(ratelimit.Config{DB: a.DB, Enabled: cfg.RateLimit.Enabled}); err != nil {
		return nil, err
	}
	if a.Intake, err = app.NewIntake(app.IntakeConfig{DB: a.DB, ALTCHAKey: []byte(a.Config.Intake.ALTCHAKey.Value())}); err != nil {
		return nil, err
	}
	a.Registry = jobs.NewRegistry(a.DB, a.Logger, Redact, a.Metrics)
	a.registerJobs()
	if err := a.buildPublications(); err != nil {
		return nil, err
	}
	return a, nil
}

// newMetrics is the recorder of this process: CloudWatch EMF lines on
// stdout inside Lambda, where nothing can be scraped; a Prometheus
// registry otherwise (the web serves it at /metrics, so in the local shim
// the job series appear beside the request series).
func newMetrics(cfg config.Config) metrics.Recorder {
	if cfg.Lambda {
		return metrics.NewEMF(os.Stdout, nil)
	}
	return metrics.NewPrometheus()
}

// resolveSecrets replaces every secret given as a Secrets Manager or SSM ARN
// by its value, once per cold start. Errors name the variable, never a value.
func (a *App) resolveSecrets(ctx context.Context) error {
	var r *awssecrets.Resolver
	for name, s := range a.Config.Secrets() {
		if !s.IsRef() {
			continue
		}
		if r == nil {
			var err error
			if r, err = awssecrets.New(ctx, a.Config.AWS.Region, a.Config.AWS.Endpoint); err != nil {
				return err
			}
		}
		v, err := r.Resolve(ctx, s.Value())
		if err == nil && name == "DATABASE_URL" {
			v, err = awssecrets.DatabaseURL(v)
		}
		if err != nil {
			return fmt.Errorf("boot: %s: %w", name, err)
		}
		*s = config.NewSecret(v)
	}
	return nil
}

func (a *App) startEmbedded(ctx context.Context, dir string) (string, error) {
	c, err := pgembed.Start(ctx, pgembed.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		return "", err
	}
	a.cluster = c
	a.Logger.InfoContext(ctx, "embedded PostgreSQL running", "dir", c.Dir())
	return c.EnsureDatabase(ctx, "advisoryhub", "advisoryhub")
}

func (a *App) buildSender(ctx context.Context, opts Options) error {
	switch a.Config.Queue.Backend {
	case "memory":
		mq, err := memqueue.New(memqueue.Config{
			Handler: a.Runner.Run, OnDead: a.Runner.DeadLetter,
			MaxAttempts: a.Config.Jobs.MaxAttempts, Logger: a.Logger,
		})
		if err != nil {
			return err
		}
		a.mem, a.Sender = mq, mq
		return nil
	case "sqs":
		client, err := sqsqueue.NewClient(ctx, a.Config.AWS.Region, a.Config.AWS.Endpoint)
		if err != nil {
			return err
		}
		urls := map[queue.Name]string{}
		for _, n := range queue.Names() {
			if u := a.Config.Queue.URLs[string(n)]; u != "" {
				urls[n] = u
			}
		}
		if len(urls) == 0 && opts.CreateQueues {
			made, err := sqsqueue.EnsureQueues(ctx, client, a.Config.Queue.Prefix, 5, 60*time.Second)
			if err != nil {
				return err
			}
			for n, u := range made {
				urls[n] = u.Queue
			}
		}
		s, err := sqsqueue.New(sqsqueue.Config{Client: client, URLs: urls})
		if err != nil {
			return err
		}
		a.sqs, a.Sender = s, s
		return nil
	}
	return fmt.Errorf("boot: unknown queue backend %q", a.Config.Queue.Backend)
}

// registerJobs registers every scheduled job and operator command that
// exists. Later features add theirs here.
func (a *App) registerJobs() {
	a.Registry.AddScheduled(jobs.Scheduled{
		Name:  "outbox-sweep",
		Every: a.Config.Jobs.OutboxSweepEvery,
		Run: func(ctx context.Context) (any, error) {
			return a.Outbox.Sweep(ctx, a.Config.Jobs.OutboxSweepAge, 500)
		},
	})
	a.Registry.AddCommand(jobs.Command{
		Name:  "migrate",
		Usage: "apply pending database migrations",
		Run: func(ctx context.Context, _ []string, out io.Writer) error {
			res, err := a.DB.Migrate(ctx)
			if err != nil {
				return err
			}
			for _, r := range res {
				fmt.Fprintf(out, "applied %d %s\n", r.Version, filepath.Base(r.Source))
			}
			cur, _, err := a.DB.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "schema at version %d\n", cur)
			return a.ensureUnsortedProject(ctx, true)
		},
	})
	a.Registry.AddCommand(jobs.Command{
		Name:  "failed-jobs",
		Usage: "list the newest jobs that failed for good (poison messages)",
		Run: func(ctx context.Context, _ []string, out io.Writer) error {
			list, err := a.DB.ListFailedJobs(ctx, 100)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(out, "no failed jobs")
			}
			for _, f := range list {
				fmt.Fprintf(out, "%s\t%s\t%s\t%s\tattempts=%d\t%s\n", f.FailedAt.UTC().Format(time.RFC3339), f.Queue, f.Kind, f.MessageID, f.Attempts, f.LastError)
			}
			return nil
		},
	})
	a.registerAuditJobs()
	a.registerIntakeJobs()
}

// registerIntakeJobs registers the hourly sweeps of the intake's
// PostgreSQL state: rate-limit counters whose window has ended, and the
// ALTCHA replay markers of expired challenges. Neither table is needed
// past that point; the sweeps only keep them small. It also registers the
// manual intake-PII retention command, prune-reports.
func (a *App) registerIntakeJobs() {
	a.Registry.AddScheduled(jobs.Scheduled{
		Name:  "rate-limit-prune",
		Every: time.Hour,
		Run: func(ctx context.Context) (any, error) {
			n, err := a.Limiter.Prune(ctx)
			return map[string]any{"deleted": n}, err
		},
	})
	a.Registry.AddScheduled(jobs.Scheduled{
		Name:  "altcha-replay-prune",
		Every: time.Hour,
		Run: func(ctx context.Context) (any, error) {
			n, err := a.Intake.PruneReplayMarkers(ctx)
			return map[string]any{"deleted": n}, err
		},
	})
	a.registerReportPrune()
}

// ensureUnsortedProject makes the `unsorted` sentinel project exist, bound
// to OIDC_ADMIN_GROUP (INV-PROJECT-2), as the system principal. When the
// schema is known to be in place (required: after migrations) a failure is
// fatal; otherwise (a function's cold start, which must not depend on the
// database) it is logged, and the migrate command ensures it instead.
func (a *App) ensureUnsortedProject(ctx context.Context, required bool) error {
	if a.Config.OIDC.AdminGroup == "" {
		return nil
	}
	// A cold start must stay quick even when the database is unreachable.
	timeout := 3 * time.Second
	if required {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(postgres.AsSystem(ctx), timeout)
	defer cancel()
	if _, err := a.DB.EnsureUnsortedProject(ctx, a.Config.OIDC.AdminGroup); err != nil {
		if required {
			return fmt.Errorf("boot: %w", err)
		}
		a.Logger.WarnContext(ctx, "unsorted project not ensured", "error", Redact(err.Error()))
	}
	return nil
}

// registerAuditJobs registers the audit trail's job and commands: the daily
// access-log partition maintenance (data-model §14.2) and the ledger's
// hash-chain check.
func (a *App) registerAuditJobs() {
	maintain := func(ctx context.Context, days int, dryRun bool) (postgres.PartitionMaintenanceResult, error) {
		res, err := a.DB.MaintainAccessLogPartitions(ctx, postgres.PartitionMaintenance{
			Now: time.Now(), RetentionDays: days, DryRun: dryRun,
		})
		for _, s := range res.Skipped {
			a.Logger.WarnContext(ctx, "access-log partition step skipped",
				"partition", s.Partition, "step", s.Step, "error", s.Error)
		}
		return res, err
	}
	a.Registry.AddScheduled(jobs.Scheduled{
		Name:  "access-log-partition-maintenance",
		Every: 24 * time.Hour,
		Run: func(ctx context.Context) (any, error) {
			if !a.Config.Audit.AccessLogRetentionEnabled {
				return map[string]any{"skipped": true}, nil
			}
			return maintain(ctx, a.Config.Audit.AccessLogRetentionDays, false)
		},
	})
	a.Registry.AddCommand(jobs.Command{
		Name:  "maintain-access-log-partitions",
		Usage: "[--retention-days N] [--dry-run]: create this and next month's access-log partitions, drop expired ones",
		Run: func(ctx context.Context, args []string, out io.Writer) error {
			fs := flag.NewFlagSet("maintain-access-log-partitions", flag.ContinueOnError)
			fs.SetOutput(out)
			days := fs.Int("retention-days", a.Config.Audit.AccessLogRetentionDays, "drop months older than this many days (> 0)")
			dryRun := fs.Bool("dry-run", false, "only list what would be created and dropped")
			if err := fs.Parse(args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return fmt.Errorf("maintain-access-log-partitions: unexpected arguments %q", fs.Args())
			}
			res, err := maintain(ctx, *days, *dryRun)
			if err != nil {
				return err
			}
			verb := ""
			if res.DryRun {
				verb = "would be "
			}
			fmt.Fprintf(out, "cutoff %s\n%screated: %s\n%sdropped: %s\n", res.Cutoff,
				verb, strings.Join(res.Created, ", "), verb, strings.Join(res.Dropped, ", "))
			for _, s := range res.Skipped {
				fmt.Fprintf(out, "skipped %s %s: %s\n", s.Step, s.Partition, s.Error)
			}
			return nil
		},
	})
	a.Registry.AddCommand(jobs.Command{
		Name:  "verify-audit",
		Usage: "check the audit ledger's hash chain; fails at the first broken link",
		Run: func(ctx context.Context, _ []string, out io.Writer) error {
			n, err := a.DB.CountAudit(ctx)
			if err != nil {
				return err
			}
			problems, err := a.DB.VerifyAuditChain(ctx)
			if err != nil {
				return err
			}
			if len(problems) == 0 {
				fmt.Fprintf(out, "audit ledger intact: %d entries\n", n)
				return nil
			}
			p := problems[0]
			where := fmt.Sprintf("entry %d", p.ID)
			if p.ID == 0 {
				where = "chain head"
			}
			fmt.Fprintf(out, "audit ledger BROKEN at %s: %s\n", where, p.Problem)
			if len(problems) > 1 {
				fmt.Fprintf(out, "%d problems in total\n", len(problems))
			}
			return fmt.Errorf("audit ledger broken at %s: %s", where, p.Problem)
		},
	})
}

// Health returns the readiness checks of this deployment.
func (a *App) Health() *health.Handler {
	return health.New(a.Logger, health.Check{Name: "db", Timeout: 2 * time.Second, Run: a.DB.Ping})
}

// Poll consumes the named SQS queues (all of them when none are named) with
// the job runner until ctx ends: a worker outside Lambda, or the local shim
// with QUEUE_BACKEND=sqs.
func (a *App) Poll(ctx context.Context, names ...queue.Name) error {
	if a.sqs == nil {
		return errors.New("boot: polling needs QUEUE_BACKEND=sqs")
	}
	if len(names) == 0 {
		names = queue.Names()
	}
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() { errs <- a.sqs.Poll(ctx, n, a.Runner.Run) }()
	}
	var all []error
	for range names {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// UsesSQS reports whether jobs travel through SQS.
func (a *App) UsesSQS() bool { return a.sqs != nil }

// Close drains the in-memory queue, closes the pool and stops an embedded
// cluster.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.mem != nil {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		errs = append(errs, a.mem.Close(dctx))
		cancel()
	}
	if a.DB != nil {
		a.DB.Close()
	}
	if a.cluster != nil {
		errs = append(errs, a.cluster.Stop())
	}
	return errors.Join(errs...)
}

// WebhookHandler is the webhook function's HTTP handler.
func (a *App) WebhookHandler() http.Handler {
	return webhook.New(webhook.Config{
		Logger: a.Logger, Health: a.Health(), Webhooks: a.Webhooks,
		Secret: a.Config.GitHub.WebhookSecret.Value(),
	})
}
