package main

import (
	"net/http"
	"strings"
	"testing"
)

func (b *browser) send(method, path, body string) response {
	b.t.Helper()
	return b.do(method, path, strings.NewReader(body), map[string]string{"Content-Type": "application/json", "X-CSRFToken": b.csrf()})
}

// The scripted API of the shim as boot wires it: an admin creates a
// project, its team files a draft and invites an address with no account;
// that person signs in through /dev/idp/ (another case) and finds the
// advisory shared with them. An anonymous JSON report lands in triage.
func TestShimScriptedAPIAndInvitation(t *testing.T) {
	base, stop := start(t, dataDir(t))
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	admin := newBrowser(t, base)
	admin.signIn("admin@example.org", "Ada Admin", "advisoryhub-security", "/api/me/")
	if r := admin.send("POST", "/api/projects/", `{"slug": "lantern", "name": "Eclipse Lantern", "security_team": "lantern-security"}`); r.status != 201 {
		t.Fatalf("create project: %d %s", r.status, r.body)
	}
	owner := newBrowser(t, base)
	owner.signIn("owen@example.org", "Owen", "lantern-security", "/api/me/")
	r := owner.send("POST", "/api/advisories/", `{"project": "lantern", "summary": "Path traversal", "details": "../../etc/passwd"}`)
	if r.status != 201 {
		t.Fatalf("create draft: %d %s", r.status, r.body)
	}
	id := decode(t, r)["advisory_id"].(string)
	r = owner.send("POST", "/api/advisories/"+id+"/grants/", `{"principal": "user", "permission": "viewer", "email": "Guest@Example.org"}`)
	if r.status != 201 || decode(t, r)["created"] != "invitation" {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}

	guest := newBrowser(t, base)
	guest.signIn("guest@example.org", "Guest", "", "/api/me/")
	if r := guest.get("/api/advisories/" + id + "/"); r.status != 200 || decode(t, r)["summary"] != "Path traversal" {
		t.Fatalf("invitee after sign-in: %d %s", r.status, r.body)
	}
	if r := guest.send("PATCH", "/api/advisories/"+id+"/", `{"summary": "mine"}`); r.status != 403 {
		t.Fatalf("viewer edits: %d %s", r.status, r.body)
	}

	anon := newBrowser(t, base)
	if r := anon.get("/report/"); r.status != 200 || !strings.Contains(r.body, `name="project_slug"`) {
		t.Fatalf("report form: %d", r.status)
	}
	r = anon.send("POST", "/report/", `{"project_slug": "lantern", "summary": "Open redirect", "details": "?next=//evil"}`)
	if r.status != 202 {
		t.Fatalf("JSON report: %d %s", r.status, r.body)
	}
	ref := decode(t, r)["reference"].(string)
	if r := owner.get("/api/advisories/" + ref + "/"); r.status != 200 || decode(t, r)["state"] != "triage" {
		t.Fatalf("the report as its owner sees it: %d %s", r.status, r.body)
	}
	if r := owner.send("POST", "/api/advisories/"+ref+"/promote/", `{}`); r.status != http.StatusOK || decode(t, r)["state"] != "draft" {
		t.Fatalf("promote: %d %s", r.status, r.body)
	}
}
