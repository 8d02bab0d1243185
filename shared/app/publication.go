package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/csaf"
	"github.com/eclipse-csi/advisoryhub/shared/cverecord"
	"github.com/eclipse-csi/advisoryhub/shared/gitrepo"
	"github.com/eclipse-csi/advisoryhub/shared/osv"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/publication"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/redact"
	"github.com/eclipse-csi/advisoryhub/shared/schemacheck"
)

// KindRunPublication is the job that runs one publication task
// (operations §9 publication.run_publication), on the publish queue.
const KindRunPublication queue.Kind = "publication.run"

// Reaper defaults (operations §6.1 PUB_TASK_STALE_*).
const (
	DefaultStaleRunning = 1800 * time.Second
	DefaultStaleQueued  = 7200 * time.Second
)

// findDepth is how far back a re-run looks for its own commit.
const findDepth = 50

// gitTimeout bounds the network part of a run (lifecycle W8: 300 s), well
// inside the worker's hard limit.
const gitTimeout = 300 * time.Second

// PublicationMetrics receives the publication series (operations §10);
// shared/metrics recorders implement it.
type PublicationMetrics interface {
	Publication(status string)
	PublicationStage(stage string)
	PublicationDuration(d time.Duration)
}

// Publications are the publication use cases (lifecycle §6): the publish
// and retry requests, the task reads, the worker and the reaper.
//
// Publish and Retry create a task pinned to the latest version under the
// advisory row lock and enqueue its run through the outbox in the same
// transaction (INV-PUB-5, INV-CONCURRENCY-1, INV-VERSION-2). Run is the
// worker: it builds and validates the documents from the pinned version
// only (INV-VERSION-3, INV-PUB-6), stores them, pushes them with a commit
// trailer naming the task, and finalizes in one transaction under the
// advisory row lock (INV-PUB-4, INV-LIFECYCLE-3). Every recorded error is
// redacted, the configured token removed literally (INV-SECRET-1..3).
type Publications struct {
	cfg PublicationsConfig

	// beforeFinalize, when set (tests), runs after the push and before
	// the final transaction; an error there is a crash after push.
	beforeFinalize func(taskID int64) error
}

// PublicationsConfig wires Publications.
type PublicationsConfig struct {
	DB *postgres.DB
	// Repo publishes to the publication repository; nil when PUB_REPO_URL
	// is unset: tasks can be queued but fail at the git step.
	Repo *gitrepo.Publisher
	// Branch is the pushed branch (PUB_REPO_BRANCH), for the audit.
	Branch string
	// Templates are the path templates (PUB_*_PATH_TEMPLATE); zero fields
	// take the defaults. Repo's own templates win when Repo is set.
	Templates gitrepo.Templates
	// Token is the configured HTTPS token, scrubbed literally from every
	// recorded error (audit-actions §4).
	Token string
	// CVEAssignerOrgID and CVEAssignerShortName are PUB_CVE_ASSIGNER_*.
	CVEAssignerOrgID     string
	CVEAssignerShortName string
	// Derive, when set, adds files computed from the publication tree
	// (the CSAF provider's index, feeds and hashes, shared/csafprovider).
	Derive func(ctx context.Context, tree fs.FS, changed []string) ([]gitrepo.File, error)
	// StaleRunning and StaleQueued are the reaper's thresholds.
	StaleRunning, StaleQueued time.Duration
	Metrics                   PublicationMetrics // optional
	Now                       func() time.Time   // time.Now when nil
}

// NewPublications builds the publication use cases.
func NewPublications(cfg PublicationsConfig) (*Publications, error) {
	if cfg.DB == nil {
		return nil, errors.New("publications: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StaleRunning <= 0 {
		cfg.StaleRunning = DefaultStaleRunning
	}
	if cfg.StaleQueued <= 0 {
		cfg.StaleQueued = DefaultStaleQueued
	}
	if cfg.Repo != nil {
		cfg.Templates = cfg.Repo.Templates()
	}
	return &Publications{cfg: cfg}, nil
}

// runPayload is the KindRunPublication message body.
type runPayload struct {
	TaskID int64 `json:"task_id"`
}

// CheckPublish reports whether c may publish advisory id now, without
// changing anything: the API asks it before the step-up (permissions §13:
// permission first).
func (s *Publications) CheckPublish(ctx context.Context, c Caller, id advisory.ID) error {
	return readVisible(ctx, s.cfg.DB, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		return access.Check(c.Subject(), access.CapPublish, t)
	})
}

