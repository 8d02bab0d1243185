-- Orphan CVE cause and re-orphaning (lifecycle.md §12, new; no original
-- counterpart).
--
-- 1. cause records why the CVE was detached: 'dismissal' (the L7 cascade),
--    'withdrawal' (the L12 finalisation, O2) or 'manual' (an admin's
--    unassign, O1). A reopen reattaches only dismissal and withdrawal
--    orphans (§2.3 step 2): a CVE an admin pulled on purpose stays pulled.
--    Rows from before this migration are classified by their reason: the
--    cascades store the advisory's dismissal reason, so an orphan of a
--    still-dismissed advisory carrying that reason came from the cascade
--    (withdrawal when the advisory was dismissed from published); every
--    other row is manual. The column default is the conservative 'manual'
--    (never reattached automatically).
-- 2. cve_id is unique only among live orphans (status <> 'reassigned'): a
--    CVE orphaned, reattached and orphaned again gets a new receipt instead
--    of colliding with its reassigned one (which would fail the withdrawal
--    finalisation after its git push had landed).

-- +goose Up
ALTER TABLE orphan_cves ADD COLUMN cause varchar(16) NOT NULL DEFAULT 'manual';
ALTER TABLE orphan_cves ADD CONSTRAINT orphan_cves_cause_check
    CHECK (cause IN ('dismissal', 'withdrawal', 'manual'));
UPDATE orphan_cves o
   SET cause = CASE WHEN a.dismissed_from_state = 'published' THEN 'withdrawal' ELSE 'dismissal' END
  FROM advisories a
 WHERE a.id = o.previous_advisory_id
   AND a.state = 'dismissed'
   AND o.unassign_reason = a.dismissed_reason;

ALTER TABLE orphan_cves DROP CONSTRAINT orphan_cves_cve_id_unique;
CREATE UNIQUE INDEX orphan_cves_cve_id_live ON orphan_cves (cve_id) WHERE status <> 'reassigned';
CREATE INDEX orphan_cves_cve_id_idx ON orphan_cves (cve_id);

-- +goose Down
-- Fails while a CVE has more than one receipt (orphaned again after a
-- reattachment); resolve those rows by hand first.
DROP INDEX orphan_cves_cve_id_idx;
DROP INDEX orphan_cves_cve_id_live;
ALTER TABLE orphan_cves ADD CONSTRAINT orphan_cves_cve_id_unique UNIQUE (cve_id);
ALTER TABLE orphan_cves DROP CONSTRAINT orphan_cves_cause_check;
ALTER TABLE orphan_cves DROP COLUMN cause;
