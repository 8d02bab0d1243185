package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebhookDelivery is one GitHub webhook delivery (the request body is never
// stored).
type WebhookDelivery struct {
	ID             int64
	DeliveryID     string
	Event          string
	Action         string
	InstallationID int64 // 0 = none
	Status         string
	LastError      string
	ReceivedAt     time.Time
	ProcessedAt    *time.Time
}

// InsertWebhookDelivery records a delivery as received. It reports fresh =
// false, and writes nothing, when the delivery id was seen before: the
// X-GitHub-Delivery id is the idempotency key.
func (db *DB) InsertWebhookDelivery(ctx context.Context, d WebhookDelivery) (id int64, fresh bool, err error) {
	var inst *int64
	if d.InstallationID != 0 {
		inst = &d.InstallationID
	}
	err = db.QueryRow(ctx, `INSERT INTO webhook_deliveries (delivery_id, event, action, installation_id)
		VALUES ($1, $2, $3, $4) ON CONFLICT (delivery_id) DO NOTHING RETURNING id`,
		d.DeliveryID, d.Event, d.Action, inst).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert webhook delivery: %w", err)
	}
	return id, true, nil
}

// WebhookDeliveryByIDForUpdate loads and locks a delivery row.
func (db *DB) WebhookDeliveryByIDForUpdate(ctx context.Context, id int64) (WebhookDelivery, error) {
	var d WebhookDelivery
	var inst *int64
	err := db.QueryRow(ctx, `SELECT id, delivery_id, event, action, installation_id, status, last_error, received_at, processed_at
		FROM webhook_deliveries WHERE id = $1 FOR UPDATE`, id).Scan(
		&d.ID, &d.DeliveryID, &d.Event, &d.Action, &inst, &d.Status, &d.LastError, &d.ReceivedAt, &d.ProcessedAt)
	if err != nil {
		return d, fmt.Errorf("webhook delivery %d: %w", id, notFound(err))
	}
	if inst != nil {
		d.InstallationID = *inst
	}
	return d, nil
}

// FinishWebhookDelivery records the outcome of processing a delivery.
func (db *DB) FinishWebhookDelivery(ctx context.Context, id int64, status, lastError string) error {
	_, err := db.Exec(ctx, `UPDATE webhook_deliveries SET status = $2, last_error = $3, processed_at = now() WHERE id = $1`,
		id, status, lastError)
	return err
}
