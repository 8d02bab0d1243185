package app

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Maintenance is the maintenance-mode switch (permissions §9,
// INV-MAINT-1). The HTTP adapter checks step-up before calling it.
type Maintenance struct {
	db *postgres.DB
}

// NewMaintenance builds the use case.
func NewMaintenance(db *postgres.DB) (*Maintenance, error) {
	if db == nil {
		return nil, errors.New("maintenance: DB is required")
	}
	return &Maintenance{db: db}, nil
}

// MaxMaintenanceMessage bounds the banner message.
const MaxMaintenanceMessage = 2000

// Status reads the switch (admins only: it is an admin-console page).
func (m *Maintenance) Status(ctx context.Context, c Caller) (postgres.Maintenance, error) {
	if err := access.Check(c.Subject(), access.CapAdminConsole, access.Target{}); err != nil {
		return postgres.Maintenance{}, err
	}
	return m.db.MaintenanceMode(ctx)
}

// Set turns maintenance mode on (with a banner message) or off. A fresh
// enable, or a new message while on, records maintenance.enabled; turning
// it off records maintenance.disabled with the previous message. Setting
// the state it already has (with the same message) changes and records
// nothing.
func (m *Maintenance) Set(ctx context.Context, c Caller, enabled bool, message string) (postgres.Maintenance, error) {
	if err := access.Check(c.Subject(), access.CapToggleMaintenance, access.Target{}); err != nil {
		return postgres.Maintenance{}, err
	}
	message = strings.TrimSpace(message)
	if !enabled {
		message = ""
	}
	if len([]rune(message)) > MaxMaintenanceMessage {
		return postgres.Maintenance{}, apperr.New(apperr.Invalid, "message is too long")
	}
	var out postgres.Maintenance
	err := m.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		prev, err := tx.MaintenanceModeForUpdate(ctx)
		if err != nil {
			return err
		}
		if prev.Enabled == enabled && prev.Message == message {
			out = prev
			return nil
		}
		if out, err = tx.SetMaintenanceMode(ctx, enabled, message, c.UserID); err != nil {
			return err
		}
		e := audit.Entry{ActorID: c.UserID, Action: audit.MaintenanceEnabled, IP: c.IP, UserAgent: c.UserAgent,
			Previous: map[string]any{"is_enabled": prev.Enabled, "message": prev.Message},
			New:      map[string]any{"is_enabled": enabled, "message": message}}
		if !enabled {
			e.Action = audit.MaintenanceDisabled
		}
		return tx.InsertAudit(ctx, e)
	})
	if err != nil {
		return postgres.Maintenance{}, err
	}
	return out, nil
}
