package boot

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/csaf"
	"github.com/eclipse-csi/advisoryhub/shared/csafprovider"
	"github.com/eclipse-csi/advisoryhub/shared/gitrepo"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
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
			// The host key is trusted on first use and pinned in PostgreSQL,
			// so every later publish, in any instance, requires it.
			cfg.HostKeys = a.DB.SSHHostKeys()
		}
		var err error
		if repo, err = gitrepo.New(cfg); err != nil {
			return fmt.Errorf("boot: publication repository: %s", redact.Literals(err.Error(), pc.Token.Value()))
		}
	}
	// The process's one recorder (EMF lines in Lambda, the Prometheus
	// registry behind /metrics elsewhere), so the local shim shows the
	// publication series too.
	rec, _ := a.Metrics.(app.PublicationMetrics)
	derive, err := a.csafProvider()
	if err != nil {
		return err
	}
	pubs, err := app.NewPublications(app.PublicationsConfig{
		DB: a.DB, Repo: repo, Branch: pc.Branch, Templates: templates, Token: pc.Token.Value(),
		CVEAssignerOrgID: pc.CVEAssignerOrgID, CVEAssignerShortName: pc.CVEAssignerShortName,
		StaleRunning: pc.StaleRunning, StaleQueued: pc.StaleQueued, Metrics: rec, Derive: derive,
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

// csafProvider returns the Derive hook that keeps the repository a CSAF 2.0
// trusted provider (issue 7 item 6): provider-metadata.json, index.txt,
// changes.csv, the ROLIE feed, hashes and, with a signing key, signatures,
// derived in the same commit as the documents. Nil when
// PUB_CSAF_PROVIDER_URL is unset.
func (a *App) csafProvider() (func(context.Context, fs.FS, []string) ([]gitrepo.File, error), error) {
	pc := a.Config.Publication
	if pc.CSAFProviderURL == "" {
		return nil, nil
	}
	root, _, _ := strings.Cut(pc.CSAFPathTemplate, "/")
	prov, err := csafprovider.New(csafprovider.Config{
		Root:    root,
		BaseURL: strings.TrimRight(pc.CSAFProviderURL, "/") + "/",
		Publisher: csafprovider.Publisher{
			Category: "vendor", Name: csaf.PublisherName, Namespace: csaf.PublisherNamespace,
		},
		SigningKey:           []byte(pc.CSAFSigningKey.Value()),
		SigningKeyPassphrase: []byte(pc.CSAFSigningKeyPassphrase.Value()),
	})
	if err != nil {
		return nil, fmt.Errorf("boot: CSAF provider: %w", err)
	}
	return func(ctx context.Context, tree fs.FS, changed []string) ([]gitrepo.File, error) {
		res, err := prov.Build(tree, changed...)
		if err != nil {
			return nil, err
		}
		for _, p := range res.Problems {
			a.Logger.WarnContext(ctx, "CSAF provider layout problem", "problem", fmt.Sprint(p))
		}
		files := make([]gitrepo.File, len(res.Files))
		for i, f := range res.Files {
			files[i] = gitrepo.File{Path: f.Path, Content: f.Content}
		}
		return files, nil
	}, nil
}
