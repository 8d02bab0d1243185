package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/metrics"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Scheduled is a named periodic job. The cloud runs it from an EventBridge
// schedule (template.yaml, infra/) and the local shim from a ticker.
type Scheduled struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) (any, error)
}

// Command is an operator command, run by the local shim as a subcommand and
// by the scheduled function from a {"command": …} payload.
type Command struct {
	Name  string
	Usage string
	Run   func(ctx context.Context, args []string, out io.Writer) error
}

// Registry holds the scheduled jobs and operator commands.
type Registry struct {
	db        *postgres.DB
	logger    *slog.Logger
	redact    func(string) string
	metrics   Metrics
	scheduled map[string]Scheduled
	commands  map[string]Command
}

// NewRegistry returns an empty registry. m records each scheduled run
// (the original ran them as Celery beat tasks, in the same task series as
// the queued jobs); nil records nothing.
func NewRegistry(db *postgres.DB, logger *slog.Logger, redact func(string) string, m Metrics) *Registry {
	if m == nil {
		m = noMetrics{}
	}
	return &Registry{db: db, logger: logger, redact: redact, metrics: m,
		scheduled: map[string]Scheduled{}, commands: map[string]Command{}}
}

// AddScheduled registers a scheduled job.
func (r *Registry) AddScheduled(s Scheduled) {
	if s.Name == "" || s.Every <= 0 || s.Run == nil {
		panic("jobs: incomplete scheduled job " + s.Name)
	}
	if _, dup := r.scheduled[s.Name]; dup {
		panic("jobs: scheduled job registered twice: " + s.Name)
	}
	r.scheduled[s.Name] = s
}

// AddCommand registers an operator command.
func (r *Registry) AddCommand(c Command) {
	if c.Name == "" || c.Run == nil {
		panic("jobs: incomplete command " + c.Name)
	}
	if _, dup := r.commands[c.Name]; dup {
		panic("jobs: command registered twice: " + c.Name)
	}
	r.commands[c.Name] = c
}

