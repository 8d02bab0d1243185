package boot

import (
	"net/http"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/frontend"
	"github.com/eclipse-csi/advisoryhub/shared/metrics"
)

// WebHandler builds the web function's handler: sign-in and sessions, the
// JSON API, the HTML pages, the public report form, the probes and the
// platform middleware. Request
// metrics go to a Prometheus registry served at /metrics, or, inside
// Lambda, out as CloudWatch embedded-metric-format lines on stdout.
func (a *App) WebHandler() (http.Handler, error) {
	sessions, err := app.NewSessions(app.SessionsConfig{DB: a.DB, AdminGroup: a.Config.OIDC.AdminGroup,
		IdleTimeout: a.Config.Web.SessionIdleTimeout})
	if err != nil {
		return nil, err
	}
	au, err := auth.New(auth.Config{DB: a.DB, Sessions: sessions, OIDC: a.Config.OIDC, Web: a.Config.Web,
		Production: a.Config.Production(), Logger: a.Logger})
	if err != nil {
		return nil, err
	}
	advisories, err := app.NewAdvisories(app.AdvisoriesConfig{DB: a.DB})
	if err != nil {
		return nil, err
	}
	maintenance, err := app.NewMaintenance(a.DB)
	if err != nil {
		return nil, err
	}
	projects, err := app.NewProjects(app.ProjectsConfig{DB: a.DB, AdminGroup: a.Config.OIDC.AdminGroup})
	if err != nil {
		return nil, err
	}
	comments, err := app.NewComments(app.CommentsConfig{DB: a.DB})
	if err != nil {
		return nil, err
	}
	grants, err := app.NewGrants(app.GrantsConfig{DB: a.DB})
	if err != nil {
		return nil, err
	}
	cfg := frontend.Config{Logger: a.Logger, Health: a.Health(), Auth: au, DB: a.DB, Advisories: advisories,
		Projects: projects, Comments: comments, Grants: grants, Maintenance: maintenance,
		Intake: a.Intake, Limiter: a.Limiter, RateLimit: a.Config.RateLimit, IntakeDisabled: a.Config.Intake.Disabled,
		Web: a.Config.Web, Production: a.Config.Production(), Publications: a.Publications}
	cfg.Metrics = a.Metrics
	if p, ok := a.Metrics.(*metrics.Prometheus); ok {
		cfg.MetricsHandler = p.Handler()
	}
	return frontend.Build(cfg)
}
