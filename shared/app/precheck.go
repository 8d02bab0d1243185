package app

import (
	"context"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// CheckWithdraw answers, without changing anything, whether c may withdraw
// advisory id now: nil, or the error Withdraw would return for the state
// or the permission. Adapters call it before asking for a step-up, so a
// caller who may not withdraw is refused before being sent to
// re-authenticate (permissions §8, §13: permission first everywhere).
// Withdraw decides again on the locked row.
func (s *Advisories) CheckWithdraw(ctx context.Context, c Caller, id advisory.ID) error {
	return readVisible(ctx, s.db, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		return authorize(c, a, t, advisory.TransitionWithdraw, access.CapWithdraw)
	})
}

// CheckReopen answers, without changing anything, whether c may reopen
// advisory id now, and whether that reopening is an un-withdrawal (L14),
// which pushes to the public repository and so needs a fresh step-up
// (permissions §13). Adapters ask for the step-up only after this passes;
// Reopen decides again on the locked row.
func (s *Advisories) CheckReopen(ctx context.Context, c Caller, id advisory.ID) (unwithdraw bool, err error) {
	err = readVisible(ctx, s.db, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if unwithdraw = a.State == advisory.StateDismissed && a.DismissedFromState == advisory.StatePublished; unwithdraw {
			return access.Check(c.Subject(), access.CapUnwithdraw, t)
		}
		return authorize(c, a, t, advisory.TransitionReopen, access.ReopenCapability(t))
	})
	return unwithdraw, err
}
