package postgres

import (
	"context"
	"strconv"
)

// Principal is who a transaction acts as, for PostgreSQL row-level security
// (the fail-closed backstop of INV-CONF-2). Authorization itself is decided
// by shared/access; RLS only makes a forgotten filter fail closed.
type Principal struct {
	UserID  int64 // 0 = nobody
	IsAdmin bool
}

// System is the trusted principal of jobs and operator commands: it sees
// every row, as the original's jobs do.
var System = Principal{IsAdmin: true}

type principalKey struct{}

// WithPrincipal returns ctx acting as p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// AsSystem returns ctx acting as the system principal.
func AsSystem(ctx context.Context) context.Context { return WithPrincipal(ctx, System) }

// PrincipalFrom returns the principal in ctx; without one, nobody (which RLS
// lets see no advisory at all).
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

func (p Principal) userSetting() string {
	if p.UserID == 0 {
		return ""
	}
	return strconv.FormatInt(p.UserID, 10)
}

func (p Principal) adminSetting() string {
	if p.IsAdmin {
		return "on"
	}
	return "off"
}
