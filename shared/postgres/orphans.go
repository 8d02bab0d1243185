package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
)

// Orphan CVEs and their reassignment tasks (data-model §8, lifecycle §5).
// cve_id is unique among live orphans only (partial index
// orphan_cves_cve_id_live, status <> 'reassigned', migration 00011): a CVE
// orphaned again after a reattachment gets a new receipt (lifecycle §12).

const orphanSelect = `SELECT id, cve_id, previous_advisory_id, previous_advisory_label, status,
	cause, unassign_reason, unassigned_at FROM orphan_cves`

func scanOrphan(row pgx.Row) (advisory.OrphanCVE, error) {
	var (
		o    advisory.OrphanCVE
		prev *int64
	)
	err := row.Scan(&o.ID, &o.CVEID, &prev, &o.PreviousAdvisoryRef, &o.Status, &o.Cause, &o.UnassignReason, &o.UnassignedAt)
	o.PreviousAdvisoryPK = deref(prev)
	return o, err
}

// InsertOrphanCVE records CVE cve as detached from advisory a by actor
// for cause (O1, O2; "" is advisory.OrphanCauseManual, which a reopen never
// reattaches) and returns the new orphan's id. A CVE with a live
// (unreassigned) orphan already is advisory.ErrCVEHeld.
func (db *DB) InsertOrphanCVE(ctx context.Context, cve advisory.CVEID, a *advisory.Advisory, actor int64, reason string, cause advisory.OrphanCause) (int64, error) {
	if cause == "" {
		cause = advisory.OrphanCauseManual
	}
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO orphan_cves (cve_id, previous_advisory_id, previous_advisory_label, unassigned_by_id, unassign_reason, cause)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (cve_id) WHERE status <> 'reassigned' DO NOTHING
		RETURNING id`, string(cve), a.ID, string(a.AdvisoryID), zeroAsNull(actor), reason, string(cause)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("orphan %s: %w", cve, advisory.ErrCVEHeld)
	}
	if err != nil {
		return 0, fmt.Errorf("orphan %s: %w", cve, err)
	}
	return id, nil
}

// OrphanForUpdate reads and locks orphan id.
func (db *DB) OrphanForUpdate(ctx context.Context, id int64) (advisory.OrphanCVE, error) {
	o, err := scanOrphan(db.QueryRow(ctx, orphanSelect+` WHERE id = $1 FOR UPDATE`, id))
	if err != nil {
		return advisory.OrphanCVE{}, workflowTaskErr("orphan", id, err)
	}
	return o, nil
}

// NewestOrphanOf reads and locks the newest orphan whose previous advisory
// is advisoryPK; advisory.ErrTaskNotFound when there is none.
func (db *DB) NewestOrphanOf(ctx context.Context, advisoryPK int64) (advisory.OrphanCVE, error) {
	o, err := scanOrphan(db.QueryRow(ctx, orphanSelect+` WHERE previous_advisory_id = $1
		ORDER BY unassigned_at DESC, id DESC LIMIT 1 FOR UPDATE`, advisoryPK))
	if err != nil {
		return advisory.OrphanCVE{}, workflowTaskErr("orphan of advisory", advisoryPK, err)
	}
	return o, nil
}

// MarkOrphanRejected records that an admin rejected orphan id's CVE at
// cve.org (O5). An orphan no longer orphaned is advisory.ErrTaskDecided.
func (db *DB) MarkOrphanRejected(ctx context.Context, id, by int64, notes string) error {
	tag, err := db.Exec(ctx, `UPDATE orphan_cves SET status = 'marked_rejected', marked_rejected_by_id = $2,
		marked_rejected_at = now(), marked_rejected_notes = $3 WHERE id = $1 AND status = 'orphaned'`, id, zeroAsNull(by), notes)
	if err != nil {
		return fmt.Errorf("orphan %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("orphan %d: %w", id, advisory.ErrTaskDecided)
	}
	return nil
}

// SetOrphanReassigned moves orphan id to reassigned (O3, O4).
func (db *DB) SetOrphanReassigned(ctx context.Context, id int64) error {
	tag, err := db.Exec(ctx, `UPDATE orphan_cves SET status = 'reassigned' WHERE id = $1 AND status <> 'reassigned'`, id)
	if err != nil {
		return fmt.Errorf("orphan %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("orphan %d: %w", id, advisory.ErrTaskDecided)
	}
	return nil
}

const reassignmentSelect = `SELECT t.id, t.orphan_cve_id, t.advisory_id, a.advisory_id, t.status, t.replacement_cve_id
	FROM orphan_cve_reassignments t JOIN advisories a ON a.id = t.advisory_id`

func scanReassignment(row pgx.Row) (advisory.OrphanReassignment, error) {
	var r advisory.OrphanReassignment
	err := row.Scan(&r.ID, &r.OrphanID, &r.AdvisoryPK, &r.AdvisoryID, &r.Status, &r.ReplacementCVEID)
	return r, err
}

// QueueOrphanReassignment queues an admin task to reattach orphan orphanID
// to advisory advisoryPK (T1) and returns its id; created is false when
// one was already queued for that orphan.
func (db *DB) QueueOrphanReassignment(ctx context.Context, orphanID, advisoryPK, by int64) (id int64, created bool, err error) {
	err = db.QueryRow(ctx, `INSERT INTO orphan_cve_reassignments (orphan_cve_id, advisory_id, requested_by_id)
		VALUES ($1, $2, $3) ON CONFLICT (orphan_cve_id) WHERE status = 'queued' DO NOTHING RETURNING id`,
		orphanID, advisoryPK, zeroAsNull(by)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = db.QueryRow(ctx, `SELECT id FROM orphan_cve_reassignments WHERE orphan_cve_id = $1 AND status = 'queued'`, orphanID).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("orphan reassignment: %w", err)
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("orphan reassignment: %w", err)
	}
	return id, true, nil
}

// OrphanReassignmentAdvisory returns the public id of the advisory
// reassignment task id belongs to; advisory.ErrTaskNotFound when none.
func (db *DB) OrphanReassignmentAdvisory(ctx context.Context, id int64) (advisory.ID, error) {
	var aid advisory.ID
	err := db.QueryRow(ctx, `SELECT a.advisory_id FROM orphan_cve_reassignments t JOIN advisories a ON a.id = t.advisory_id WHERE t.id = $1`, id).Scan(&aid)
	if err != nil {
		return "", workflowTaskErr("orphan reassignment", id, err)
	}
	return aid, nil
}

// OrphanReassignmentForUpdate reads and locks reassignment task id.
func (db *DB) OrphanReassignmentForUpdate(ctx context.Context, id int64) (advisory.OrphanReassignment, error) {
	r, err := scanReassignment(db.QueryRow(ctx, reassignmentSelect+` WHERE t.id = $1 FOR UPDATE OF t`, id))
	if err != nil {
		return advisory.OrphanReassignment{}, workflowTaskErr("orphan reassignment", id, err)
	}
	return r, nil
}

// ResolveOrphanReassignment closes queued task r as status by resolver
// (T2, T3). A task no longer queued is advisory.ErrTaskDecided.
func (db *DB) ResolveOrphanReassignment(ctx context.Context, r *advisory.OrphanReassignment, status advisory.ReassignmentTaskStatus, by int64, replacement advisory.CVEID, notes string) error {
	tag, err := db.Exec(ctx, `UPDATE orphan_cve_reassignments SET status = $2, resolved_by_id = $3,
		replacement_cve_id = $4, resolution_notes = $5, finished_at = now() WHERE id = $1 AND status = 'queued'`,
		r.ID, string(status), zeroAsNull(by), string(replacement), notes)
	if err != nil {
		return fmt.Errorf("orphan reassignment %d: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("orphan reassignment %d: %w", r.ID, advisory.ErrTaskDecided)
	}
	r.Status, r.ReplacementCVEID = status, replacement
	return nil
}