// CheckRetry is CheckPublish for a retry of task taskID: the task must be
// visible and failed, and c must hold can_publish on its advisory now.
func (s *Publications) CheckRetry(ctx context.Context, c Caller, taskID int64) error {
	return s.cfg.DB.InTx(c.principal(ctx), pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		_, _, err := s.retryable(ctx, tx, c, taskID)
		return err
	})
}

func (s *Publications) retryable(ctx context.Context, tx *postgres.DB, c Caller, taskID int64) (publication.Task, access.Target, error) {
	old, err := tx.PublicationTask(ctx, taskID)
	if err != nil {
		return publication.Task{}, access.Target{}, err
	}
	a, err := tx.AdvisoryByID(ctx, advisory.ID(old.PublicID))
	if err != nil {
		return publication.Task{}, access.Target{}, publication.ErrTaskNotFound
	}
	t, err := visible(ctx, tx, c, a)
	if err != nil {
		return publication.Task{}, access.Target{}, publication.ErrTaskNotFound
	}
	if err := access.Check(c.Subject(), access.CapRetryPublication, t); err != nil {
		return publication.Task{}, access.Target{}, err
	}
	if old.Status != publication.StatusFailed {
		return publication.Task{}, access.Target{}, publication.ErrNotFailed
	}
	return old, t, nil
}

// Publish queues a publication of advisory id (lifecycle P1, §6.2 steps
// 4–8): can_publish on the locked row (owner; approved review or mature
// publisher; nobody while submitted; GHSA-linked admin only; not
// dismissed), refused with advisory.ErrPublicationInProgress while a task
// is queued or running, the latest version pinned, the run enqueued
// through the outbox and publication.export_started audited. Step-up and
// the typed-id confirmation are the adapters' (§6.2 steps 2–3).
func (s *Publications) Publish(ctx context.Context, c Caller, id advisory.ID) (publication.Task, error) {
	var task publication.Task
	err := s.cfg.DB.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, err := tx.AdvisoryByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		t, err := visible(ctx, tx, c, a)
		if err != nil {
			return err
		}
		if err := access.Check(c.Subject(), access.CapPublish, t); err != nil {
			return err
		}
		task, err = QueuePublication(ctx, tx, c, a, false)
		return err
	})
	if err != nil {
		return publication.Task{}, fmt.Errorf("publish %s: %w", id, err)
	}
	s.metric("started")
	return task, nil
}

// Retry queues a new task for the advisory of failed task taskID, pinned
// to the current latest version (lifecycle P3); the old row stays failed.
// It needs can_publish evaluated now; a task that is not failed is
// refused with publication.ErrNotFailed.
func (s *Publications) Retry(ctx context.Context, c Caller, taskID int64) (publication.Task, error) {
	var task publication.Task
	err := s.cfg.DB.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		old, _, err := s.retryable(ctx, tx, c, taskID)
		if err != nil {
			return err
		}
		a, err := tx.AdvisoryByIDForUpdate(ctx, advisory.ID(old.PublicID))
		if err != nil {
			return err
		}
		t, err := tx.AccessTarget(ctx, a)
		if err != nil {
			return err
		}
		if err := access.Check(c.Subject(), access.CapRetryPublication, t); err != nil {
			return err
		}
		task, err = QueuePublication(ctx, tx, c, a, false)
		return err
	})
	if err != nil {
		return publication.Task{}, fmt.Errorf("retry publication task %d: %w", taskID, err)
	}
	s.metric("started")
	return task, nil
}

