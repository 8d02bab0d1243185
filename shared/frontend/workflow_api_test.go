package frontend_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// The workflow endpoints over the whole site on a real database (issue 6):
// review submitted, decided through the contract's dashboard endpoint and
// found in the admin inbox; a CVE requested, reserved, unassigned, its
// orphan marked rejected; a ban lifted; a reassignment task resolved. Each
// refusal is checked for its status and code, and for writing nothing.
func TestAPIWorkflowDashboard(t *testing.T) {
	w := newWorld(t, nil)
	id := w.draft(t, "Path traversal in the exporter")
	path := "/api/advisories/" + id + "/"
	audits := func() int {
		return w.count(t, `SELECT count(*) FROM audit_log l JOIN advisories a ON a.id = l.advisory_id WHERE a.advisory_id = $1`, id)
	}
	// want sends and checks status (and code, for errors); a refusal must
	// not add an audit row.
	want := func(b *browser, method, p, body string, status int, code string) map[string]any {
		t.Helper()
		before := audits()
		r := b.send(method, p, body)
		if r.status != status {
			t.Fatalf("%s %s %s: %d %s, want %d", method, p, body, r.status, r.body, status)
		}
		if status == 404 {
			return nil
		}
		d := r.json(t)
		if code != "" && d["error"] != code {
			t.Fatalf("%s %s %s: code %v, want %s (%s)", method, p, body, d["error"], code, r.body)
		}
		if status >= 400 && audits() != before {
			t.Fatalf("%s %s refused with %d but wrote %d audit rows", method, p, status, audits()-before)
		}
		return d
	}
	inbox := func(category string) map[string]any {
		t.Helper()
		d := want(w.admin, "GET", "/api/dashboard/?category="+category, "", 200, "")
		return d
	}
	item := func(category string) map[string]any {
		t.Helper()
		list, _ := inbox(category)["items"].(map[string]any)[category].([]any)
		for _, it := range list {
			if m := it.(map[string]any); m["advisory_id"] == id {
				return m
			}
		}
		return nil
	}
	taskPath := func(kind string, it map[string]any) string {
		t.Helper()
		if it == nil || it["task_id"] == nil {
			t.Fatalf("no %s entry for %s in the inbox", kind, id)
		}
		return "/api/dashboard/" + kind + "/" + strconv.FormatInt(int64(it["task_id"].(float64)), 10) + "/"
	}

	// The inbox is the admins' (admin_console).
	want(w.owner, "GET", "/api/dashboard/", "", 403, "forbidden")
	want(w.stranger, "GET", "/api/dashboard/", "", 403, "forbidden")
	if r := w.browser().get("/api/dashboard/"); r.status != 401 {
		t.Fatalf("anonymous inbox: %d", r.status)
	}
	want(w.admin, "GET", "/api/dashboard/?category=everything", "", 422, "validation_failed")
	all := want(w.admin, "GET", "/api/dashboard/", "", 200, "")
	if counts := all["counts"].(map[string]any); len(counts) != 10 || counts["review"] != float64(0) {
		t.Fatalf("inbox counts %v", counts)
	}

	// R1: the owner submits; the task waits in the review queue.
	want(w.admin, "POST", path+"submit-review/", `{}`, 403, "forbidden") // INV-REVIEW-3
	if d := want(w.owner, "POST", path+"submit-review/", `{}`, 200, ""); d["review_status"] != "submitted" {
		t.Fatalf("submitted: %v", d)
	}
	rev := item("review")
	if rev == nil || rev["by"] != "owen@example.org" || rev["project"] != "lantern" || rev["status"] != "open" {
		t.Fatalf("review queue entry %v", rev)
	}
	decide := taskPath("review", rev) + "decide/"
	if c := inbox("review")["counts"].(map[string]any)["review"]; c != float64(1) {
		t.Fatalf("review count %v", c)
	}

	// R3 then R2 through the contract's endpoint (operations.md §3).
	want(w.owner, "POST", decide, `{"decision": "approved"}`, 403, "forbidden")
	want(w.owner, "POST", decide, `{"decision": "maybe"}`, 403, "forbidden") // permission before the body (lifecycle §0)
	want(w.owner, "POST", "/api/dashboard/cve/1/transition/", `[]`, 403, "forbidden")
	want(w.admin, "POST", decide, `{"decision": "maybe"}`, 400, "invalid_decision")
	want(w.admin, "POST", "/api/dashboard/review/999999/decide/", `{"decision": "approved"}`, 404, "")
	d := want(w.admin, "POST", decide, `{"decision": "changes_requested", "notes": "Name the fixed version."}`, 200, "")
	if d["status"] != "changes_requested" || d["decision_notes"] != "Name the fixed version." || d["advisory_id"] != id ||
		d["reviewer"] != "admin@example.org" || d["decided_at"] == nil {
		t.Fatalf("decision: %v", d)
	}
	want(w.admin, "POST", decide, `{"decision": "approved"}`, 400, "review_failed") // decided tasks are terminal
	if item("review") != nil {
		t.Fatal("a decided task stays in the review queue")
	}
	want(w.owner, "PATCH", path, `{"details": "Fixed in 1.0.1."}`, 200, "")
	want(w.owner, "POST", path+"submit-review/", `{}`, 200, "")
	d = want(w.admin, "POST", taskPath("review", item("review"))+"decide/", `{"decision": "approved"}`, 200, "")
	if d["status"] != "approved" {
		t.Fatalf("approval: %v", d)
	}
	if a := want(w.owner, "GET", path, "", 200, ""); a["review_status"] != "approved" {
		t.Fatalf("after approval: %v", a)
	}

	// C1, C2: requested by the owner, reserved by an admin.
	want(w.owner, "POST", path+"request-cve/", `{}`, 200, "")
	want(w.owner, "POST", path+"request-cve/", `{}`, 409, "") // INV-CVE-1
	transition := taskPath("cve", item("cve")) + "transition/"
	want(w.owner, "POST", transition, `{"status": "reserved", "cve_id": "CVE-2026-41001"}`, 403, "forbidden")
	r := want(w.admin, "POST", transition, `{"status": "reserved", "cve_id": "CVE-26-1"}`, 400, "validation_failed")
	if p, _ := r["problems"].(map[string]any); p["cve_id"] == nil {
		t.Fatalf("bad CVE id: problems %v, want cve_id named", r["problems"])
	}
	d = want(w.admin, "POST", transition, `{"status": "reserved", "cve_id": "CVE-2026-41001"}`, 200, "")
	if d["status"] != "reserved" || d["cve_id"] != "CVE-2026-41001" || d["assignee"] != "admin@example.org" || d["requested_by"] != "owen@example.org" {
		t.Fatalf("reserved: %v", d)
	}
	want(w.admin, "POST", transition, `{"status": "rejected", "notes": "late"}`, 400, "invalid_transition")

	// O1 → O5: unassigned by an admin, the orphan is marked rejected.
	want(w.owner, "POST", path+"unassign-cve/", `{"reason": "wrong product"}`, 403, "forbidden")
	want(w.admin, "POST", path+"unassign-cve/", `{"reason": "Assigned to the wrong product."}`, 200, "")
	orphan := item("orphans")
	if orphan == nil || orphan["cve_id"] != "CVE-2026-41001" || orphan["note"] != "Assigned to the wrong product." || orphan["by"] != "admin@example.org" {
		t.Fatalf("orphan entry %v", orphan)
	}
	mark := "/api/dashboard/orphans/" + strconv.FormatInt(int64(orphan["task_id"].(float64)), 10) + "/mark-rejected/"
	want(w.owner, "POST", mark, `{}`, 403, "forbidden")
	want(w.admin, "POST", "/api/dashboard/orphans/999999/mark-rejected/", `{}`, 404, "")
	want(w.admin, "POST", "/api/dashboard/orphans/x/mark-rejected/", `{}`, 404, "")
	if d := want(w.admin, "POST", mark, `{"notes": "Rejected at cve.org."}`, 200, ""); d["status"] != "marked_rejected" {
		t.Fatalf("marked: %v", d)
	}
	want(w.admin, "POST", mark, `{}`, 400, "invalid_transition")
	if d := want(w.admin, "POST", mark, `{"notes": ["x"]}`, 400, "invalid_body"); !strings.Contains(d["message"].(string), "notes") {
		t.Fatalf("notes not a string: %v; want the field named", d)
	}
	if item("orphans") != nil {
		t.Fatal("a rejected orphan stays in the orphan queue")
	}

	// C3 with a ban, then the ban lifted.
	want(w.owner, "POST", path+"request-cve/", `{}`, 200, "")
	want(w.admin, "POST", taskPath("cve", item("cve"))+"transition/", `{"status": "rejected", "notes": "Not a vulnerability.", "ban": true}`, 200, "")
	if item("cve_banned") == nil {
		t.Fatal("banned advisory not listed")
	}
	want(w.owner, "POST", path+"request-cve/", `{}`, 403, "forbidden") // can_request_cve: ¬banned (INV-CVE-3)
	want(w.owner, "POST", path+"allow-cve-requests/", `{}`, 403, "forbidden")
	want(w.admin, "POST", path+"allow-cve-requests/", `{}`, 200, "")
	if item("cve_banned") != nil {
		t.Fatal("lifted ban still listed")
	}
	want(w.owner, "POST", path+"request-cve/", `{}`, 200, "")
	want(w.admin, "POST", taskPath("cve", item("cve"))+"transition/", `{"status": "reserved", "cve_id": "CVE-2026-41003"}`, 200, "")

	// L7 with a CVE (admins only) orphans it (O1); once marked rejected
	// it cannot come back by itself on reopen, so reopening leaves an
	// admin task (T1), resolved here with a replacement (T3).
	want(w.owner, "POST", path+"dismiss/", `{"reason": "Duplicate."}`, 403, "forbidden")
	want(w.admin, "POST", path+"dismiss/", `{"reason": "Duplicate."}`, 200, "")
	orphan = item("orphans")
	if orphan == nil || orphan["cve_id"] != "CVE-2026-41003" || orphan["state"] != "dismissed" {
		t.Fatalf("orphan of the dismissal %v", orphan)
	}
	want(w.admin, "POST", "/api/dashboard/orphans/"+strconv.FormatInt(int64(orphan["task_id"].(float64)), 10)+"/mark-rejected/", `{}`, 200, "")
	want(w.owner, "POST", path+"reopen/", `{}`, 200, "")
	task := item("reassignments")
	if task == nil || task["cve_id"] != "CVE-2026-41003" || task["status"] != "queued" {
		t.Fatalf("reassignment entry %v", task)
	}
	resolve := "/api/dashboard/orphans/reassignment/" + strconv.FormatInt(int64(task["task_id"].(float64)), 10) + "/resolve/"
	want(w.owner, "POST", resolve, `{"outcome": "replaced", "replacement_cve_id": "CVE-2026-41002"}`, 403, "forbidden")
	want(w.admin, "POST", resolve, `{"outcome": "forgotten"}`, 400, "invalid_outcome")
	if d := want(w.admin, "POST", resolve, `{"outcome": "replaced", "replacement_cve_id": 41002}`, 400, "invalid_body"); !strings.Contains(d["message"].(string), "replacement_cve_id") {
		t.Fatalf("a number for the CVE id: %v; want the field named", d)
	}
	want(w.admin, "POST", resolve, `[]`, 400, "invalid_body")
	r = want(w.admin, "POST", resolve, `{"outcome": "replaced", "replacement_cve_id": "nope"}`, 400, "validation_failed")
	if p, _ := r["problems"].(map[string]any); p["replacement_cve_id"] == nil {
		t.Fatalf("bad replacement: problems %v", r["problems"])
	}
	d = want(w.admin, "POST", resolve, `{"outcome": "replaced", "replacement_cve_id": "CVE-2026-41002", "notes": "New id."}`, 200, "")
	if d["status"] != "resolved_replaced" || d["replacement_cve_id"] != "CVE-2026-41002" || d["advisory_id"] != id {
		t.Fatalf("resolved: %v", d)
	}
	want(w.admin, "POST", resolve, `{"outcome": "reassigned"}`, 400, "invalid_transition")
	if n := w.count(t, `SELECT count(*) FROM advisories WHERE advisory_id = $1 AND assigned_cve_id = 'CVE-2026-41002'`, id); n != 1 {
		t.Fatal("replacement CVE not attached")
	}
}

