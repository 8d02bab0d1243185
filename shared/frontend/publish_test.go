package frontend_test

import (
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var publishForm = regexp.MustCompile(`<form method="post" action="(/publication/[^"]+/publish/)"`)

// TestPublishPage is the HTML publish (requirements §5, §6.2): the page
// asks for a step-up before it offers the form, the server re-checks the
// typed advisory id (a mismatch publishes nothing), the service decides
// who may publish (INV-PERM-1..3), and a second attempt while one is
// queued is refused (INV-CONCURRENCY-1).
func TestPublishPage(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "pub.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	w := newWorld(t, map[string]string{"PUB_REPO_URL": "file://" + bare})
	id := w.draft(t, "Publish me")
	if r := w.admin.send("PATCH", "/api/projects/lantern/", `{"is_mature_publisher": true}`); r.status != 200 {
		t.Fatalf("mature: %d %s", r.status, r.body)
	}
	page := "/publication/" + id + "/publish/"
	form := func(b *browser, confirm string) response {
		return b.do("POST", page, url.Values{"csrfmiddlewaretoken": {b.csrf()}, "confirm_advisory_id": {confirm}}.Encode(),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	tasks := func() int { return w.count(t, `SELECT count(*) FROM publication_tasks`) }

	// Strangers see no such page; a viewer is told publishing is not
	// possible, with no form and no step-up.
	if r := w.stranger.get(page); r.status != http.StatusNotFound {
		t.Fatalf("stranger: %d", r.status)
	}
	viewer := w.browser()
	viewer.signIn("vera@example.org", "")
	if r := w.owner.send("POST", "/api/advisories/"+id+"/grants/", `{"principal": "user", "permission": "viewer", "email": "vera@example.org"}`); r.status != 201 {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	if r := viewer.get(page); r.status != http.StatusForbidden || publishForm.MatchString(r.body) || strings.Contains(r.body, "step-up") {
		t.Fatalf("viewer page: %d\n%s", r.status, r.body)
	}
	if r := form(viewer, id); r.status != http.StatusForbidden || tasks() != 0 {
		t.Fatalf("viewer publishes: %d, %d tasks", r.status, tasks())
	}
	if r := w.stranger.get("/publication/ECL-0000-0000-0000/publish/"); r.status != http.StatusNotFound {
		t.Fatalf("malformed id: %d", r.status)
	}

	// The owner without a recent step-up gets the way there, not the form;
	// a POST regardless is sent to the step-up and publishes nothing.
	r := w.owner.get(page)
	if r.status != 200 || publishForm.MatchString(r.body) || !strings.Contains(r.body, "/oidc/step-up/?next=") {
		t.Fatalf("owner page before step-up: %d\n%s", r.status, r.body)
	}
	r = form(w.owner, id)
	if !strings.HasPrefix(r.url.Path, "/dev/idp/") || tasks() != 0 {
		t.Fatalf("stale POST landed at %s (%d), %d tasks", r.url, r.status, tasks())
	}
	// Re-authenticating (prompt=login) comes back to the page, now with
	// the form.
	r = w.owner.submit(r, "owen@example.org", "lantern-security")
	if r.status != 200 || r.url.Path != page || !publishForm.MatchString(r.body) {
		t.Fatalf("after step-up at %s (%d):\n%s", r.url, r.status, r.body)
	}

	// Without the CSRF token, or with the wrong id typed, nothing happens.
	if r := w.owner.do("POST", page, url.Values{"confirm_advisory_id": {id}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.status != http.StatusForbidden || tasks() != 0 {
		t.Fatalf("no CSRF: %d, %d tasks", r.status, tasks())
	}
	for _, wrong := range []string{"", "ECL-2222-2222-2222", id + "x"} {
		if r := form(w.owner, wrong); r.status != http.StatusBadRequest || !strings.Contains(r.body, "nothing was published") || tasks() != 0 {
			t.Fatalf("typed %q: %d, %d tasks\n%s", wrong, r.status, tasks(), r.body)
		}
	}
	// The id typed in lower case confirms (the server compares without case).
	r = form(w.owner, strings.ToLower(id))
	if r.status != http.StatusAccepted || !strings.Contains(r.body, "Publication queued") || tasks() != 1 {
		t.Fatalf("publish: %d, %d tasks\n%s", r.status, tasks(), r.body)
	}
	if n := w.count(t, `SELECT count(*) FROM outbox WHERE kind = 'publication.run'`); n != 1 {
		t.Fatalf("%d publication jobs queued", n)
	}
	// A second attempt while the first is queued is refused, with the reason.
	if r := form(w.owner, id); r.status != http.StatusConflict || tasks() != 1 {
		t.Fatalf("second publish: %d, %d tasks\n%s", r.status, tasks(), r.body)
	}
}