// UnwithdrawPublication is the request transaction of an un-withdraw
// (lifecycle L14, INV-WITHDRAW) on the locked advisory a with access facts
// t, in the caller's transaction tx, for Reopen of a withdrawal: only a
// dismissal whose origin is published (else advisory.ErrIllegalTransition),
// only by an admin or a mature-publisher team member (can_reopen of a
// withdrawal, access.CapUnwithdraw), refused while a publication is queued
// or running (INV-CONCURRENCY-1). withdrawn_reason is cleared, the newest
// orphan of the advisory reattached or its reassignment queued (§2.3 step 2
// only), a version appended if the payload changed, advisory.reopened
// (unwithdraw=true) audited, and a publication task queued with "allow from
// dismissed". The state stays dismissed: only the worker's success
// publishes it (L9, INV-LIFECYCLE-3).
func UnwithdrawPublication(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, t access.Target) (publication.Task, error) {
	if a.State != advisory.StateDismissed || a.DismissedFromState != advisory.StatePublished {
		return publication.Task{}, fmt.Errorf("%w: only a withdrawn advisory is un-withdrawn", advisory.ErrIllegalTransition)
	}
	if err := access.Check(c.Subject(), access.CapUnwithdraw, t); err != nil {
		return publication.Task{}, err
	}
	busy, err := tx.PublicationInFlight(ctx, a.ID)
	if err != nil {
		return publication.Task{}, err
	}
	if busy {
		return publication.Task{}, advisory.ErrPublicationInProgress
	}
	before, previous := a.Payload(), a.WithdrawnReason
	a.WithdrawnReason = ""
	if err := tx.UpdateWorkflow(ctx, a); err != nil {
		return publication.Task{}, err
	}
	r, err := RestoreOnReopen(ctx, tx, c, a, true)
	if err != nil {
		return publication.Task{}, err
	}
	if _, err := appendVersion(ctx, tx, c, a, before); err != nil {
		return publication.Task{}, err
	}
	reopened := advisoryAudit(c, a, audit.AdvisoryReopened, map[string]any{
		"unwithdraw": true, "to_state": advisory.StatePublished,
		"cve_request_restored": r.CVERequestRestored, "orphan_disposition": r.OrphanDisposition,
	})
	reopened.Previous, reopened.New = map[string]any{"withdrawn_reason": previous}, map[string]any{"withdrawn_reason": ""}
	if err := tx.InsertAudit(ctx, reopened); err != nil {
		return publication.Task{}, err
	}
	return QueuePublication(ctx, tx, c, a, true)
}

// QueuePublication creates a publication task of the locked advisory a,
// pinned to its latest version, enqueues its run through the outbox and
// audits publication.export_started, all in the caller's transaction tx
// (lifecycle §6.2 steps 5, 6, 8). The caller has authorized c already:
// Publish and Retry check can_publish; the system paths (P2: withdrawal,
// un-withdraw with allowDismissed, GHSA auto-publish) skip the human gate.
// A queued or running task refuses with advisory.ErrPublicationInProgress.
func QueuePublication(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, allowDismissed bool) (publication.Task, error) {
	if a.State == advisory.StateDismissed && !allowDismissed {
		return publication.Task{}, fmt.Errorf("%w: a dismissed advisory is not published", advisory.ErrIllegalTransition)
	}
	busy, err := tx.PublicationInFlight(ctx, a.ID)
	if err != nil {
		return publication.Task{}, err
	}
	if busy {
		return publication.Task{}, advisory.ErrPublicationInProgress
	}
	v, err := tx.LatestVersion(ctx, a.ID)
	if errors.Is(err, advisory.ErrVersionNotFound) {
		return publication.Task{}, publication.ErrNoVersion
	}
	if err != nil {
		return publication.Task{}, err
	}
	task, err := tx.InsertPublicationTask(ctx, a.ID, v.ID, c.UserID)
	if err != nil {
		return publication.Task{}, err
	}
	msgID, err := tx.Enqueue(ctx, queue.Publish, KindRunPublication, runPayload{TaskID: task.ID})
	if err != nil {
		return publication.Task{}, err
	}
	if err := tx.SetPublicationTaskMessage(ctx, task.ID, msgID); err != nil {
		return publication.Task{}, err
	}
	task.QueueMessageID = msgID
	e := advisoryAudit(c, a, audit.PublicationExportStarted, nil)
	e.New = map[string]any{"task_id": task.ID, "version_id": v.ID, "version": v.Number}
	return task, tx.InsertAudit(ctx, e)
}