// The request queues of the inbox: a withdrawal request and a draft
// reassignment request show who asked, the note and the suggestion.
func TestAPIInboxRequests(t *testing.T) {
	w := newWorld(t, nil)
	if r := w.admin.send("POST", "/api/projects/", `{"slug": "jetty", "name": "Eclipse Jetty", "security_team": "jetty-security"}`); r.status != 201 {
		t.Fatalf("create jetty: %d %s", r.status, r.body)
	}
	draft := w.draft(t, "Belongs elsewhere")
	if r := w.owner.send("POST", "/api/advisories/"+draft+"/request-reassignment/", `{"note": "This is Jetty's.", "suggested_project": "jetty"}`); r.status != 200 {
		t.Fatalf("request reassignment: %d %s", r.status, r.body)
	}
	pub := w.draft(t, "Not a vulnerability after all")
	w.sql(t, func(ctx context.Context, tx *postgres.DB) error {
		_, err := tx.Exec(ctx, `UPDATE advisories SET state = 'published', published_at = now(), republish_required = true WHERE advisory_id = $1`, pub)
		return err
	})
	if r := w.owner.send("POST", "/api/advisories/"+pub+"/request-withdrawal/", `{"note": "False positive."}`); r.status != 200 {
		t.Fatalf("request withdrawal: %d %s", r.status, r.body)
	}
	d := w.admin.get("/api/dashboard/").json(t)
	items := d["items"].(map[string]any)
	first := func(cat string) map[string]any {
		t.Helper()
		list, _ := items[cat].([]any)
		if len(list) != 1 {
			t.Fatalf("%s: %v, want one entry", cat, items[cat])
		}
		return list[0].(map[string]any)
	}
	if it := first("reassignment_requests"); it["advisory_id"] != draft || it["note"] != "This is Jetty's." ||
		it["suggested_project"] != "jetty" || it["by"] != "owen@example.org" {
		t.Errorf("reassignment request entry %v", it)
	}
	if it := first("withdrawal_requests"); it["advisory_id"] != pub || it["note"] != "False positive." || it["state"] != "published" {
		t.Errorf("withdrawal request entry %v", it)
	}
	if it := first("publish"); it["advisory_id"] != pub || it["status"] != "republish_required" || it["task_id"] != nil {
		t.Errorf("publish entry %v", it)
	}
	counts := d["counts"].(map[string]any)
	if counts["withdrawal_requests"] != float64(1) || counts["reassignment_requests"] != float64(1) || counts["publish"] != float64(1) {
		t.Errorf("counts %v", counts)
	}

	// A failed export lists the advisory once, as failed, with the task
	// and its redacted error; a newer task that is in flight hides it.
	task := func(status, lastError string) {
		t.Helper()
		w.sql(t, func(ctx context.Context, tx *postgres.DB) error {
			_, err := tx.Exec(ctx, `INSERT INTO publication_tasks (advisory_id, version_id, status, last_error)
				SELECT a.id, (SELECT max(v.id) FROM advisory_versions v WHERE v.advisory_id = a.id), $2, $3
				  FROM advisories a WHERE a.advisory_id = $1`, pub, status, lastError)
			return err
		})
	}
	task("failed", "git: push rejected")
	items = w.admin.get("/api/dashboard/?category=publish").json(t)["items"].(map[string]any)
	if it := first("publish"); it["advisory_id"] != pub || it["status"] != "failed" || it["task_id"] == nil || it["note"] != "git: push rejected" {
		t.Errorf("failed export entry %v", it)
	}
	task("queued", "")
	if d := w.admin.get("/api/dashboard/?category=publish").json(t); len(d["items"].(map[string]any)["publish"].([]any)) != 0 {
		t.Errorf("an advisory with a publication in flight is listed: %v", d["items"])
	}
}

