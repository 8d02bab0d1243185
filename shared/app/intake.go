package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/intake"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Intake is the public report service, submit_triage_report (requirements
// §4.3, §6.1) — the single constructor of native triage advisories
// (INV-LIFECYCLE-2). It is trusted plumbing reached by anonymous callers,
// so its transaction acts as the system principal; the caller is recorded
// as the reporter and the audit actor. The rate limit runs before it, in
// the HTTP layer (INV-RATELIMIT-1).
type Intake struct {
	db        *postgres.DB
	now       func() time.Time
	rand      io.Reader
	altchaKey []byte
}

// IntakeConfig wires Intake.
type IntakeConfig struct {
	DB *postgres.DB
	// ALTCHAKey is ALTCHA_HMAC_KEY; empty switches the proof-of-work check
	// off.
	ALTCHAKey []byte
	Now       func() time.Time // nil: time.Now
	Rand      io.Reader        // advisory ids, challenges; nil: crypto/rand
}

// NewIntake builds the intake service.
func NewIntake(cfg IntakeConfig) (*Intake, error) {
	if cfg.DB == nil {
		return nil, errors.New("intake: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Intake{db: cfg.DB, now: cfg.Now, rand: cfg.Rand, altchaKey: cfg.ALTCHAKey}, nil
}

// ALTCHAEnabled reports whether anonymous reports need a proof of work.
func (s *Intake) ALTCHAEnabled() bool { return len(s.altchaKey) > 0 }

// Challenge issues an ALTCHA challenge for the widget.
func (s *Intake) Challenge() (intake.Challenge, error) {
	if !s.ALTCHAEnabled() {
		return intake.Challenge{}, errors.New("intake: ALTCHA is not configured")
	}
	return intake.NewChallenge(intake.ChallengeOptions{Key: s.altchaKey, Now: s.now(), Rand: s.rand})
}

// Submission is one POST of the report form.
type Submission struct {
	Report   intake.Report
	Honeypot string // the hidden field (anonymous form only)
	ALTCHA   string // the widget's payload
}

// Receipt is what the reporter is shown: a reference shaped like an
// advisory id. A honeypot trip gets a random one of the same shape, so the
// answer gives a bot nothing to tell the two apart by (INV-INTAKE-1).
type Receipt struct {
	Ref advisory.ID
	// Honeypot is for logs and tests only; it must never reach the
	// response.
	Honeypot bool
}

// Submit files a report. In order, so that every failure a bot could
// observe is the same whether or not it tripped the honeypot: validation
// (an *advisory.ValidationError), the ALTCHA check for anonymous callers
// when configured (intake.ErrALTCHA, replay included), the project lookup;
// then either the honeypot row alone (no advisory, INV-INTAKE-1) or the
// triage advisory with v1, its intake sidecar (IP, User-Agent, routing
// flag on `unsorted`, INV-INTAKE-4), the signed-in reporter's viewer grant
// (INV-INTAKE-3) and advisory.triage_submitted.
// The report has no email field; a reporter is known only by session
// (INV-INTAKE-2).
func (s *Intake) Submit(ctx context.Context, c Caller, sub Submission) (Receipt, error) {
	if err := access.Check(c.Subject(), access.CapSubmitTriageReport, access.Target{}); err != nil {
		return Receipt{}, err
	}
	r := sub.Report.Normalize()
	if err := r.Validate(); err != nil {
		return Receipt{}, err
	}
	anonymous := c.UserID == 0
	var (
		sol     intake.Solution
		expires time.Time
		checked bool
	)
	if anonymous && s.ALTCHAEnabled() {
		var err error
		if sol, expires, err = intake.VerifySolution(sub.ALTCHA, s.altchaKey, s.now()); err != nil {
			return Receipt{}, err
		}
		checked = true
	}
	var rc Receipt
	err := s.db.InTx(postgres.AsSystem(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		rc = Receipt{}
		now := s.now()
		if checked {
			fresh, err := tx.ClaimALTCHAChallenge(ctx, intake.ReplayKey(sol), expires)
			if err != nil {
				return err
			}
			if !fresh {
				return intake.ErrReplayed
			}
		}
		slug := r.ProjectSlug
		if r.Unsorted() {
			slug = project.UnsortedSlug
		}
		p, err := tx.ProjectBySlug(ctx, slug)
		if errors.Is(err, project.ErrNotFound) && !r.Unsorted() {
			return intake.UnknownProject()
		}
		if err != nil {
			return err
		}
		if anonymous && intake.HoneypotTripped(sub.Honeypot) {
			if _, err := tx.InsertHoneypot(ctx, postgres.Honeypot{IP: c.IP, UserAgent: intake.Truncate(c.UserAgent, intake.MaxUserAgent),
				Value: intake.Truncate(sub.Honeypot, intake.MaxHoneypot), SubmittedAt: now}); err != nil {
				return err
			}
			decoy, err := advisory.NewID(s.rand)
			if err != nil {
				return err
			}
			rc = Receipt{Ref: decoy, Honeypot: true}
			return nil
		}
		a, err := tx.InsertAdvisory(ctx, postgres.NewAdvisory{
			ProjectID:   p.ID,
			State:       advisory.StateTriage,
			Kind:        advisory.KindNative,
			Content:     advisory.Content{Summary: r.Summary, Details: r.Details},
			CreatedByID: c.UserID,
		}, s.rand)
		if err != nil {
			return err
		}
		if _, _, err := tx.AppendVersion(ctx, a.ID, c.UserID, postgres.AppendAlways); err != nil {
			return err
		}
		unsorted := p.IsUnsorted()
		if err := tx.InsertIntakeMetadata(ctx, postgres.IntakeMetadata{
			AdvisoryID: a.ID, ReporterUserID: c.UserID, DisplayName: r.DisplayName,
			IP: c.IP, UserAgent: intake.Truncate(c.UserAgent, intake.MaxUserAgent),
			NeedsAdminRouting: unsorted, SubmittedAt: now,
		}); err != nil {
			return err
		}
		entries := []audit.Entry{advisoryAudit(c, a, audit.AdvisoryTriageSubmitted, map[string]any{
			"advisory_id": a.AdvisoryID, "project_slug": p.Slug, "authenticated": !anonymous, "unsorted": unsorted,
		})}
		if !anonymous {
			up, err := tx.UpsertGrant(ctx, a.ID, access.PrincipalUser, c.UserID, access.PermissionViewer, 0, now)
			if err != nil {
				return err
			}
			e := grantAudit(c, a, up.Grant, up)
			e.Metadata["reason"] = "intake_reporter"
			entries = append(entries, e)
		}
		if err := insertAudits(ctx, tx, entries); err != nil {
			return err
		}
		rc = Receipt{Ref: a.AdvisoryID}
		return nil
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("submit report: %w", err)
	}
	return rc, nil
}

// Projects is the public picker (GET /report/projects.json): at most 200
// projects whose slug or name contains q, by name, never `unsorted`.
func (s *Intake) Projects(ctx context.Context, q string) ([]postgres.ReportProject, error) {
	const limit = 200
	q = intake.Truncate(q, 200)
	ps, err := s.db.ReportProjects(ctx, q, limit)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = []postgres.ReportProject{}
	}
	return ps, nil
}

// PruneReplayMarkers drops the ALTCHA replay markers of expired
// challenges (a scheduled sweep).
func (s *Intake) PruneReplayMarkers(ctx context.Context) (int64, error) {
	return s.db.PruneALTCHAMarkers(ctx, s.now())
}