// Tasks returns the publication tasks of advisory id, newest first, for
// any caller who may see it.
func (s *Publications) Tasks(ctx context.Context, c Caller, id advisory.ID) ([]publication.Task, error) {
	var tasks []publication.Task
	err := readVisible(ctx, s.cfg.DB, c, id, func(tx *postgres.DB, a *advisory.Advisory, _ access.Target) error {
		var err error
		tasks, err = tx.PublicationTasks(ctx, a.ID)
		return err
	})
	return tasks, err
}

// Artifact returns the document of kind stored by task taskID, for any
// caller who may see its advisory.
func (s *Publications) Artifact(ctx context.Context, c Caller, taskID int64, kind publication.Kind) (publication.Artifact, error) {
	var art publication.Artifact
	err := s.cfg.DB.InTx(c.principal(ctx), pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		task, err := tx.PublicationTask(ctx, taskID)
		if err != nil {
			return err
		}
		a, err := tx.AdvisoryByID(ctx, advisory.ID(task.PublicID))
		if err != nil {
			return publication.ErrTaskNotFound
		}
		if _, err := visible(ctx, tx, c, a); err != nil {
			return publication.ErrTaskNotFound
		}
		art, err = tx.PublicationArtifact(ctx, taskID, kind)
		return err
	})
	return art, err
}

// failure is a worker failure: the audit action it is recorded under and
// whether the transport should redeliver the job.
type failure struct {
	action    audit.Action
	err       error
	retryable bool
}

func exportFailed(format string, args ...any) *failure {
	return &failure{action: audit.PublicationExportFailed, err: fmt.Errorf(format, args...)}
}

// Run is the KindRunPublication job, a plain self-idempotent handler
// (lifecycle §6.3). Its entry guard runs a task only when it is queued, or
// failed on redelivery; a succeeded or running task makes it a no-op, so a
// duplicate delivery never makes a second commit. A re-run first looks for
// its own commit (the trailer) and finalizes without pushing again when
// the earlier run crashed between push and finalize.
//
// The advisory's lifecycle state is re-checked before the build and again
// in the final transaction (lifecycle §12, finalizable): a run it no longer
// admits (a draft dismissed meanwhile) fails for good with "advisory state
// changed", before anything is pushed when it can.
//
// A failure marks the task failed with a redacted reason and leaves the
// advisory untouched; Run then returns nil, except for a transient git
// failure (unreachable remote, lost race) or a failed final transaction
// after the push, which it returns so that the transport redelivers (the
// redelivery re-runs the failed task in place, P4).
func (s *Publications) Run(ctx context.Context, m queue.Message) error {
	ctx = postgres.AsSystem(ctx)
	var p runPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.TaskID <= 0 {
		return queue.Permanent(fmt.Errorf("publication run %s: bad payload", m.ID))
	}
	var (
		task    publication.Task
		started bool
	)
	err := s.cfg.DB.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		var err error
		task, started, err = tx.StartPublicationTask(ctx, p.TaskID, m.ID)
		return err
	})
	switch {
	case errors.Is(err, publication.ErrTaskNotFound), errors.Is(err, advisory.ErrPublicationInProgress):
		return nil
	case err != nil:
		return fmt.Errorf("publication run %d: start: %w", p.TaskID, err)
	case !started:
		return nil
	}
	if f := s.run(ctx, task); f != nil {
		if err := s.fail(ctx, task, f); err != nil {
			return err
		}
		if f.retryable {
			return fmt.Errorf("publication task %d: %s", task.ID, s.scrub(f.err.Error()))
		}
	}
	return nil
}

// docs are the built documents of one run.
type docs struct {
	files     []gitrepo.File
	artifacts []publication.Artifact
	audits    []audit.Entry
}