// Reopening a withdrawal re-publishes it (L14), so it asks for a fresh
// step-up, after the permission check (permissions §13); reopening a
// dismissed draft does not.
func TestAPIReopenWithdrawalNeedsStepUp(t *testing.T) {
	w := newWorld(t, nil)
	withdrawn, dismissed := w.draft(t, "Withdrawn"), w.draft(t, "Dismissed")
	w.sql(t, func(ctx context.Context, tx *postgres.DB) error {
		_, err := tx.Exec(ctx, `UPDATE advisories SET state = 'dismissed', dismissed_reason = 'bogus',
			dismissed_from_state = CASE WHEN advisory_id = $1 THEN 'published' ELSE 'draft' END,
			published_at = CASE WHEN advisory_id = $1 THEN now() END
			WHERE advisory_id IN ($1, $2)`, withdrawn, dismissed)
		return err
	})
	reopen := func(b *browser, id string) response {
		t.Helper()
		return b.send("POST", "/api/advisories/"+id+"/reopen/", `{}`)
	}
	if r := reopen(w.owner, withdrawn); r.status != 403 {
		t.Fatalf("non-mature owner un-withdraws: %d %s (want 403 before any step-up)", r.status, r.body)
	}
	if r := reopen(w.admin, withdrawn); r.status != 401 || r.json(t)["error"] != "step_up_required" {
		t.Fatalf("un-withdraw without step-up: %d %s", r.status, r.body)
	}
	if n := w.count(t, `SELECT count(*) FROM publication_tasks`); n != 0 {
		t.Fatalf("%d publication tasks queued by refused calls", n)
	}
	w.admin.stepUp("admin@example.org", "advisoryhub-security")
	r := reopen(w.admin, withdrawn)
	if d := r.json(t); r.status != 200 || d["state"] != "dismissed" || d["withdrawn_reason"] != "" {
		t.Fatalf("un-withdraw: %d %s; the advisory stays dismissed until the worker publishes it", r.status, r.body)
	}
	if n := w.count(t, `SELECT count(*) FROM publication_tasks t JOIN advisories a ON a.id = t.advisory_id
		WHERE a.advisory_id = $1 AND t.status = 'queued'`, withdrawn); n != 1 {
		t.Fatalf("%d queued publication tasks, want 1", n)
	}
	if r := reopen(w.owner, dismissed); r.status != 200 || r.json(t)["state"] != "draft" {
		t.Fatalf("reopen a dismissed draft: %d %s", r.status, r.body)
	}
}
