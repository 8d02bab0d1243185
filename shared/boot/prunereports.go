package boot

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
)

// registerReportPrune registers prune-reports, the intake-PII retention
// command (operations §11 prune_reports). It is manual only, as in the
// original (operations §8: "intake-PII pruning are manual only"), so there
// is no schedule. It records no ledger entry (the closed action list has
// none for it); the summary is the command's output and one log line.
func (a *App) registerReportPrune() {
	rr, err := app.NewReportRetention(app.ReportRetentionConfig{DB: a.DB})
	if err != nil {
		panic("boot: " + err.Error()) // only without a DB, which New has by now
	}
	a.Registry.AddCommand(jobs.Command{
		Name: "prune-reports",
		Usage: "[--retention-days N] [--advisory-id ID] [--dry-run]: scrub the PII of public reports " +
			"(intake sidecars of advisories out of triage and unmodified for N days; honeypot rows older than N days)",
		Run: func(ctx context.Context, args []string, out io.Writer) error {
			fs := flag.NewFlagSet("prune-reports", flag.ContinueOnError)
			fs.SetOutput(out)
			days := fs.Int("retention-days", a.Config.Intake.ReportRetentionDays, "horizon in days (> 0)")
			id := fs.String("advisory-id", "", "scrub only this advisory's intake sidecar, whatever its age and state")
			dryRun := fs.Bool("dry-run", false, "only count what would be scrubbed")
			if err := fs.Parse(args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return fmt.Errorf("prune-reports: unexpected arguments %q", fs.Args())
			}
			res, err := rr.Prune(ctx, app.ReportPrune{RetentionDays: *days, AdvisoryID: *id, DryRun: *dryRun})
			if err != nil {
				return fmt.Errorf("prune-reports: %w", err)
			}
			a.Logger.InfoContext(ctx, "intake PII pruned", "dry_run", res.DryRun, "advisory_id", res.AdvisoryID,
				"cutoff", res.Cutoff, "sidecars", res.Sidecars, "honeypots", res.Honeypots, "already_cleared", res.AlreadyCleared)
			verb := "scrubbed"
			if res.DryRun {
				verb = "would be scrubbed"
			}
			if res.AdvisoryID != "" {
				if res.AlreadyCleared {
					fmt.Fprintf(out, "intake sidecar of %s: already cleared, nothing to do\n", res.AdvisoryID)
					return nil
				}
				fmt.Fprintf(out, "intake sidecar of %s: %s\n", res.AdvisoryID, verb)
				return nil
			}
			fmt.Fprintf(out, "cutoff %s\nintake sidecars %s: %d\nhoneypot rows %s: %d\n",
				res.Cutoff, verb, res.Sidecars, verb, res.Honeypots)
			return nil
		},
	})
}