func (s *Publications) run(ctx context.Context, task publication.Task) *failure {
	var (
		a       *advisory.Advisory
		v       advisory.Version
		earlier []postgres.PublishedVersion
	)
	err := s.cfg.DB.InTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		var err error
		if v, err = tx.VersionByID(ctx, task.VersionID); err != nil {
			return err
		}
		if a, err = tx.AdvisoryByID(ctx, advisory.ID(task.PublicID)); err != nil {
			return err
		}
		earlier, err = tx.PublishedVersions(ctx, task.AdvisoryID)
		return err
	})
	if err != nil {
		return exportFailed("load: %w", err)
	}
	// The advisory may have moved on since the task was queued (a draft
	// dismissed meanwhile): nothing is pushed for it (lifecycle §12).
	if err := finalizable(a, v); err != nil {
		return &failure{action: audit.PublicationExportFailed, err: err}
	}
	d, f := s.build(task, a, v, earlier)
	if f != nil {
		// The audits of the documents that did validate are kept; the
		// task's failure is what matters if they cannot be written.
		if err := s.record(ctx, d.audits); err != nil {
			f.err = fmt.Errorf("%w (and audit: %v)", f.err, err)
		}
		return f
	}
	err = s.cfg.DB.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		for _, art := range d.artifacts {
			if err := tx.UpsertPublicationArtifact(ctx, task.ID, art.Kind, art.Path, art.Content); err != nil {
				return err
			}
		}
		return insertAudits(ctx, tx, d.audits)
	})
	if err != nil {
		return exportFailed("store artifacts: %w", err)
	}
	sha, f := s.push(ctx, task, d.files)
	if f != nil {
		return f
	}
	branchAudits := s.gitAudits(task, a, sha)
	if err := s.record(ctx, branchAudits); err != nil {
		return exportFailed("audit git result: %w", err)
	}
	if s.beforeFinalize != nil {
		if err := s.beforeFinalize(task.ID); err != nil {
			f := exportFailed("finalize: %w", err)
			f.retryable = true
			return f
		}
	}
	if err := s.finalize(ctx, task, v, sha); err != nil {
		if errors.Is(err, errStateChanged) {
			// Final: a redelivery would find the same state (lifecycle
			// §12); the task fails and the advisory keeps its state.
			return &failure{action: audit.PublicationExportFailed, err: err}
		}
		// The push landed: a redelivery finds the commit and finalizes.
		f := exportFailed("finalize: %w", err)
		f.retryable = true
		return f
	}
	return nil
}

// errStateChanged is the reason a run aborts when the advisory's lifecycle
// state no longer admits its finalisation (lifecycle §12).
var errStateChanged = errors.New("advisory state changed")

// finalizable reports whether a run of pinned version v may finalize on
// advisory a in a's current state (lifecycle §12, W10): a withdrawal only
// from published (L12); any other run from draft, triage (GHSA-linked) or
// published (L9, L10, L11), or from dismissed when it is the un-withdraw of
// a withdrawal (L14: dismissed from published, withdrawn_reason cleared).
// A draft dismissed while its publication was queued or running is never
// published. Otherwise it returns an error wrapping errStateChanged.
func finalizable(a *advisory.Advisory, v advisory.Version) error {
	withdrawal := v.Payload.WithdrawnReason != ""
	switch {
	case withdrawal && a.State == advisory.StatePublished:
		return nil
	case withdrawal:
	case a.State == advisory.StateDraft, a.State == advisory.StateTriage, a.State == advisory.StatePublished:
		return nil
	case a.State == advisory.StateDismissed && a.DismissedFromState == advisory.StatePublished && a.WithdrawnReason == "":
		return nil
	}
	return fmt.Errorf("%w: the advisory is %s", errStateChanged, a.State)
}

