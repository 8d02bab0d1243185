// Package boot builds the object graph from a Config. Only boot knows the
// whole graph; the function mains and the local shim call it once per cold
// start.
package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/awssecrets"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/frontend"
	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/pgembed"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/memqueue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue"
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
	if a.Runner, err = jobs.NewRunner(jobs.RunnerConfig{DB: a.DB, Logger: a.Logger, Redact: Redact}); err != nil {
		return nil, err
	}
	if err := a.buildSender(ctx, opts); err != nil {
		return nil, err
	}
	if a.Outbox, err = postgres.NewOutbox(postgres.OutboxConfig{DB: a.DB, Sender: a.Sender, Logger: a.Logger, Redact: Redact}); err != nil {
		return nil, err
	}
	a.Registry = jobs.NewRegistry(a.DB, a.Logger, Redact)
	a.registerJobs()
	return a, nil
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
			return nil
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
}

// Health returns the readiness checks of this deployment.
func (a *App) Health() *health.Handler {
	return health.New(a.Logger, health.Check{Name: "db", Timeout: 2 * time.Second, Run: a.DB.Ping})
}

// WebHandler is the web function's HTTP handler.
func (a *App) WebHandler() http.Handler {
	return frontend.New(frontend.Config{Logger: a.Logger, Health: a.Health()})
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
	return webhook.New(webhook.Config{Logger: a.Logger, Health: a.Health()})
}
