package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
)

// Access grants (data-model §5.1). One row per (advisory, principal_type,
// principal_id), enforced by a unique constraint (INV-ACCESS-1); the
// permission column cannot hold "owner" (CHECK, INV-AUTH-3). The table has
// no row-level security (the advisory policy reads it); callers decide
// authorization on the locked advisory first.

const grantSelect = `SELECT g.id, g.advisory_id, g.principal_type, g.principal_id, g.permission,
	g.created_at, COALESCE(g.created_by_id, 0),
	COALESCE(u.email, ''), COALESCE(CASE WHEN g.principal_type = 'group' THEN gr.name ELSE u.display_name END, ''),
	(u.id IS NULL AND gr.id IS NULL)
	FROM access_grants g
	LEFT JOIN users u ON g.principal_type = 'user' AND u.id = g.principal_id
	LEFT JOIN groups gr ON g.principal_type = 'group' AND gr.id = g.principal_id`

func scanGrant(row pgx.Row) (grant.Grant, error) {
	var g grant.Grant
	err := row.Scan(&g.ID, &g.AdvisoryID, &g.PrincipalType, &g.PrincipalID, &g.Permission,
		&g.CreatedAt, &g.CreatedByID, &g.PrincipalEmail, &g.PrincipalName, &g.Missing)
	return g, err
}

// GrantsOfAdvisory returns the advisory's grants, oldest first.
func (db *DB) GrantsOfAdvisory(ctx context.Context, advisoryPK int64) ([]grant.Grant, error) {
	rows, err := db.Query(ctx, grantSelect+` WHERE g.advisory_id = $1 ORDER BY g.created_at, g.id`, advisoryPK)
	if err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (grant.Grant, error) { return scanGrant(r) })
	if err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	return out, nil
}

// GrantByID returns grant id of advisory advisoryPK.
func (db *DB) GrantByID(ctx context.Context, advisoryPK, id int64) (grant.Grant, error) {
	g, err := scanGrant(db.QueryRow(ctx, grantSelect+` WHERE g.id = $1 AND g.advisory_id = $2`, id, advisoryPK))
	if errors.Is(err, pgx.ErrNoRows) {
		return grant.Grant{}, fmt.Errorf("grant %d: %w", id, grant.ErrNotFound)
	}
	if err != nil {
		return grant.Grant{}, fmt.Errorf("grant %d: %w", id, err)
	}
	return g, nil
}

// GrantUpsert reports what UpsertGrant did.
type GrantUpsert struct {
	Grant    grant.Grant
	Created  bool              // a new row
	Previous access.Permission // the replaced permission, when updated
}

// UpsertGrant grants perm on the advisory to the principal: a new row, or
// the existing row updated in place (INV-ACCESS-1). A re-grant of the same
// permission changes nothing and reports Previous == perm. Only viewer and
// collaborator are accepted (INV-ACCESS-4; the CHECK constraint is the
// second layer).
func (db *DB) UpsertGrant(ctx context.Context, advisoryPK int64, pt access.PrincipalType, principalID int64,
	perm access.Permission, by int64, at time.Time) (GrantUpsert, error) {
	if db.tx == nil {
		return GrantUpsert{}, errors.New("postgres: UpsertGrant outside a transaction")
	}
	if !perm.Valid() {
		return GrantUpsert{}, fmt.Errorf("grant: %w: %q", access.ErrInvalidPermission, perm)
	}
	if !pt.Valid() {
		return GrantUpsert{}, fmt.Errorf("grant: %w", grant.ErrInvalidPrincipal)
	}
	var (
		id      int64
		created bool
		prev    access.Permission
	)
	// Read (and lock) the previous row first; the upsert then changes it.
	err := db.QueryRow(ctx, `SELECT permission FROM access_grants
		WHERE advisory_id = $1 AND principal_type = $2 AND principal_id = $3 FOR UPDATE`,
		advisoryPK, string(pt), principalID).Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return GrantUpsert{}, fmt.Errorf("grant: %w", err)
	}
	err = db.QueryRow(ctx, `INSERT INTO access_grants AS g
		(advisory_id, principal_type, principal_id, permission, created_at, created_by_id)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (advisory_id, principal_type, principal_id) DO UPDATE SET permission = EXCLUDED.permission
		RETURNING g.id, (g.xmax = 0)`,
		advisoryPK, string(pt), principalID, string(perm), at, zeroAsNull(by)).Scan(&id, &created)
	if err != nil {
		return GrantUpsert{}, fmt.Errorf("grant: %w", err)
	}
	g, err := db.GrantByID(ctx, advisoryPK, id)
	if err != nil {
		return GrantUpsert{}, err
	}
	return GrantUpsert{Grant: g, Created: created, Previous: prev}, nil
}

// DeleteGrant removes grant id of advisory advisoryPK and returns it.
func (db *DB) DeleteGrant(ctx context.Context, advisoryPK, id int64) (grant.Grant, error) {
	g, err := db.GrantByID(ctx, advisoryPK, id)
	if err != nil {
		return grant.Grant{}, err
	}
	if _, err := db.Exec(ctx, `DELETE FROM access_grants WHERE id = $1 AND advisory_id = $2`, id, advisoryPK); err != nil {
		return grant.Grant{}, fmt.Errorf("revoke grant %d: %w", id, err)
	}
	return g, nil
}