// build makes and validates the documents of the pinned version v
// (lifecycle W2–W5). The year bucket is that of the advisory's first
// publication, or this year on the first one.
func (s *Publications) build(task publication.Task, a *advisory.Advisory, v advisory.Version, earlier []postgres.PublishedVersion) (docs, *failure) {
	var d docs
	year := s.cfg.Now().UTC().Year()
	if a.PublishedAt != nil {
		year = a.PublishedAt.UTC().Year()
	}
	id := string(v.Payload.AdvisoryID)
	add := func(kind publication.Kind, path string, content []byte, action audit.Action, newValue map[string]any) {
		d.files = append(d.files, gitrepo.File{Path: path, Content: content})
		d.artifacts = append(d.artifacts, publication.Artifact{Kind: kind, Path: path, Content: content})
		d.audits = append(d.audits, s.workerAudit(task, action, newValue, nil))
		s.stage(string(kind) + "_generated")
	}

	doc, err := osv.Build(osv.Input{Payload: v.Payload, Modified: v.CreatedAt})
	if err == nil {
		err = schemacheck.ValidateOSV(doc)
	}
	if err != nil {
		return d, exportFailed("validation: osv: %w", err)
	}
	path, err := s.cfg.Templates.OSVPath(id, year)
	if err != nil {
		return d, exportFailed("path: %w", err)
	}
	add(publication.KindOSV, path, doc, audit.PublicationOSVGenerated, map[string]any{"task_id": task.ID})

	in := csaf.Input{Payload: v.Payload, VersionNumber: v.Number, Date: v.CreatedAt}
	for _, e := range earlier {
		in.Earlier = append(in.Earlier, csaf.Publication{VersionNumber: e.VersionNumber, Date: e.Date, Withdrawn: e.Withdrawn})
	}
	if doc, err = csaf.Build(in); err == nil {
		err = schemacheck.ValidateCSAF(doc)
	}
	if err != nil {
		return d, exportFailed("validation: csaf: %w", err)
	}
	if path, err = s.cfg.Templates.CSAFPath(id, year); err != nil {
		return d, exportFailed("path: %w", err)
	}
	add(publication.KindCSAF, path, doc, audit.PublicationCSAFGenerated, map[string]any{"task_id": task.ID})

	if cverecord.Needed(v.Payload) {
		withdrawn := v.Payload.WithdrawnReason != ""
		doc, err = cverecord.Build(cverecord.Input{
			Payload: v.Payload, Date: v.CreatedAt, AdvisoryPublishedAt: a.PublishedAt,
			AssignerOrgID: s.cfg.CVEAssignerOrgID, AssignerShortName: s.cfg.CVEAssignerShortName,
			ProjectName: a.Project.Name,
		})
		if err == nil {
			err = schemacheck.ValidateCVERecord(doc)
		}
		if err != nil {
			return d, exportFailed("validation: cve: %w", err)
		}
		cveID := string(v.Payload.AssignedCVEID)
		if path, err = s.cfg.Templates.CVEPath(cveID); err != nil {
			return d, exportFailed("path: %w", err)
		}
		add(publication.KindCVE, path, doc, audit.PublicationCVEGenerated,
			map[string]any{"task_id": task.ID, "cve_id": cveID, "rejected": withdrawn})
	}
	return d, nil
}

// push writes the files to the repository, or, on a re-run, finds the
// commit an earlier run of this task already pushed (lifecycle W6–W8).
func (s *Publications) push(ctx context.Context, task publication.Task, files []gitrepo.File) (string, *failure) {
	gitFail := func(err error) *failure {
		s.stage("git_push_failed")
		return &failure{action: audit.PublicationGitPushFailed, err: fmt.Errorf("git: %w", err), retryable: gitrepo.Retryable(err)}
	}
	if s.cfg.Repo == nil {
		return "", gitFail(publication.ErrNotConfigured)
	}
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	trailer := publication.TrailerID(task.ID)
	if task.Attempts > 1 {
		sha, found, err := s.cfg.Repo.FindCommit(ctx, trailer, findDepth)
		if err != nil {
			return "", gitFail(err)
		}
		if found {
			return sha, nil
		}
	}
	res, err := s.cfg.Repo.Publish(ctx, gitrepo.Request{
		Files: files, Message: publication.CommitMessage(task.PublicID), TaskID: trailer, Derive: s.cfg.Derive,
	})
	if err != nil {
		return "", gitFail(err)
	}
	return res.Commit, nil
}

// gitAudits are publication.git_commit and publication.git_push (also on
// the no-change path, lifecycle W9).
func (s *Publications) gitAudits(task publication.Task, a *advisory.Advisory, sha string) []audit.Entry {
	branch := s.cfg.Branch
	if branch == "" {
		branch = "main"
	}
	s.stage("git_commit")
	s.stage("git_push")
	return []audit.Entry{
		s.workerAudit(task, audit.PublicationGitCommit, map[string]any{"commit_sha": sha}, map[string]any{"task_id": task.ID, "branch": branch}),
		s.workerAudit(task, audit.PublicationGitPush, map[string]any{"commit_sha": sha, "branch": branch}, map[string]any{"task_id": task.ID}),
	}
}

