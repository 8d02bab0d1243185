package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// ReportRetention is the intake-PII retention use case, the operator
// command prune_reports (operations §11, data-model §16): it scrubs the
// personal data of public reports — sidecar reporter user, display name,
// IP and User-Agent; honeypot IP, User-Agent and input — once they are
// past the horizon, and stamps pii_cleared_at. Advisories, their versions,
// comments and audit history stay as they are.
//
// It writes no ledger entry: the closed action list (audit-actions.md) has
// none for it, unlike prune_audit and forget_user. The caller logs the
// summary.
type ReportRetention struct {
	db        *postgres.DB
	now       func() time.Time
	batchSize int
}

// ReportRetentionConfig wires ReportRetention.
type ReportRetentionConfig struct {
	DB  *postgres.DB
	Now func() time.Time // nil: time.Now
	// BatchSize bounds the rows one transaction scrubs (default
	// DefaultReportPruneBatch), so a large backlog never holds many row
	// locks or one long transaction.
	BatchSize int
}

// DefaultReportPruneBatch is the default rows per transaction.
const DefaultReportPruneBatch = 500

// NewReportRetention builds the use case.
func NewReportRetention(cfg ReportRetentionConfig) (*ReportRetention, error) {
	if cfg.DB == nil {
		return nil, errors.New("report retention: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultReportPruneBatch
	}
	return &ReportRetention{db: cfg.DB, now: cfg.Now, batchSize: cfg.BatchSize}, nil
}

// ReportPrune is one run's request.
type ReportPrune struct {
	// RetentionDays is the horizon (INTAKE_REPORT_RETENTION_DAYS); must be
	// positive. Ignored with AdvisoryID.
	RetentionDays int
	// AdvisoryID, when set, scrubs only that advisory's sidecar, whatever
	// its age and state; honeypot rows are left alone.
	AdvisoryID string
	// DryRun only counts.
	DryRun bool
}

// ReportPruneResult is one run's summary.
type ReportPruneResult struct {
	DryRun     bool   `json:"dry_run,omitempty"`
	AdvisoryID string `json:"advisory_id,omitempty"`
	// Cutoff is now − RetentionDays (RFC 3339); empty with AdvisoryID.
	Cutoff string `json:"cutoff,omitempty"`
	// Sidecars and Honeypots count the rows scrubbed (a dry run: the rows
	// that would be).
	Sidecars  int64 `json:"sidecars"`
	Honeypots int64 `json:"honeypots"`
	// AlreadyCleared: the AdvisoryID's sidecar had been scrubbed before.
	AlreadyCleared bool `json:"already_cleared,omitempty"`
}

// Prune runs one retention pass as the system principal. Each batch is its
// own transaction, so an interrupted run keeps what it scrubbed and the
// next run continues (scrubbed rows are never selected again).
func (r *ReportRetention) Prune(ctx context.Context, req ReportPrune) (ReportPruneResult, error) {
	ctx = postgres.AsSystem(ctx)
	res := ReportPruneResult{DryRun: req.DryRun}
	now := r.now().UTC()
	if req.AdvisoryID != "" {
		return r.pruneOne(ctx, req, now)
	}
	if req.RetentionDays <= 0 {
		return res, apperr.New(apperr.Invalid, fmt.Sprintf("retention days must be positive, got %d", req.RetentionDays))
	}
	cutoff := now.AddDate(0, 0, -req.RetentionDays)
	res.Cutoff = cutoff.Format(time.RFC3339)
	if req.DryRun {
		// Inside a transaction: only there does row-level security see the
		// system principal.
		err := r.db.InTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
			var err error
			if res.Sidecars, err = tx.CountIntakeSidecarsDue(ctx, cutoff); err != nil {
				return err
			}
			res.Honeypots, err = tx.CountHoneypotsDue(ctx, cutoff)
			return err
		})
		return res, err
	}
	var err error
	if res.Sidecars, err = r.batches(ctx, func(tx *postgres.DB) (int64, error) {
		return tx.ScrubIntakeSidecarsDue(ctx, cutoff, now, r.batchSize)
	}); err != nil {
		return res, err
	}
	res.Honeypots, err = r.batches(ctx, func(tx *postgres.DB) (int64, error) {
		return tx.ScrubHoneypotsDue(ctx, cutoff, now, r.batchSize)
	})
	return res, err
}

// batches runs scrub, one transaction each, until a batch comes back short,
// and returns the total.
func (r *ReportRetention) batches(ctx context.Context, scrub func(tx *postgres.DB) (int64, error)) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int64
		err := r.db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
			var err error
			n, err = scrub(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(r.batchSize) {
			return total, nil
		}
	}
}

func (r *ReportRetention) pruneOne(ctx context.Context, req ReportPrune, now time.Time) (ReportPruneResult, error) {
	res := ReportPruneResult{DryRun: req.DryRun, AdvisoryID: req.AdvisoryID}
	id, err := advisory.ParseID(req.AdvisoryID)
	if err != nil {
		return res, err
	}
	opts := pgx.TxOptions{}
	if req.DryRun {
		opts.AccessMode = pgx.ReadOnly
	}
	err = r.db.InTx(ctx, opts, func(tx *postgres.DB) error {
		res.Sidecars, res.AlreadyCleared = 0, false
		st, err := tx.IntakeSidecarStateFor(ctx, id, !req.DryRun)
		if err != nil {
			return err
		}
		switch {
		case !st.HasSidecar:
			return apperr.New(apperr.NotFound, fmt.Sprintf("advisory %s has no intake sidecar (unknown, or not a public report)", id))
		case st.PIIClearedAt != nil:
			res.AlreadyCleared = true
			return nil
		case req.DryRun:
			res.Sidecars = 1
			return nil
		}
		ok, err := tx.ScrubIntakeSidecarOf(ctx, id, now)
		if ok {
			res.Sidecars = 1
		}
		return err
	})
	return res, err
}
