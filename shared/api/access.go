package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// Access holds the comment and grant endpoints of issue 4 (operations.md
// §2.9, §3):
//
//	GET, POST /api/advisories/{advisory_id}/comments/          viewer+ (POST 30/m)
//	GET, POST /api/advisories/{advisory_id}/grants/            owner   (POST 20/h)
//	DELETE    /api/advisories/{advisory_id}/grants/{grant_id}/ owner
//
// New builds it from Config; its routes are part of the route table. Rate
// limits are counted per user before the handler body (INV-RATELIMIT-1);
// emails are masked for non-owners in every serializer (INV-PRIVACY-4).
type Access struct {
	Auth     *auth.Auth
	Comments *app.Comments
	Grants   *app.Grants
	Limiter  *ratelimit.Limiter
}

// Limits of these endpoints (permissions §12).
var (
	CommentRule = ratelimit.Rule{Limit: 30, Period: time.Minute}
	GrantRule   = ratelimit.Rule{Limit: 20, Period: time.Hour}
)

func (a *Access) routes() []route {
	return []route{
		{"GET", "/api/advisories/{advisory_id}/comments/", a.serveComments},
		{"POST", "/api/advisories/{advisory_id}/comments/", a.limited("api.comments", CommentRule, a.servePostComment)},
		{"GET", "/api/advisories/{advisory_id}/grants/", a.serveGrants},
		{"POST", "/api/advisories/{advisory_id}/grants/", a.limited("api.grants", GrantRule, a.servePostGrant)},
		{"DELETE", "/api/advisories/{advisory_id}/grants/{grant_id}/", a.serveRevokeGrant},
	}
}

// limited counts the caller's hit on route before serve runs (see limit).
func (a *Access) limited(route string, rule ratelimit.Rule, serve serveFunc) serveFunc {
	return limit(a.Limiter, route, rule, serve)
}

// commentJSON is the Comment shape (keys sorted). author is the author's
// email as the caller may see it (masked unless can_see_user_emails or
// their own, INV-PRIVACY-4), null for system comments.
type commentJSON struct {
	Author     *string `json:"author"`
	Body       string  `json:"body"`
	CreatedAt  Time    `json:"created_at"`
	EditedAt   Time    `json:"edited_at"`
	ID         int64   `json:"id"`
	IsInternal bool    `json:"is_internal"`
	IsRedacted bool    `json:"is_redacted"`
}

func commentOf(cv app.CommentView) commentJSON {
	c := commentJSON{Body: cv.VisibleBody(), CreatedAt: apiTime(cv.CreatedAt), EditedAt: apiTimePtr(cv.EditedAt),
		ID: cv.ID, IsInternal: cv.Internal, IsRedacted: cv.Redacted()}
	if cv.AuthorID != 0 {
		email := cv.AuthorEmail
		c.Author = &email
	}
	return c
}