// finalize is the final transaction under the advisory row lock
// (lifecycle W10): the L9 finalisation (state published, published_at if
// unset, republish_required cleared, a pending reassignment request
// cleared) or, when the pinned version is a withdrawal, the L12 one (state
// dismissed from published, an assigned CVE orphaned, O2); the task
// succeeded with the commit. An advisory whose state no longer admits the
// finalisation (finalizable) is left untouched and the error wraps
// errStateChanged.
func (s *Publications) finalize(ctx context.Context, task publication.Task, v advisory.Version, sha string) error {
	err := s.cfg.DB.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, err := tx.AdvisoryByPKForUpdate(ctx, task.AdvisoryID)
		if err != nil {
			return err
		}
		cur, err := tx.PublicationTaskForUpdate(ctx, task.ID)
		if err != nil {
			return err
		}
		if cur.Status != publication.StatusRunning {
			return fmt.Errorf("task is %s, no longer running", cur.Status)
		}
		// §12: the lifecycle state is re-checked on the locked row.
		if err := finalizable(a, v); err != nil {
			return err
		}
		withdrawal := v.Payload.WithdrawnReason != ""
		from := a.State
		var entries []audit.Entry
		actor := Caller{UserID: task.EnqueuedByID}
		switch {
		case withdrawal:
			a.State = advisory.StateDismissed
			a.DismissedFromState = advisory.StatePublished
			a.DismissedReason = v.Payload.WithdrawnReason
			a.RepublishRequired = false
			dismissed := advisoryAudit(actor, a, audit.AdvisoryDismissed, map[string]any{"withdrawn": true, "reason": a.DismissedReason, "task_id": task.ID})
			dismissed.Previous, dismissed.New = stateValue(from), stateValue(a.State)
			entries = append(entries, dismissed, stateChanged(actor, a, from, true))
		default:
			a.State = advisory.StatePublished
			a.RepublishRequired = false
			if a.ReassignmentRequestedAt != nil {
				entries = appendCleared(entries, actor, a, audit.AdvisoryReassignmentRequestCleared,
					&advisory.ClearedRequest{Note: a.ReassignmentRequestNote, RequestedBy: a.ReassignmentRequestedByID}, "published")
				a.ReassignmentRequestedAt, a.ReassignmentRequestedByID, a.ReassignmentRequestNote, a.ReassignmentSuggestedProjectID = nil, 0, "", ""
			}
			published := advisoryAudit(actor, a, audit.AdvisoryPublished, map[string]any{"task_id": task.ID, "version": v.Number})
			published.Previous, published.New = stateValue(from), stateValue(a.State)
			entries = append([]audit.Entry{published}, entries...)
		}
		if err := tx.UpdateWorkflow(ctx, a); err != nil {
			return err
		}
		if err := insertAudits(ctx, tx, entries); err != nil {
			return err
		}
		if withdrawal && a.AssignedCVEID != "" {
			// O2: the withdrawn advisory's CVE becomes an orphan of cause
			// withdrawal, which a later un-withdraw reattaches (the state
			// is dismissed already, so no republish flag).
			if err := orphanCVEAs(ctx, tx, actor, a, a.DismissedReason, advisory.OrphanCauseWithdrawal); err != nil {
				return err
			}
		}
		if a.State == advisory.StatePublished {
			if err := tx.SetPublishedAt(ctx, a.ID, s.cfg.Now()); err != nil {
				return err
			}
		}
		ok, err := tx.FinishPublicationTask(ctx, task.ID, publication.StatusSucceeded, sha, "")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("task is no longer running")
		}
		completed := map[string]any{"task_id": task.ID, "commit_sha": sha}
		if withdrawal {
			completed["withdrawn"] = true
		}
		return tx.InsertAudit(ctx, s.workerAudit(task, audit.PublicationExportCompleted, completed, nil))
	})
	if err != nil {
		return err
	}
	s.metric("succeeded")
	s.duration(task)
	return nil
}

