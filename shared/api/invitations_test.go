package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// send is do with an optional user (nil: anonymous).
func (p *pubAPI) send(u *auth.User, method, path string) reply {
	p.t.Helper()
	if u != nil {
		return p.do(u, method, path)
	}
	r := httptest.NewRequest(method, path, nil)
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	return reply{status: w.Code, body: w.Body.String(), ctype: w.Header().Get("Content-Type")}
}

func (p *pubAPI) invitationEmailJobs(t *testing.T) int {
	t.Helper()
	var n int
	sys := postgres.AsSystem(context.Background())
	if err := p.db.QueryRow(sys, `SELECT count(*) FROM outbox WHERE kind = $1 AND queue = 'notify'`, string(app.KindSendInvitationEmail)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// POST …/invitations/{id}/revoke/ and …/resend/ (issue 4): 401 anonymous,
// 404 for an outsider (invisible advisory, INV-PRIVACY-1) and for unknown
// ids, 403 for a collaborator, 200 for the owner, 409 once redeemed.
// Resend queues the email again (invitation.resent, INV-ACCESS-3) and
// never returns a token (INV-SECRET-2); revocation is audited
// (INV-ACCESS-5).
func TestInvitationEndpoints(t *testing.T) {
	p := newPubAPI(t, false)
	ctx := context.Background()
	grants, err := app.NewGrants(app.GrantsConfig{DB: p.db})
	if err != nil {
		t.Fatal(err)
	}
	owner := app.Caller{UserID: p.owner.ID, GroupIDs: p.owner.GroupIDs}
	inv, _, err := grants.Invite(ctx, owner, p.id, "guest@example.org", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	var collabID int64
	sys := postgres.AsSystem(ctx)
	if err := p.db.InTx(sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(sys, `INSERT INTO users (email) VALUES ('collab@example.org') RETURNING id`).Scan(&collabID)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := grants.Grant(ctx, owner, p.id, app.GrantRequest{PrincipalType: access.PrincipalUser, UserID: collabID, Permission: "collaborator"}); err != nil {
		t.Fatal(err)
	}
	collab := &auth.User{ID: collabID, Email: "collab@example.org"}
	path := func(id int64, action string) string {
		return "/api/advisories/" + string(p.id) + "/invitations/" + strconv.FormatInt(id, 10) + "/" + action + "/"
	}

	for _, action := range []string{"resend", "revoke"} {
		if r := p.send(nil, "POST", path(inv.ID, action)); r.status != 401 || r.json(t)["error"] != "not_authenticated" {
			t.Errorf("%s anonymous: %d %s", action, r.status, r.body)
		}
		if r := p.send(p.outside, "POST", path(inv.ID, action)); r.status != 404 || !strings.HasPrefix(r.ctype, "text/html") {
			t.Errorf("%s by an outsider: %d %s", action, r.status, r.body)
		}
		if r := p.send(collab, "POST", path(inv.ID, action)); r.status != 403 || r.json(t)["error"] != "forbidden" {
			t.Errorf("%s by a collaborator: %d %s", action, r.status, r.body)
		}
		if r := p.send(p.owner, "POST", path(999999, action)); r.status != 404 {
			t.Errorf("%s unknown invitation: %d %s", action, r.status, r.body)
		}
		if r := p.send(p.owner, "POST", strings.Replace(path(1, action), "/1/", "/x/", 1)); r.status != 404 {
			t.Errorf("%s non-numeric id: %d %s", action, r.status, r.body)
		}
		if r := p.send(p.owner, "GET", path(inv.ID, action)); r.status != 405 {
			t.Errorf("GET %s: %d", action, r.status)
		}
	}
	if n := p.invitationEmailJobs(t); n != 1 {
		t.Fatalf("%d invitation emails queued by Invite, want 1", n)
	}

	// Resend: 200, the invitation without any token, the email queued again.
	r := p.send(p.owner, "POST", path(inv.ID, "resend"))
	if r.status != 200 {
		t.Fatalf("resend: %d %s", r.status, r.body)
	}
	var body struct {
		Resent     string         `json:"resent"`
		Invitation map[string]any `json:"invitation"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Resent != "invitation" || body.Invitation["id"] != float64(inv.ID) {
		t.Fatalf("resend body %s: %v", r.body, err)
	}
	keys := make([]string, 0, len(body.Invitation))
	for k := range body.Invitation {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"email", "expires_at", "id", "permission", "redeemed_at"}; !slices.Equal(keys, want) {
		t.Errorf("invitation keys %v, want %v (no token)", keys, want)
	}
	if n := p.invitationEmailJobs(t); n != 2 {
		t.Errorf("%d invitation emails queued after resend, want 2", n)
	}

	// Revoke: 200, then the invitation is gone (404 for both actions).
	if r := p.send(p.owner, "POST", path(inv.ID, "revoke")); r.status != 200 || r.json(t)["revoked"] != float64(inv.ID) {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	for _, action := range []string{"resend", "revoke"} {
		if r := p.send(p.owner, "POST", path(inv.ID, action)); r.status != 404 {
			t.Errorf("%s a revoked invitation: %d %s", action, r.status, r.body)
		}
	}

	// Redeemed: 409 conflict for both.
	used, _, err := grants.Invite(ctx, owner, p.id, "used@example.org", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	var usedID int64
	if err := p.db.InTx(sys, pgx.TxOptions{}, func(tx *postgres.DB) error {
		return tx.QueryRow(sys, `INSERT INTO users (email) VALUES ('used@example.org') RETURNING id`).Scan(&usedID)
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := grants.RedeemForUser(ctx, app.Caller{UserID: usedID}, "used@example.org", true); err != nil || n != 1 {
		t.Fatalf("redeem: %d %v", n, err)
	}
	for _, action := range []string{"resend", "revoke"} {
		if r := p.send(p.owner, "POST", path(used.ID, action)); r.status != 409 || r.json(t)["error"] != "conflict" {
			t.Errorf("%s a redeemed invitation: %d %s", action, r.status, r.body)
		}
	}

	var actions []string
	rows, err := p.db.Query(sys, `SELECT action FROM audit_log WHERE action LIKE 'invitation.%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	rows.Close()
	want := []string{"invitation.created", "invitation.resent", "invitation.revoked", "invitation.created", "invitation.redeemed"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
}

// Both endpoints are unsafe routes behind the web's CSRF middleware: a
// POST without the token is refused before the handler runs; with it, the
// handler answers.
func TestInvitationEndpointsNeedCSRF(t *testing.T) {
	p := newPubAPI(t, false)
	key := []byte("session-key-of-the-owner")
	csrf, err := middleware.NewCSRF(middleware.CSRFConfig{
		Secret: []byte("a-test-csrf-secret-32-bytes-long"), CookieName: "csrftoken",
		SessionKey: func(*http.Request) []byte { return key },
		Deny: func(w http.ResponseWriter, _ *http.Request, reason string) {
			http.Error(w, "CSRF: "+reason, http.StatusForbidden)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := csrf.Middleware(p.h)
	token := csrf.Issue(httptest.NewRecorder(), key)
	for _, action := range []string{"resend", "revoke"} {
		path := "/api/advisories/" + string(p.id) + "/invitations/999999/" + action + "/"
		for _, withToken := range []bool{false, true} {
			req := httptest.NewRequest("POST", path, nil)
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: "csrftoken", Value: token})
			if withToken {
				req.Header.Set(middleware.CSRFHeader, token)
			}
			req = req.WithContext(auth.WithUser(req.Context(), p.owner))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			refused := w.Code == 403 && strings.Contains(w.Body.String(), "CSRF")
			if refused == withToken {
				t.Errorf("%s, token %v: %d %s", action, withToken, w.Code, w.Body)
			}
			if withToken && w.Code != 404 {
				t.Errorf("%s with the token: %d, want the handler's 404", action, w.Code)
			}
		}
	}
}