func (a *Access) serveComments(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	th, err := a.Comments.List(r.Context(), a.Auth.Caller(r), id)
	if err != nil {
		return err
	}
	out := make([]commentJSON, 0, len(th.Comments))
	for _, cv := range th.Comments {
		out = append(out, commentOf(cv))
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

func (a *Access) servePostComment(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	text, err := b.str("body")
	if err != nil {
		return err
	}
	internal, err := b.boolean("is_internal")
	if err != nil {
		return err
	}
	cv, err := a.Comments.Post(r.Context(), a.Auth.Caller(r), id, text, internal)
	if errors.Is(err, comment.ErrEmptyBody) || errors.Is(err, comment.ErrBodyTooLong) {
		return badRequest("invalid_body", publicMessage(err, "The comment body is required."))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, commentOf(cv))
	return nil
}

// grantJSON is the Grant shape. principal_label is the user's email (shown
// to owners only — and only owners reach this endpoint) or the group's
// name; null when the principal no longer exists.
type grantJSON struct {
	CreatedAt      Time    `json:"created_at"`
	ID             int64   `json:"id"`
	Permission     string  `json:"permission"`
	PrincipalID    int64   `json:"principal_id"`
	PrincipalLabel *string `json:"principal_label"`
	PrincipalType  string  `json:"principal_type"`
}

type invitationJSON struct {
	Email      string `json:"email"`
	ExpiresAt  Time   `json:"expires_at"`
	ID         int64  `json:"id"`
	Permission string `json:"permission"`
	RedeemedAt Time   `json:"redeemed_at"`
}

func grantOf(g grant.Grant) grantJSON {
	out := grantJSON{CreatedAt: apiTime(g.CreatedAt), ID: g.ID, Permission: string(g.Permission),
		PrincipalID: g.PrincipalID, PrincipalType: string(g.PrincipalType)}
	if !g.Missing {
		label := g.PrincipalName
		if g.PrincipalType == access.PrincipalUser {
			label = g.PrincipalEmail
		}
		out.PrincipalLabel = &label
	}
	return out
}

func invitationOf(inv grant.Invitation) invitationJSON {
	return invitationJSON{Email: inv.Email, ExpiresAt: apiTime(inv.ExpiresAt), ID: inv.ID,
		Permission: string(inv.Permission), RedeemedAt: apiTimePtr(inv.RedeemedAt)}
}

func (a *Access) serveGrants(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	p, err := a.Grants.List(r.Context(), a.Auth.Caller(r), id)
	if err != nil {
		return err
	}
	gs := make([]grantJSON, 0, len(p.Grants))
	for _, g := range p.Grants {
		gs = append(gs, grantOf(g))
	}
	inv := make([]invitationJSON, 0, len(p.Pending))
	for _, i := range p.Pending {
		inv = append(inv, invitationOf(i))
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": gs, "pending": inv})
	return nil
}

// servePostGrant: {principal: "user"|"group", permission, email?, group?}.
// A user email with no account becomes an invitation.
func (a *Access) servePostGrant(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	var f [4]string
	for i, k := range []string{"principal", "permission", "email", "group"} {
		if f[i], err = b.str(k); err != nil {
			return err
		}
	}
	pt, err := grant.ParsePrincipalType(f[0])
	if err != nil {
		return badRequest("invalid_principal", "principal must be user or group.")
	}
	if _, err := grant.ParsePermission(f[1]); err != nil {
		return badRequest("invalid_permission", "permission must be viewer or collaborator.")
	}
	req := app.GrantRequest{PrincipalType: pt, Permission: f[1], Email: strings.TrimSpace(f[2]), GroupName: strings.TrimSpace(f[3])}
	if pt == access.PrincipalUser && req.Email == "" || pt == access.PrincipalGroup && req.GroupName == "" {
		return badRequest("invalid_principal", "a user needs email, a group needs group.")
	}
	res, err := a.Grants.Grant(r.Context(), a.Auth.Caller(r), id, req)
	switch {
	case errors.Is(err, app.ErrUnknownGroup):
		return &Error{Status: http.StatusNotFound, Code: "unknown_group", Message: "No such group."}
	case errors.Is(err, grant.ErrInvalidEmail), errors.Is(err, grant.ErrInvalidPrincipal):
		return badRequest("invalid_principal", publicMessage(err, "Invalid principal."))
	case errors.Is(err, access.ErrInvalidPermission):
		return badRequest("invalid_permission", "permission must be viewer or collaborator.")
	case err != nil:
		return err
	}
	if res.Invitation != nil {
		writeJSON(w, http.StatusCreated, map[string]any{"created": "invitation", "invitation": invitationOf(*res.Invitation)})
		return nil
	}
	writeJSON(w, http.StatusCreated, map[string]any{"created": "grant", "grant": grantOf(*res.Grant)})
	return nil
}

func (a *Access) serveRevokeGrant(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, err := advisoryID(r)
	if err != nil {
		return err
	}
	gid, err := pathID(r, "grant_id", apperr.New(apperr.NotFound, "no such grant"))
	if err != nil {
		return err
	}
	g, err := a.Grants.Revoke(r.Context(), a.Auth.Caller(r), id, gid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": g.ID})
	return nil
}
