package api

import (
	"net/http"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

type maintenanceResponse struct {
	IsEnabled bool   `json:"is_enabled"`
	Message   string `json:"message"`
	UpdatedAt Time   `json:"updated_at"`
}

func maintenanceOf(m postgres.Maintenance) maintenanceResponse {
	return maintenanceResponse{IsEnabled: m.Enabled, Message: m.Message, UpdatedAt: apiTimePtr(m.UpdatedAt)}
}

// serveMaintenance reads the switch: GET /api/admin/maintenance/ (admin).
func (s *server) serveMaintenance(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	m, err := s.cfg.Maintenance.Status(r.Context(), s.cfg.Auth.Caller(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, maintenanceOf(m))
	return nil
}

// serveSetMaintenance toggles it: POST /api/admin/maintenance/ with
// {"is_enabled": bool, "message": str} (admin, step-up; permission is
// checked before step-up).
func (s *server) serveSetMaintenance(w http.ResponseWriter, r *http.Request, u *auth.User) error {
	if err := access.Check(u.Subject(), access.CapToggleMaintenance, access.Target{}); err != nil {
		return err
	}
	if err := s.cfg.Auth.RequireStepUp(r.Context()); err != nil {
		return err
	}
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	if !b.has("is_enabled") {
		return badRequest("invalid_body", "is_enabled is required.")
	}
	on, err := b.boolean("is_enabled")
	if err != nil {
		return err
	}
	msg, err := b.str("message")
	if err != nil {
		return err
	}
	m, err := s.cfg.Maintenance.Set(r.Context(), s.cfg.Auth.Caller(r), on, msg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, maintenanceOf(m))
	return nil
}
