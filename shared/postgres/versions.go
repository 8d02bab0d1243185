package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// Advisory versions (data-model §4.3): the append-only content history
// (INV-IMPL-5, enforced by triggers too). AppendVersion is the single path
// that adds a version (INV-VERSION-1).

// AppendMode says when AppendVersion appends.
type AppendMode int

const (
	// AppendIfChanged appends only when the live payload differs from the
	// latest version's (ignoring ghsa_metadata_synced_at, lifecycle §12).
	// Every edit path uses it.
	AppendIfChanged AppendMode = iota
	// AppendAlways appends unconditionally: v1 at creation.
	AppendAlways
)

const versionSelect = `SELECT id, advisory_id, version, payload, editor_id, created_at FROM advisory_versions`

func scanVersion(row pgx.Row) (advisory.Version, error) {
	var (
		v      advisory.Version
		body   []byte
		editor *int64
	)
	if err := row.Scan(&v.ID, &v.AdvisoryID, &v.Number, &body, &editor, &v.CreatedAt); err != nil {
		return advisory.Version{}, err
	}
	if err := json.Unmarshal(body, &v.Payload); err != nil {
		return advisory.Version{}, fmt.Errorf("version %d of advisory %d: payload: %w", v.Number, v.AdvisoryID, err)
	}
	v.EditorID = deref(editor)
	return v, nil
}

// AppendVersion records the live content of the advisory with internal id
// advisoryPK as its next version, edited by editorID (0 = system). It must
// run inside a transaction: it takes the advisory row lock itself and reads
// max(version) and the live row under it, so two concurrent appends can
// never compute the same number (INV-CONCURRENCY-2). The payload is built
// from the locked row, never from the caller's copy, capturing the
// project's slug and name as they are now (data-model §4.2).
//
// In AppendIfChanged mode nothing is appended when the latest version
// already records the live payload; the latest version is returned with
// appended false. The newest version therefore always matches the live
// content, which publish and submit-for-review rely on (INV-VERSION-1).
func (db *DB) AppendVersion(ctx context.Context, advisoryPK, editorID int64, mode AppendMode) (v advisory.Version, appended bool, err error) {
	if db.tx == nil {
		return advisory.Version{}, false, errors.New("postgres: AppendVersion outside a transaction")
	}
	a, err := db.advisoryByPKForUpdate(ctx, advisoryPK)
	if err != nil {
		return advisory.Version{}, false, err
	}
	live := a.Payload()
	latest, err := db.LatestVersion(ctx, advisoryPK)
	next := 1
	switch {
	case err == nil:
		if mode == AppendIfChanged && latest.Payload.SameContent(live) {
			return latest, false, nil
		}
		next = latest.Number + 1
	case !errors.Is(err, advisory.ErrVersionNotFound):
		return advisory.Version{}, false, err
	}
	body, err := json.Marshal(live)
	if err != nil {
		return advisory.Version{}, false, fmt.Errorf("advisory %s: encode payload: %w", a.AdvisoryID, err)
	}
	v = advisory.Version{AdvisoryID: advisoryPK, Number: next, Payload: live, EditorID: editorID}
	err = db.QueryRow(ctx, `INSERT INTO advisory_versions (advisory_id, version, payload, editor_id)
		VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
		advisoryPK, next, body, zeroAsNull(editorID)).Scan(&v.ID, &v.CreatedAt)
	if err != nil {
		return advisory.Version{}, false, fmt.Errorf("advisory %s: append version %d: %w", a.AdvisoryID, next, err)
	}
	return v, true, nil
}

// LatestVersion returns the advisory's newest version.
func (db *DB) LatestVersion(ctx context.Context, advisoryPK int64) (advisory.Version, error) {
	v, err := scanVersion(db.QueryRow(ctx, versionSelect+` WHERE advisory_id = $1 ORDER BY version DESC LIMIT 1`, advisoryPK))
	if err != nil {
		return advisory.Version{}, versionErr(advisoryPK, "latest", err)
	}
	return v, nil
}

// VersionByNumber returns version n of the advisory.
func (db *DB) VersionByNumber(ctx context.Context, advisoryPK int64, n int) (advisory.Version, error) {
	v, err := scanVersion(db.QueryRow(ctx, versionSelect+` WHERE advisory_id = $1 AND version = $2`, advisoryPK, n))
	if err != nil {
		return advisory.Version{}, versionErr(advisoryPK, n, err)
	}
	return v, nil
}

// Versions returns every version of the advisory, oldest first.
func (db *DB) Versions(ctx context.Context, advisoryPK int64) ([]advisory.Version, error) {
	rows, err := db.Query(ctx, versionSelect+` WHERE advisory_id = $1 ORDER BY version`, advisoryPK)
	if err != nil {
		return nil, fmt.Errorf("versions of advisory %d: %w", advisoryPK, err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (advisory.Version, error) { return scanVersion(r) })
	if err != nil {
		return nil, fmt.Errorf("versions of advisory %d: %w", advisoryPK, err)
	}
	return vs, nil
}

func versionErr(advisoryPK int64, which any, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		err = advisory.ErrVersionNotFound
	}
	return fmt.Errorf("version %v of advisory %d: %w", which, advisoryPK, err)
}
