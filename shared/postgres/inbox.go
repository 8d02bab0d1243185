package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The admin inbox (requirements §4.11, operations.md §2.7): every queue the
// global security team works through, each read in one query. The rows are
// the admin's to see; callers check the admin-console capability first.

// InboxCategory names one queue of the admin inbox.
type InboxCategory string

// The inbox categories, in the order the inbox shows them.
const (
	InboxTriage               InboxCategory = "triage"                // triage advisories not flagged for routing
	InboxRouting              InboxCategory = "routing"               // triage advisories flagged for admin routing
	InboxReview               InboxCategory = "review"                // open review tasks
	InboxCVE                  InboxCategory = "cve"                   // queued CVE requests
	InboxPublish              InboxCategory = "publish"               // failed exports, then advisories awaiting re-publication
	InboxOrphans              InboxCategory = "orphans"               // CVEs to mark rejected at cve.org
	InboxReassignments        InboxCategory = "reassignments"         // queued orphan-CVE reassignment tasks
	InboxWithdrawalRequests   InboxCategory = "withdrawal_requests"   // pending withdrawal requests
	InboxReassignmentRequests InboxCategory = "reassignment_requests" // pending draft reassignment requests
	InboxBannedCVERequests    InboxCategory = "cve_banned"            // advisories banned from requesting CVEs
)

// InboxCategories are every category, in display order.
var InboxCategories = []InboxCategory{InboxTriage, InboxRouting, InboxReview, InboxCVE, InboxPublish,
	InboxOrphans, InboxReassignments, InboxWithdrawalRequests, InboxReassignmentRequests, InboxBannedCVERequests}

// Valid reports whether c is a known category.
func (c InboxCategory) Valid() bool {
	_, ok := inboxQueries[c]
	return ok
}

// InboxItem is one entry of an inbox queue. Fields a category has no use
// for are zero.
type InboxItem struct {
	AdvisoryID  string // public id; empty for an orphan whose advisory is gone
	ProjectSlug string
	Summary     string
	State       string
	TaskID      int64  // review, CVE, publication or reassignment task; orphan id for orphans
	Status      string // the task's status, or publish's reason: failed | republish_required
	CVEID       string
	Note        string // routing note, request note, unassign reason, redacted last error
	ByEmail     string // who asked: reporter flagging, submitter, requester, unassigner
	Suggested   string // suggested project slug of a reassignment request
	At          time.Time
}

// inboxSelect is the select list every inbox query yields, in InboxItem's
// field order.
const inboxSelect = `SELECT COALESCE(a.advisory_id, ''), COALESCE(p.slug, ''), COALESCE(a.summary, ''), COALESCE(a.state, ''),
	%s AS task_id, %s AS status, %s AS cve_id, %s AS note, COALESCE(u.email, '') AS by_email, %s AS suggested, %s AS at `

// inboxQuery is one queue: its select list, its FROM … WHERE (which the
// count reuses without sorting) and its order.
type inboxQuery struct{ sel, from, order string }

func (q inboxQuery) items() string { return q.sel + q.from + " ORDER BY " + q.order + " LIMIT $1" }
func (q inboxQuery) count() string { return "SELECT count(*) " + q.from }

func inboxQ(taskID, status, cve, note, suggested, at, from, order string) inboxQuery {
	return inboxQuery{sel: fmt.Sprintf(inboxSelect, taskID, status, cve, note, suggested, at), from: from, order: order}
}

// latestTaskFailed holds when publication task f is the newest of its
// advisory and failed.
const latestTaskFailed = `f.status = 'failed' AND NOT EXISTS (SELECT 1 FROM publication_tasks n WHERE n.advisory_id = f.advisory_id AND n.id > f.id)`

