package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

// KindProcessWebhook is the job that processes a recorded GitHub delivery.
// GitHub work runs on the publish worker, which holds the GitHub App key.
const KindProcessWebhook queue.Kind = "ghsa.process_webhook"

// Webhooks are the GitHub App webhook use cases.
type Webhooks struct{ db *postgres.DB }

// NewWebhooks builds the webhook use cases.
func NewWebhooks(db *postgres.DB) (*Webhooks, error) {
	if db == nil {
		return nil, errors.New("webhooks: DB is required")
	}
	return &Webhooks{db: db}, nil
}

// Delivery is a verified, parsed webhook delivery. Digest holds only the
// fields processing needs; the request body itself is never stored.
type Delivery struct {
	DeliveryID     string
	Event          string
	Action         string
	InstallationID int64
	Digest         WebhookDigest
	IP, UserAgent  string
}

// WebhookDigest is what a delivery's processing job carries.
type WebhookDigest struct {
	Event          string `json:"event"`
	Action         string `json:"action,omitempty"`
	InstallationID int64  `json:"installation_id,omitempty"`
	AccountLogin   string `json:"account_login,omitempty"`
	AccountType    string `json:"account_type,omitempty"`
	RepoOwner      string `json:"repo_owner,omitempty"`
	RepoName       string `json:"repo_name,omitempty"`
	GHSAID         string `json:"ghsa_id,omitempty"`
}

type processPayload struct {
	DeliveryRowID int64         `json:"delivery_row_id"`
	Digest        WebhookDigest `json:"digest"`
}

// Receive records a delivery, audits it and queues its processing, all in
// one transaction (the job is sent after commit, INV-PUB-5). It reports
// false when the delivery id was already recorded: GitHub redelivered it,
// and nothing is written again.
func (w *Webhooks) Receive(ctx context.Context, d Delivery) (bool, error) {
	fresh := false
	err := w.db.InTx(postgres.AsSystem(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		id, ok, err := tx.InsertWebhookDelivery(ctx, postgres.WebhookDelivery{
			DeliveryID: d.DeliveryID, Event: d.Event, Action: d.Action, InstallationID: d.InstallationID,
		})
		if err != nil || !ok {
			return err
		}
		fresh = true
		if err := tx.InsertAudit(ctx, audit.Entry{
			Action:    audit.GHSAWebhookReceived,
			Metadata:  map[string]any{"delivery_id": d.DeliveryID, "event": d.Event, "action": d.Action, "installation_id": d.InstallationID},
			IP:        d.IP,
			UserAgent: d.UserAgent,
		}); err != nil {
			return err
		}
		_, err = tx.Enqueue(ctx, queue.Publish, KindProcessWebhook, processPayload{DeliveryRowID: id, Digest: d.Digest})
		return err
	})
	return fresh, err
}

// Reject audits a delivery refused before parsing (bad signature) or
// because its body was not JSON.
func (w *Webhooks) Reject(ctx context.Context, reason, deliveryID, event, ip, userAgent string) error {
	return w.db.InTx(postgres.AsSystem(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.InsertAudit(ctx, audit.Entry{
			Action:    audit.GHSAWebhookRejected,
			Metadata:  map[string]any{"reason": reason, "delivery_id": deliveryID, "event": event},
			IP:        ip,
			UserAgent: userAgent,
		})
	})
}

// Process is the KindProcessWebhook job. No event is acted on until the
// GHSA integration registers its reactions; until then each delivery is
// closed as skipped, as the original does for events it does not handle.
// It is transactional: the runner's receipt makes it run once.
func (w *Webhooks) Process(ctx context.Context, tx *postgres.DB, m queue.Message) error {
	var p processPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.DeliveryRowID == 0 {
		return queue.Permanent(fmt.Errorf("process webhook: bad payload"))
	}
	d, err := tx.WebhookDeliveryByIDForUpdate(ctx, p.DeliveryRowID)
	if err != nil {
		return queue.Permanent(err)
	}
	if d.Status != "received" {
		return nil // already closed
	}
	return tx.FinishWebhookDelivery(ctx, d.ID, "skipped", "")
}
