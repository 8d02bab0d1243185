// Package app holds the use cases. It is the only caller of
// postgres.DB.InTx: each use case checks authorization with shared/access,
// validates with the domain packages, and writes the change, its audit
// entry and any outbox row in one transaction acting as the caller's
// principal.
package app

import (
	"context"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Caller is who invokes a use case, as the auth middleware loaded it from
// the session and the stored group mirror (INV-OIDC-2), plus the request
// facts every audit entry carries (INV-AUDIT-4). The zero Caller is
// anonymous.
type Caller struct {
	UserID    int64
	IsAdmin   bool
	GroupIDs  []int64
	IP        string
	UserAgent string
}

// Subject is the caller as shared/access sees it.
func (c Caller) Subject() access.Subject {
	return access.Subject{UserID: c.UserID, IsAdmin: c.IsAdmin, GroupIDs: c.GroupIDs}
}

// principal returns ctx acting as the caller for row-level security.
func (c Caller) principal(ctx context.Context) context.Context {
	return postgres.WithPrincipal(ctx, postgres.Principal{UserID: c.UserID, IsAdmin: c.IsAdmin})
}
