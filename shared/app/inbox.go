package app

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// InboxLimit is how many entries of each queue the inbox returns.
const InboxLimit = 200

// Inbox is the admin team's action feed (requirements §4.11): the size of
// every queue and the oldest entries of the queues asked for.
type Inbox struct {
	Counts map[postgres.InboxCategory]int
	Items  map[postgres.InboxCategory][]postgres.InboxItem
}

// Inbox reads the admin inbox (admin only): every queue, or only the
// category given. An unknown category is refused naming the field.
func (s *Advisories) Inbox(ctx context.Context, c Caller, category string) (Inbox, error) {
	if err := access.Check(c.Subject(), access.CapAdminConsole, access.Target{}); err != nil {
		return Inbox{}, err
	}
	cats := postgres.InboxCategories
	if category != "" {
		cat := postgres.InboxCategory(category)
		if !cat.Valid() {
			return Inbox{}, invalidField("category", "unknown inbox category")
		}
		cats = []postgres.InboxCategory{cat}
	}
	out := Inbox{Items: make(map[postgres.InboxCategory][]postgres.InboxItem, len(cats))}
	// One snapshot, so the counts and the lists agree.
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		var err error
		if out.Counts, err = tx.InboxCounts(ctx); err != nil {
			return err
		}
		for _, cat := range cats {
			items, err := tx.InboxItems(ctx, cat, InboxLimit)
			if err != nil {
				return err
			}
			out.Items[cat] = items
		}
		return nil
	})
	return out, err
}
