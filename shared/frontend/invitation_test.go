package frontend_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/grant"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

var acceptForm = regexp.MustCompile(`<form method="post" action="(/invitations/[^"]+/)"`)

// TestInvitationLink follows an invitation email's link as the invitee
// would: anonymous → sign in at the provider → back on the link's page →
// accept (a CSRF-checked POST) → access to the advisory (INV-ACCESS-2).
// The GET alone redeems nothing; a wrong address, a used or an unknown
// token is a 4xx page that says why, never an error page.
func TestInvitationLink(t *testing.T) {
	w := newWorld(t, nil)
	id := w.draft(t, "Invite me")
	if r := w.owner.send("POST", "/api/advisories/"+id+"/grants/", `{"principal": "user", "permission": "viewer", "email": "Ivy@Example.org"}`); r.status != 201 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	// The token the notify worker would mint and mail (shared/notify).
	token, hash, err := grant.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.sql(t, func(ctx context.Context, tx *postgres.DB) error {
		_, err := tx.Exec(ctx, `UPDATE invitations SET token_hash = $1 WHERE lower(email) = 'ivy@example.org'`, hash)
		return err
	})
	link := "/invitations/" + token + "/"

	// Someone else, signed in, is refused with a reason.
	other := w.browser()
	other.signIn("mallory@example.org", "")
	page := other.get(link)
	m := acceptForm.FindStringSubmatch(page.body)
	if page.status != 200 || m == nil {
		t.Fatalf("link page for another user: %d\n%s", page.status, page.body)
	}
	if r := other.do("POST", m[1], url.Values{"csrfmiddlewaretoken": {other.csrf()}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.status != http.StatusForbidden || !strings.Contains(r.body, "another email address") {
		t.Fatalf("another user accepts: %d\n%s", r.status, r.body)
	}

	// The invitee follows the link signed out: sign-in comes first.
	ivy := w.browser()
	r := ivy.get(link)
	if r.url.Path == link {
		t.Fatalf("anonymous visitor was not sent to sign in: %d", r.status)
	}
	r = ivy.submit(r, "ivy@example.org", "")
	if r.status != 200 || r.url.Path != link {
		t.Fatalf("after sign-in landed at %s with %d", r.url, r.status)
	}
	m = acceptForm.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no accept form:\n%s", r.body)
	}
	// Without the CSRF token the POST is refused.
	if r := ivy.do("POST", m[1], "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.status != http.StatusForbidden {
		t.Fatalf("accept without CSRF: %d", r.status)
	}
	// Signing in already redeemed the invitation for the matching address;
	// accepting through the link then just confirms it.
	r = ivy.do("POST", m[1], url.Values{"csrfmiddlewaretoken": {ivy.csrf()}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.status != 200 || !strings.Contains(r.body, "Invitation accepted") || !strings.Contains(r.body, id) {
		t.Fatalf("accept: %d\n%s", r.status, r.body)
	}
	if r := ivy.get("/api/advisories/" + id + "/"); r.status != 200 {
		t.Fatalf("invitee reads the advisory: %d", r.status)
	}

	// Used by Ivy, the link is refused to anyone else even with Ivy's
	// address out of the way; an unknown token is a plain 404 page.
	if r := other.do("POST", m[1], url.Values{"csrfmiddlewaretoken": {other.csrf()}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.status != http.StatusForbidden {
		t.Fatalf("another user after redemption: %d", r.status)
	}
	bogus, _, _ := grant.NewToken(nil)
	if r := ivy.do("POST", "/invitations/"+bogus+"/", url.Values{"csrfmiddlewaretoken": {ivy.csrf()}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); r.status != http.StatusNotFound || !strings.Contains(r.body, "not valid") {
		t.Fatalf("unknown token: %d\n%s", r.status, r.body)
	}
	if n := w.count(t, `SELECT count(*) FROM audit_log WHERE action = 'invitation.redeemed'`); n != 1 {
		t.Fatalf("%d invitation.redeemed rows, want 1", n)
	}
}