var inboxQueries = map[InboxCategory]inboxQuery{
	InboxTriage: inboxQ("0", "''", "a.assigned_cve_id", "''", "''", "a.created_at", `
		FROM advisories a JOIN projects p ON p.id = a.project_id
		LEFT JOIN advisory_intake_metadata m ON m.advisory_id = a.id
		LEFT JOIN users u ON u.id = m.reporter_user_id
		WHERE a.state = 'triage' AND NOT COALESCE(m.needs_admin_routing, false)`, "a.created_at, a.id"),
	InboxRouting: inboxQ("0", "''", "a.assigned_cve_id", "m.admin_routing_note", "''", "COALESCE(m.flagged_for_routing_at, a.created_at)", `
		FROM advisories a JOIN projects p ON p.id = a.project_id
		JOIN advisory_intake_metadata m ON m.advisory_id = a.id
		LEFT JOIN users u ON u.id = m.flagged_for_routing_by_id
		WHERE a.state = 'triage' AND m.needs_admin_routing`, "11, a.id"),
	InboxReview: inboxQ("t.id", "t.status", "a.assigned_cve_id", "''", "''", "t.created_at", `
		FROM review_tasks t JOIN advisories a ON a.id = t.advisory_id JOIN projects p ON p.id = a.project_id
		LEFT JOIN users u ON u.id = t.submitted_by_id
		WHERE t.status = 'open'`, "t.created_at, t.id"),
	InboxCVE: inboxQ("t.id", "t.status", "''", "''", "''", "t.created_at", `
		FROM cve_requests t JOIN advisories a ON a.id = t.advisory_id JOIN projects p ON p.id = a.project_id
		LEFT JOIN users u ON u.id = t.requested_by_id
		WHERE t.status = 'queued'`, "t.created_at, t.id"),
	// Failed exports first (an advisory whose newest task failed), then
	// published advisories edited since their last publication with none
	// in flight; an advisory appears once (a failed re-publish only as
	// failed), and GHSA-linked ones re-publish themselves (INV-GHSA-3).
	InboxPublish: inboxQ("COALESCE(x.task_id, 0)", "CASE WHEN x.task_id IS NULL THEN 'republish_required' ELSE 'failed' END",
		"a.assigned_cve_id", "x.last_error", "''", "x.at", `
		FROM (
			SELECT f.advisory_id, f.id AS task_id, f.last_error, COALESCE(f.finished_at, f.created_at) AS at, f.enqueued_by_id AS by_id
			  FROM publication_tasks f WHERE `+latestTaskFailed+`
			UNION ALL
			SELECT r.id, NULL, '', r.modified_at, NULL FROM advisories r
			 WHERE r.state = 'published' AND r.republish_required AND r.kind = 'native'
			   AND NOT EXISTS (SELECT 1 FROM publication_tasks f WHERE f.advisory_id = r.id
			                   AND (f.status IN ('queued', 'running') OR `+latestTaskFailed+`))
		) x JOIN advisories a ON a.id = x.advisory_id JOIN projects p ON p.id = a.project_id
		LEFT JOIN users u ON u.id = x.by_id`, "(x.task_id IS NULL), 11, a.id"),
	InboxOrphans: inboxQ("o.id", "o.status", "o.cve_id", "o.unassign_reason", "''", "o.unassigned_at", `
		FROM orphan_cves o LEFT JOIN advisories a ON a.id = o.previous_advisory_id
		LEFT JOIN projects p ON p.id = a.project_id
		LEFT JOIN users u ON u.id = o.unassigned_by_id
		WHERE o.status = 'orphaned'`, "o.unassigned_at, o.id"),
	InboxReassignments: inboxQ("t.id", "t.status", "o.cve_id", "o.status", "''", "t.created_at", `
		FROM orphan_cve_reassignments t JOIN orphan_cves o ON o.id = t.orphan_cve_id
		JOIN advisories a ON a.id = t.advisory_id JOIN projects p ON p.id = a.project_id
		LEFT JOIN users u ON u.id = t.requested_by_id
		WHERE t.status = 'queued'`, "t.created_at, t.id"),
	InboxWithdrawalRequests: inboxQ("0", "''", "a.assigned_cve_id", "a.withdrawal_request_note", "''", "a.withdrawal_requested_at", `
		FROM advisories a JOIN projects p ON p.id = a.project_id
		LEFT JOIN users u ON u.id = a.withdrawal_requested_by_id
		WHERE a.withdrawal_requested_at IS NOT NULL`, "a.withdrawal_requested_at, a.id"),
	InboxReassignmentRequests: inboxQ("0", "''", "a.assigned_cve_id", "a.reassignment_request_note", "COALESCE(sp.slug, '')", "a.reassignment_requested_at", `
		FROM advisories a JOIN projects p ON p.id = a.project_id
		LEFT JOIN projects sp ON sp.id = a.reassignment_suggested_project_id
		LEFT JOIN users u ON u.id = a.reassignment_requested_by_id
		WHERE a.reassignment_requested_at IS NOT NULL`, "a.reassignment_requested_at, a.id"),
	InboxBannedCVERequests: inboxQ("0", "''", "a.assigned_cve_id", "''", "''", "a.modified_at", `
		FROM advisories a JOIN projects p ON p.id = a.project_id
		LEFT JOIN users u ON false
		WHERE a.cve_requests_banned`, "a.modified_at DESC, a.id"),
}

// InboxItems returns up to limit entries of queue c, oldest first (the
// banned list newest first).
func (db *DB) InboxItems(ctx context.Context, c InboxCategory, limit int) ([]InboxItem, error) {
	q, ok := inboxQueries[c]
	if !ok {
		return nil, fmt.Errorf("postgres: unknown inbox category %q", c)
	}
	rows, err := db.Query(ctx, q.items(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) {
		var it InboxItem
		err := r.Scan(&it.AdvisoryID, &it.ProjectSlug, &it.Summary, &it.State, &it.TaskID, &it.Status,
			&it.CVEID, &it.Note, &it.ByEmail, &it.Suggested, &it.At)
		return it, err
	})
}

// InboxCounts returns how many entries each queue holds, in one query.
func (db *DB) InboxCounts(ctx context.Context) (map[InboxCategory]int, error) {
	var q strings.Builder
	for i, c := range InboxCategories {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, "SELECT %d, (%s)", i, inboxQueries[c].count())
	}
	rows, err := db.Query(ctx, q.String())
	if err != nil {
		return nil, err
	}
	out := make(map[InboxCategory]int, len(InboxCategories))
	var i, n int
	_, err = pgx.ForEachRow(rows, []any{&i, &n}, func() error {
		out[InboxCategories[i]] = n
		return nil
	})
	return out, err
}
