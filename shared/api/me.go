package api

import (
	"net/http"

	"github.com/eclipse-csi/advisoryhub/shared/auth"
)

type meResponse struct {
	AuthTime    Time     `json:"auth_time"`
	DisplayName string   `json:"display_name"`
	Email       string   `json:"email"`
	Groups      []string `json:"groups"`
	ID          int64    `json:"id"`
	IsAdmin     bool     `json:"is_admin"`
	StepUpAt    Time     `json:"step_up_at"`
	StepUpFresh bool     `json:"step_up_fresh"`
}

// serveMe is the caller's own profile: GET /api/me/ (own email unmasked,
// the mirrored groups, the admin flag, step-up freshness).
func (s *server) serveMe(w http.ResponseWriter, _ *http.Request, u *auth.User) error {
	groups := u.GroupNames
	if groups == nil {
		groups = []string{}
	}
	writeJSON(w, http.StatusOK, meResponse{
		AuthTime: apiTimePtr(u.AuthTime), DisplayName: u.DisplayName, Email: u.Email, Groups: groups,
		ID: u.ID, IsAdmin: u.IsAdmin, StepUpAt: apiTimePtr(u.StepUpAt), StepUpFresh: s.cfg.Auth.StepUpFresh(u),
	})
	return nil
}
