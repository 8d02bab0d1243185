package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Maintenance is the maintenance-mode singleton (data-model §13.1); an
// absent row means off.
type Maintenance struct {
	Enabled     bool
	Message     string
	UpdatedAt   *time.Time
	UpdatedByID int64 // 0 = none
}

// MaintenanceMode reads the switch. It is never cached: the enforcement in
// the request middleware must see every instance's latest write
// (INV-MAINT-1).
func (db *DB) MaintenanceMode(ctx context.Context) (Maintenance, error) {
	return db.maintenance(ctx, "")
}

// MaintenanceModeForUpdate reads and locks the switch (creating the row if
// absent, so the lock has a row to hold). It must be called inside InTx.
func (db *DB) MaintenanceModeForUpdate(ctx context.Context) (Maintenance, error) {
	if db.tx == nil {
		return Maintenance{}, errors.New("postgres: MaintenanceModeForUpdate outside a transaction")
	}
	if _, err := db.Exec(ctx, `INSERT INTO maintenance_mode (id) VALUES (1) ON CONFLICT (id) DO NOTHING`); err != nil {
		return Maintenance{}, fmt.Errorf("maintenance mode: %w", err)
	}
	return db.maintenance(ctx, " FOR UPDATE")
}

func (db *DB) maintenance(ctx context.Context, lock string) (Maintenance, error) {
	var m Maintenance
	err := db.QueryRow(ctx, `SELECT is_enabled, message, updated_at, coalesce(updated_by_id, 0)
		FROM maintenance_mode WHERE id = 1`+lock).Scan(&m.Enabled, &m.Message, &m.UpdatedAt, &m.UpdatedByID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Maintenance{}, nil
	}
	if err != nil {
		return Maintenance{}, fmt.Errorf("maintenance mode: %w", err)
	}
	return m, nil
}

// SetMaintenanceMode writes the switch.
func (db *DB) SetMaintenanceMode(ctx context.Context, enabled bool, message string, byUserID int64) (Maintenance, error) {
	var m Maintenance
	err := db.QueryRow(ctx, `INSERT INTO maintenance_mode (id, is_enabled, message, updated_at, updated_by_id)
		VALUES (1, $1, $2, now(), NULLIF($3, 0))
		ON CONFLICT (id) DO UPDATE SET is_enabled = EXCLUDED.is_enabled, message = EXCLUDED.message,
			updated_at = EXCLUDED.updated_at, updated_by_id = EXCLUDED.updated_by_id
		RETURNING is_enabled, message, updated_at, coalesce(updated_by_id, 0)`, enabled, message, byUserID).Scan(
		&m.Enabled, &m.Message, &m.UpdatedAt, &m.UpdatedByID)
	if err != nil {
		return Maintenance{}, fmt.Errorf("set maintenance mode: %w", err)
	}
	return m, nil
}
