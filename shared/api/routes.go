package api

import (
	"net/http"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// routes is the API's route table: every endpoint, its method and pattern
// (Go 1.22 ServeMux patterns). Every route requires a session.
func (s *server) routes() []route {
	l := s.cfg.Limiter
	rts := []route{
		{"GET", "/api/me/", s.serveMe},
		{"GET", "/api/advisories/", s.serveListAdvisories},
		{"POST", "/api/advisories/", s.serveCreateAdvisory},
		{"GET", "/api/advisories/{advisory_id}/", s.serveAdvisory},
		{"PATCH", "/api/advisories/{advisory_id}/", s.servePatchAdvisory},
		{"POST", "/api/advisories/{advisory_id}/dismiss/", s.action("reason", s.dismiss)},
		{"POST", "/api/advisories/{advisory_id}/reopen/", s.action("", s.reopen)},
		{"POST", "/api/advisories/{advisory_id}/promote/", limit(l, "api.promote", ActionRule, s.action("project", s.promote))},
		{"POST", "/api/advisories/{advisory_id}/reassign/", s.action("project", s.reassign)},
		{"POST", "/api/advisories/{advisory_id}/change-project/", s.action("project", s.changeProject)},
		{"POST", "/api/advisories/{advisory_id}/flag-routing/", limit(l, "api.flag_routing", ActionRule, s.action("note", s.flagRouting))},
		{"POST", "/api/advisories/{advisory_id}/clear-routing/", limit(l, "api.clear_routing", ActionRule, s.action("note", s.clearRouting))},
		{"POST", "/api/advisories/{advisory_id}/withdraw/", s.action("reason", s.withdraw)},
		{"GET", "/api/projects/", s.serveListProjects},
		{"POST", "/api/projects/", s.serveCreateProject},
		{"PATCH", "/api/projects/{slug}/", s.servePatchProject},
		{"GET", "/api/admin/maintenance/", s.serveMaintenance},
		{"POST", "/api/admin/maintenance/", s.serveSetMaintenance},
	}
	rts = append(rts, s.workflowRoutes()...) // issue 6: review, CVE, requests, dashboard (dashboard.go)
	rts = append(rts, s.inboxRoutes()...)    // the admin inbox, CVE bans and orphan CVEs (inbox.go)
	rts = append(rts, s.publicationRoutes()...)
	rts = append(rts, s.access.commentWriteRoutes()...) // issue 5: comment edit, redaction, history (comments_write.go)
	rts = append(rts, s.access.invitationRoutes()...)
	return append(rts, s.access.routes()...)
}

// serveFunc is an endpoint's body, reached with a signed-in user.
type serveFunc func(w http.ResponseWriter, r *http.Request, u *auth.User) error

// ActionRule is the limit of the routing and promotion actions
// (permissions §12: promote, flag, clear flag — 20/h per user).
var ActionRule = ratelimit.Rule{Limit: 20, Period: time.Hour}

// limit counts the caller's hit on route before serve runs; over the limit
// it answers 429 rate_limited with Retry-After and serve never runs
// (INV-RATELIMIT-1).
func limit(l *ratelimit.Limiter, route string, rule ratelimit.Rule, serve serveFunc) serveFunc {
	return func(w http.ResponseWriter, r *http.Request, u *auth.User) error {
		d, err := l.Check(r.Context(), route, rule, ratelimit.UserSubject(u.ID))
		if err != nil {
			return err
		}
		if !d.Allowed {
			w.Header().Set("Retry-After", d.RetryAfterSeconds())
			return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "Rate limit exceeded. Try again later."}
		}
		return serve(w, r, u)
	}
}
