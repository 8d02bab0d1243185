package boot

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/gitrepo"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/metrics"
	"github.com/eclipse-csi/advisoryhub/shared/redact"
)

// The reaper's scheduled job (operations §8): every 10 minutes.
const (
	reaperJob   = "publication-task-reaper"
	reaperEvery = 10 * time.Minute
)

// buildPublications builds the publication use cases from PUB_*, registers
// the publication.run handler (a plain, self-idempotent handler on the
// publish queue) and the publication-task-reaper scheduled job. With
// PUB_REPO_URL unset, tasks can still be queued; they fail at the git step
// with a readable reason.
func (a *App) buildPublications() error {
	pc := a.Config.Publication
	templates := gitrepo.Templates{OSV: pc.OSVPathTemplate, CSAF: pc.CSAFPathTemplate, CVE: pc.CVEPathTemplate}
	var repo *gitrepo.Publisher
	if pc.RepoURL != "" {
		cfg := gitrepo.Config{URL: pc.RepoURL, Branch: pc.Branch, AuthorName: pc.AuthorName, AuthorEmail: pc.AuthorEmail,
			Templates: templates}
		switch {
		case strings.HasPrefix(pc.RepoURL, "file://"):
			// Local runs: no credentials.
		case pc.Auth == "token":
			cfg.Token = pc.Token.Value()
		default:
			key := []byte(pc.SSHKey.Value())
			if pc.SSHKeyPath != "" {
				b, err := os.ReadFile(pc.SSHKeyPath)
				if err != nil {
					return fmt.Errorf("boot: PUB_REPO_SSH_KEY_PATH: cannot read the key file")
				}
				key = b
			}
			cfg.SSHKey = key
			// The host key is trusted on first use and pinned for the life
			// of this process; a durable pin needs a column for it.
			cfg.HostKeys = &gitrepo.MemoryHostKeys{}
		}
		var err error
		if repo, err = gitrepo.New(cfg); err != nil {
			return fmt.Errorf("boot: publication repository: %s", redact.Literals(err.Error(), pc.Token.Value()))
		}
	}
	var rec app.PublicationMetrics
	if a.Config.Lambda {
		rec = metrics.NewEMF(os.Stdout, nil)
	}
	pubs, err := app.NewPublications(app.PublicationsConfig{
		DB: a.DB, Repo: repo, Branch: pc.Branch, Templates: templates, Token: pc.Token.Value(),
		CVEAssignerOrgID: pc.CVEAssignerOrgID, CVEAssignerShortName: pc.CVEAssignerShortName,
		StaleRunning: pc.StaleRunning, StaleQueued: pc.StaleQueued, Metrics: rec,
	})
	if err != nil {
		return err
	}
	a.Publications = pubs
	a.Runner.Handle(app.KindRunPublication, pubs.Run)
	a.Registry.AddScheduled(jobs.Scheduled{
		Name:  reaperJob,
		Every: reaperEvery,
		Run: func(ctx context.Context) (any, error) {
			return pubs.Reap(ctx)
		},
	})
	return nil
}