// fail marks the running task failed with the redacted reason and writes
// the failure's audit entry (lifecycle P6); the advisory is not touched.
func (s *Publications) fail(ctx context.Context, task publication.Task, f *failure) error {
	msg := publication.TruncateError(s.scrub(f.err.Error()))
	err := s.cfg.DB.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		ok, err := tx.FinishPublicationTask(ctx, task.ID, publication.StatusFailed, "", msg)
		if err != nil || !ok {
			return err
		}
		return tx.InsertAudit(ctx, s.workerAudit(task, f.action, map[string]any{"task_id": task.ID},
			map[string]any{"task_id": task.ID, "error": msg}))
	})
	if err != nil {
		return fmt.Errorf("publication task %d: record failure: %w", task.ID, err)
	}
	s.metric("failed")
	s.duration(task)
	return nil
}

// scrub redacts text for the task row and the audit (INV-SECRET-1/3):
// the generic patterns, then the configured token literally.
func (s *Publications) scrub(text string) string {
	return redact.Literals(redact.String(text), s.cfg.Token)
}

func (s *Publications) record(ctx context.Context, entries []audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.cfg.DB.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error { return insertAudits(ctx, tx, entries) })
}

// workerAudit is an entry of the worker acting for the task's enqueuer
// (WRK, lifecycle §0).
func (s *Publications) workerAudit(task publication.Task, action audit.Action, newValue, meta map[string]any) audit.Entry {
	e := audit.Entry{ActorID: task.EnqueuedByID, Action: action, AdvisoryID: task.AdvisoryID, Metadata: meta}
	if newValue != nil {
		e.New = newValue
	}
	return e
}

// ReapResult is the reaper's summary (operations §8).
type ReapResult struct {
	ReapedRunning int `json:"reaped_running"`
	ReapedQueued  int `json:"reaped_queued"`
}

// Reap fails publication tasks stuck in running or queued past the
// thresholds (lifecycle P7, operations §8): each candidate is re-locked
// with FOR UPDATE SKIP LOCKED on its expected status, its age re-checked,
// then marked failed with the synthetic error and audited as
// publication.task_reaped. The advisory is never touched.
func (s *Publications) Reap(ctx context.Context) (ReapResult, error) {
	ctx = postgres.AsSystem(ctx)
	var res ReapResult
	now := s.cfg.Now()
	cands, err := s.cfg.DB.StalePublicationTasks(ctx, now.Add(-s.cfg.StaleRunning), now.Add(-s.cfg.StaleQueued), 500)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, c := range cands {
		reaped := false
		err := s.cfg.DB.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
			reaped = false
			task, since, ok, err := tx.LockStalePublicationTask(ctx, c.ID, c.Status)
			if err != nil || !ok {
				return err
			}
			threshold := s.cfg.StaleQueued
			if c.Status == publication.StatusRunning {
				threshold = s.cfg.StaleRunning
			}
			age := now.Sub(since)
			if age <= threshold {
				return nil
			}
			msg := s.scrub(publication.ReapError(c.Status, age))
			if ok, err = tx.ReapPublicationTask(ctx, c.ID, c.Status, msg); err != nil || !ok {
				return err
			}
			reaped = true
			return tx.InsertAudit(ctx, s.workerAudit(task, audit.PublicationTaskReaped, map[string]any{"task_id": task.ID},
				map[string]any{"task_id": task.ID, "previous_status": string(c.Status), "age_seconds": int64(age / time.Second),
					"stale_after_seconds": int64(threshold / time.Second), "error": msg}))
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("reap publication task %d: %w", c.ID, err))
			continue
		}
		if reaped {
			s.metric("failed")
			if c.Status == publication.StatusRunning {
				res.ReapedRunning++
			} else {
				res.ReapedQueued++
			}
		}
	}
	return res, errors.Join(errs...)
}

func (s *Publications) metric(status string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Publication(status)
	}
}

func (s *Publications) stage(stage string) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.PublicationStage(stage)
	}
}

func (s *Publications) duration(task publication.Task) {
	if s.cfg.Metrics != nil && task.StartedAt != nil {
		s.cfg.Metrics.PublicationDuration(s.cfg.Now().Sub(*task.StartedAt))
	}
}
