package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// CVE request tasks and the advisory's CVE fields (data-model §8,
// lifecycle §4). At most one queued request per advisory is backed by the
// partial unique index cve_request_one_open_per_advisory (INV-CVE-1).

const cveRequestSelect = `SELECT t.id, t.advisory_id, a.advisory_id, t.status, t.requested_by_id,
	t.assignee_id, t.cve_id, t.notes, t.created_at, t.finished_at
	FROM cve_requests t JOIN advisories a ON a.id = t.advisory_id`

func scanCVERequest(row pgx.Row) (advisory.CVERequest, error) {
	var (
		t                  advisory.CVERequest
		requester, assigns *int64
	)
	err := row.Scan(&t.ID, &t.AdvisoryPK, &t.AdvisoryID, &t.Status, &requester,
		&assigns, &t.CVEID, &t.Notes, &t.CreatedAt, &t.FinishedAt)
	t.RequestedByID, t.AssigneeID = deref(requester), deref(assigns)
	return t, err
}

// NewCVERequest is what InsertCVERequest stores. A queued request has no
// assignee, CVE or finish time; a reserved one (C5) has all three.
type NewCVERequest struct {
	AdvisoryPK  int64
	Status      advisory.CVERequestStatus
	RequestedBy int64
	Assignee    int64
	CVEID       advisory.CVEID
	Notes       string
}

// InsertCVERequest stores a CVE request task. A second queued request for
// the same advisory is advisory.ErrCVERequestQueued (INV-CVE-1).
func (db *DB) InsertCVERequest(ctx context.Context, n NewCVERequest) (advisory.CVERequest, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO cve_requests (advisory_id, status, requested_by_id, assignee_id, cve_id, notes, finished_at)
		VALUES ($1, $2::varchar, $3, $4, $5, $6, CASE WHEN $2::varchar = 'queued' THEN NULL ELSE now() END) RETURNING id`,
		n.AdvisoryPK, string(n.Status), zeroAsNull(n.RequestedBy), zeroAsNull(n.Assignee), string(n.CVEID), n.Notes).Scan(&id)
	if uniqueViolationOf(err, "cve_request_one_open_per_advisory") {
		return advisory.CVERequest{}, advisory.ErrCVERequestQueued
	}
	if err != nil {
		return advisory.CVERequest{}, fmt.Errorf("insert CVE request: %w", err)
	}
	return scanCVERequest(db.QueryRow(ctx, cveRequestSelect+` WHERE t.id = $1`, id))
}

// CVERequestAdvisory returns the public id of the advisory CVE request id
// belongs to; advisory.ErrTaskNotFound when there is none.
func (db *DB) CVERequestAdvisory(ctx context.Context, id int64) (advisory.ID, error) {
	var aid advisory.ID
	err := db.QueryRow(ctx, `SELECT a.advisory_id FROM cve_requests t JOIN advisories a ON a.id = t.advisory_id WHERE t.id = $1`, id).Scan(&aid)
	if err != nil {
		return "", workflowTaskErr("CVE request", id, err)
	}
	return aid, nil
}

// CVERequestForUpdate reads and locks CVE request id.
func (db *DB) CVERequestForUpdate(ctx context.Context, id int64) (advisory.CVERequest, error) {
	t, err := scanCVERequest(db.QueryRow(ctx, cveRequestSelect+` WHERE t.id = $1 FOR UPDATE OF t`, id))
	if err != nil {
		return advisory.CVERequest{}, workflowTaskErr("CVE request", id, err)
	}
	return t, nil
}

// LatestCVERequest returns the advisory's newest CVE request;
// advisory.ErrTaskNotFound when it has none.
func (db *DB) LatestCVERequest(ctx context.Context, advisoryPK int64) (advisory.CVERequest, error) {
	t, err := scanCVERequest(db.QueryRow(ctx, cveRequestSelect+` WHERE t.advisory_id = $1 ORDER BY t.id DESC LIMIT 1`, advisoryPK))
	if err != nil {
		return advisory.CVERequest{}, workflowTaskErr("latest CVE request", advisoryPK, err)
	}
	return t, nil
}

// FinishCVERequest moves queued task t to status with assignee, CVE id and
// notes (finished_at = now), storing the result back into t. A task that
// is no longer queued is advisory.ErrTaskDecided.
func (db *DB) FinishCVERequest(ctx context.Context, t *advisory.CVERequest, status advisory.CVERequestStatus, assignee int64, cve advisory.CVEID, notes string) error {
	err := db.QueryRow(ctx, `UPDATE cve_requests SET status = $2, assignee_id = $3, cve_id = $4, notes = $5, finished_at = now()
		WHERE id = $1 AND status = 'queued' RETURNING finished_at`,
		t.ID, string(status), zeroAsNull(assignee), string(cve), notes).Scan(&t.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("CVE request %d: %w", t.ID, advisory.ErrTaskDecided)
	}
	if err != nil {
		return fmt.Errorf("CVE request %d: %w", t.ID, err)
	}
	t.Status, t.AssigneeID, t.CVEID, t.Notes = status, assignee, cve, notes
	return nil
}

// CancelQueuedCVERequest cancels the advisory's queued CVE request with
// notes (C4) and returns its id, or 0 when none was queued.
func (db *DB) CancelQueuedCVERequest(ctx context.Context, advisoryPK int64, notes string) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `UPDATE cve_requests SET status = 'cancelled', notes = $2, finished_at = now()
		WHERE advisory_id = $1 AND status = 'queued' RETURNING id`, advisoryPK, notes).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cancel queued CVE request: %w", err)
	}
	return id, nil
}

// UpdateCVEFields writes a's assigned_cve_id, cve_requests_banned and
// republish_required.
func (db *DB) UpdateCVEFields(ctx context.Context, a *advisory.Advisory) error {
	err := db.QueryRow(ctx, `UPDATE advisories SET assigned_cve_id = $2, cve_requests_banned = $3,
		republish_required = $4, modified_at = now() WHERE id = $1 RETURNING modified_at`,
		a.ID, string(a.AssignedCVEID), a.CVERequestsBanned, a.RepublishRequired).Scan(&a.ModifiedAt)
	if err != nil {
		return advisoryErr(a.AdvisoryID, err)
	}
	return nil
}

// CVEHeldElsewhere reports whether an advisory other than advisoryPK holds
// CVE id cve.
func (db *DB) CVEHeldElsewhere(ctx context.Context, cve advisory.CVEID, advisoryPK int64) (bool, error) {
	var held bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM advisories WHERE assigned_cve_id = $1 AND id <> $2)`,
		string(cve), advisoryPK).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("CVE holder: %w", err)
	}
	return held, nil
}