// ScheduledJobs lists the scheduled jobs by name.
func (r *Registry) ScheduledJobs() []Scheduled {
	out := make([]Scheduled, 0, len(r.scheduled))
	for _, s := range r.scheduled {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Commands lists the operator commands by name.
func (r *Registry) Commands() []Command {
	out := make([]Command, 0, len(r.commands))
	for _, c := range r.commands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ErrUnknown is returned for a job or command name nobody registered.
var ErrUnknown = errors.New("unknown")

// RunScheduled runs the named job once as the system principal and records
// its outcome in schedule_runs and in the task series (ScheduledTaskName;
// success or failure — a failed run is not retried, the next tick is a new
// run).
func (r *Registry) RunScheduled(ctx context.Context, name string) (_ any, err error) {
	s, ok := r.scheduled[name]
	if !ok {
		return nil, fmt.Errorf("scheduled job %q: %w (known: %s)", name, ErrUnknown, strings.Join(r.names(), ", "))
	}
	ctx = postgres.AsSystem(ctx)
	start := time.Now()
	defer func() { r.metrics.Job(ScheduledTaskName(name), metrics.JobStatus(err), time.Since(start)) }()
	if err := r.db.StartScheduleRun(ctx, name); err != nil {
		return nil, fmt.Errorf("scheduled job %s: %w", name, err)
	}
	res, err := s.Run(ctx)
	status, errText := "succeeded", ""
	if err != nil {
		status, errText = "failed", r.redact(err.Error())
	}
	if ferr := r.db.FinishScheduleRun(ctx, name, status, errText, res); ferr != nil {
		r.logger.WarnContext(ctx, "schedule run not recorded", "job", name, "error", r.redact(ferr.Error()))
	}
	if err != nil {
		r.logger.ErrorContext(ctx, "scheduled job failed", "job", name, "error", errText, "duration_ms", time.Since(start).Milliseconds())
		return nil, fmt.Errorf("scheduled job %s: %w", name, err)
	}
	r.logger.InfoContext(ctx, "scheduled job done", "job", name, "duration_ms", time.Since(start).Milliseconds())
	return res, nil
}

// RunCommand runs an operator command as the system principal.
func (r *Registry) RunCommand(ctx context.Context, name string, args []string, out io.Writer) error {
	c, ok := r.commands[name]
	if !ok {
		known := make([]string, 0, len(r.commands))
		for _, c := range r.Commands() {
			known = append(known, c.Name)
		}
		return fmt.Errorf("command %q: %w (known: %s)", name, ErrUnknown, strings.Join(known, ", "))
	}
	return c.Run(postgres.AsSystem(ctx), args, out)
}

func (r *Registry) names() []string {
	var out []string
	for _, s := range r.ScheduledJobs() {
		out = append(out, s.Name)
	}
	return out
}

// Invocation is the payload of the scheduled function: exactly one of Job
// (from an EventBridge schedule) or Command (from an operator).
type Invocation struct {
	Job     string   `json:"job,omitempty"`
	Command string   `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
}

// InvocationResult is what the scheduled function returns.
type InvocationResult struct {
	Job     string `json:"job,omitempty"`
	Command string `json:"command,omitempty"`
	Result  any    `json:"result,omitempty"`
	Output  string `json:"output,omitempty"`
}

// Invoke runs a scheduled-function payload.
func (r *Registry) Invoke(ctx context.Context, inv Invocation) (InvocationResult, error) {
	switch {
	case inv.Job != "" && inv.Command != "":
		return InvocationResult{}, errors.New("invocation: give either job or command, not both")
	case inv.Job != "":
		res, err := r.RunScheduled(ctx, inv.Job)
		return InvocationResult{Job: inv.Job, Result: res}, err
	case inv.Command != "":
		var out strings.Builder
		err := r.RunCommand(ctx, inv.Command, inv.Args, &out)
		return InvocationResult{Command: inv.Command, Output: out.String()}, err
	}
	return InvocationResult{}, errors.New(`invocation: expected {"job": NAME} or {"command": NAME, "args": [...]}`)
}

// RunTickers runs every scheduled job on its own fixed-interval ticker until
// ctx ends (the local shim, or the scheduled binary outside Lambda). A run
// that fails is logged and retried at the next tick; runs of one job never
// overlap.
func (r *Registry) RunTickers(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range r.ScheduledJobs() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(s.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					_, _ = r.RunScheduled(ctx, s.Name) // failures are logged and recorded by RunScheduled
				}
			}
		}()
	}
	wg.Wait()
}

// scheduledTaskNames are the task labels of the scheduled jobs that were
// Celery beat tasks in the original (operations.md §8, §9); see taskNames.
var scheduledTaskNames = map[string]string{
	"publication-task-reaper":          "publication.reap_stale_publication_tasks",
	"similarity-check-reaper":          "similarity.reap_stale_similarity_checks",
	"ghsa-cve-push-reaper":             "ghsa.tasks.reap_stale_cve_push_tasks",
	"access-log-partition-maintenance": "audit.tasks.maintain_access_log_partitions",
	"backlog-gauge-refresh":            "audit.tasks.refresh_backlog_gauges",
	"security-roster-sync":             "projects.tasks.run_roster_sync",
	"pmi-repo-mirror":                  "ghsa.tasks.run_pmi_repo_sync",
	"ghsa-linked-reconcile":            "ghsa.tasks.reconcile_ghsa_linked_advisories",
	"ghsa-discovery":                   "ghsa.tasks.run_scheduled_ghsa_discovery",
}

// ScheduledTaskName is the task label of scheduled job name: the
// original's task name, or the job's own name when it had none.
func ScheduledTaskName(name string) string {
	if n, ok := scheduledTaskNames[name]; ok {
		return n
	}
	return name
}
