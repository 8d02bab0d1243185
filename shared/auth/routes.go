package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/identity"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Route is one sign-in endpoint. The HTML frontend mounts them and renders
// their errors.
type Route struct {
	Pattern string
	Handle  func(w http.ResponseWriter, r *http.Request) error
}

// Routes are the sign-in endpoints.
func (a *Auth) Routes() []Route {
	return []Route{
		{"GET " + LoginPath, a.serveLogin},
		{"GET " + LegacyLoginPath, a.serveLogin},
		{"GET " + CallbackPath, a.serveCallback},
		{"GET " + StepUpPath, a.serveStepUp},
		{"POST " + LogoutPath, a.serveLogout},
	}
}

// Error is a sign-in failure shown to the user as a page: Message is safe
// to show; Err (the cause) only goes to the log.
type Error struct {
	Status  int
	Title   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func failed(status int, msg string, err error) error {
	return &Error{Status: status, Title: "Sign-in failed", Message: msg, Err: err}
}

// flowTTL bounds the time between leaving for the provider and returning.
const flowTTL = 10 * time.Minute

// serveLogin starts the code flow: GET /oidc/authenticate/?next=/path.
func (a *Auth) serveLogin(w http.ResponseWriter, r *http.Request) error {
	next := SafeNext(r.URL.Query().Get("next"))
	if u := UserFrom(r.Context()); u != nil {
		http.Redirect(w, r, next, http.StatusFound)
		return nil
	}
	return a.start(w, r, next, false)
}

// serveStepUp re-authenticates a signed-in user: GET /oidc/step-up/?next=.
func (a *Auth) serveStepUp(w http.ResponseWriter, r *http.Request) error {
	u := UserFrom(r.Context())
	next := SafeNext(r.URL.Query().Get("next"))
	if u == nil {
		http.Redirect(w, r, LoginURL(StepUpURL(next)), http.StatusFound)
		return nil
	}
	if err := a.cfg.DB.MarkStepUpPending(r.Context(), u.sessionHash, next); err != nil {
		return err
	}
	return a.start(w, r, next, true)
}

// start records the flow and redirects to the provider.
func (a *Auth) start(w http.ResponseWriter, r *http.Request, next string, stepUp bool) error {
	// The state cookie must be set on the host the provider returns to.
	if base, err := url.Parse(a.cfg.Web.BaseURL); err == nil && base.Host != "" && !strings.EqualFold(base.Host, r.Host) {
		http.Redirect(w, r, strings.TrimRight(a.cfg.Web.BaseURL, "/")+r.URL.RequestURI(), http.StatusFound)
		return nil
	}
	p, err := a.provider(r.Context())
	if errors.Is(err, errNotConfigured) {
		return &Error{Status: http.StatusServiceUnavailable, Title: "Sign-in unavailable",
			Message: "No identity provider is configured for this deployment."}
	}
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Title: "Sign-in unavailable",
			Message: "The identity provider could not be reached. Please try again later.", Err: err}
	}
	state, nonce := newID(), newID()
	now := a.now()
	f := postgres.LoginFlow{StateHash: hashID(state), Nonce: nonce, NextPath: next, StepUp: stepUp,
		CreatedAt: now, ExpiresAt: now.Add(flowTTL)}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce)}
	if a.cfg.OIDC.UsePKCE {
		f.CodeVerifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(f.CodeVerifier))
	}
	if stepUp {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"))
	}
	if err := a.cfg.DB.InsertLoginFlow(r.Context(), f); err != nil {
		return err
	}
	a.setCookie(w, a.flowCookie, state, flowTTL)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.oauth.AuthCodeURL(state, opts...), http.StatusFound)
	return nil
}

// claims are the identity claims read from the ID token and userinfo.
type claims struct {
	Subject       string          `json:"sub"`
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Name          string          `json:"name"`
	AuthTime      json.RawMessage `json:"auth_time"`
}

// serveCallback finishes the flow: GET /oidc/callback/?code=…&state=….
func (a *Auth) serveCallback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	ip, ua := a.ClientIP(r), r.UserAgent()
	a.clearCookie(w, a.flowCookie)
	w.Header().Set("Cache-Control", "no-store")
	if e := q.Get("error"); e != "" {
		a.cfg.Sessions.RecordLoginFailure(ctx, "idp_error", ip, ua)
		return failed(http.StatusUnauthorized, "The identity provider did not sign you in.", fmt.Errorf("idp error %q", truncate(e, 64)))
	}
	state := q.Get("state")
	ck, err := r.Cookie(a.flowCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		a.cfg.Sessions.RecordLoginFailure(ctx, "state_mismatch", ip, ua)
		return failed(http.StatusBadRequest, "This sign-in was not started in this browser, or it took too long. Please sign in again.", nil)
	}
	flow, err := a.cfg.DB.TakeLoginFlow(ctx, hashID(state), a.now())
	if errors.Is(err, postgres.ErrSessionNotFound) {
		a.cfg.Sessions.RecordLoginFailure(ctx, "state_expired", ip, ua)
		return failed(http.StatusBadRequest, "This sign-in expired or was already used. Please sign in again.", nil)
	}
	if err != nil {
		return err
	}
	p, err := a.provider(ctx)
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Title: "Sign-in unavailable",
			Message: "The identity provider could not be reached. Please try again later.", Err: err}
	}
	octx, cancel := context.WithTimeout(oidc.ClientContext(ctx, a.client), 15*time.Second)
	defer cancel()
	var xopts []oauth2.AuthCodeOption
	if flow.CodeVerifier != "" {
		xopts = append(xopts, oauth2.VerifierOption(flow.CodeVerifier))
	}
	tok, err := p.oauth.Exchange(octx, q.Get("code"), xopts...)
	if err != nil {
		a.cfg.Sessions.RecordLoginFailure(ctx, "token_exchange", ip, ua)
		return failed(http.StatusBadGateway, "The identity provider did not confirm the sign-in.", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		a.cfg.Sessions.RecordLoginFailure(ctx, "no_id_token", ip, ua)
		return failed(http.StatusBadGateway, "The identity provider sent no ID token.", nil)
	}
	idt, err := p.verifier.Verify(octx, rawID)
	if err != nil {
		a.cfg.Sessions.RecordLoginFailure(ctx, "invalid_id_token", ip, ua)
		return failed(http.StatusUnauthorized, "The identity provider's answer could not be verified.", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		a.cfg.Sessions.RecordLoginFailure(ctx, "nonce_mismatch", ip, ua)
		return failed(http.StatusUnauthorized, "The identity provider's answer does not match this sign-in.", nil)
	}
	var c claims
	raw := map[string]any{}
	if err := idt.Claims(&c); err != nil {
		return failed(http.StatusUnauthorized, "The identity provider's answer could not be read.", err)
	}
	_ = idt.Claims(&raw)
	// Userinfo is the source of the profile claims when offered (as with
	// the original), the ID token the fallback.
	if p.oidc.UserInfoEndpoint() != "" {
		ui, err := p.oidc.UserInfo(octx, oauth2.StaticTokenSource(tok))
		if err != nil {
			a.cfg.Sessions.RecordLoginFailure(ctx, "userinfo", ip, ua)
			return failed(http.StatusBadGateway, "The identity provider did not return your profile.", err)
		}
		if ui.Subject != idt.Subject {
			a.cfg.Sessions.RecordLoginFailure(ctx, "userinfo_subject_mismatch", ip, ua)
			return failed(http.StatusUnauthorized, "The identity provider's answers do not match.", nil)
		}
		var uc claims
		uraw := map[string]any{}
		if err := ui.Claims(&uc); err == nil {
			_ = ui.Claims(&uraw)
			if uc.Email != "" {
				c.Email, c.EmailVerified = uc.Email, uc.EmailVerified
			}
			if uc.Name != "" {
				c.Name = uc.Name
			}
			if _, ok := uraw[a.cfg.OIDC.GroupClaim]; ok {
				raw[a.cfg.OIDC.GroupClaim] = uraw[a.cfg.OIDC.GroupClaim]
			}
		}
	}
	now := a.now()
	authTime := numericTime(c.AuthTime)
	stepUpFresh := flow.StepUp && authTime != nil && now.Sub(*authTime) <= a.cfg.OIDC.StepUpMaxAge && now.Sub(*authTime) >= -time.Minute
	id := newID()
	var prev []byte
	if ck, err := r.Cookie(a.cookie); err == nil && ck.Value != "" {
		prev = hashID(ck.Value)
	}
	res, err := a.cfg.Sessions.SignIn(ctx, app.SignInInput{
		Identity: postgres.LoginIdentity{Subject: idt.Subject, Email: strings.TrimSpace(c.Email), DisplayName: c.Name,
			EmailVerified: emailVerified(c.EmailVerified, a.cfg.OIDC.RequireEmailVerified)},
		Groups: identity.GroupNamesFromClaim(stringList(raw[a.cfg.OIDC.GroupClaim])),
		Session: postgres.Session{IDHash: hashID(id), CreatedAt: now, ExpiresAt: now.Add(a.cfg.Web.SessionMaxAge),
			AuthTime: authTime, IDToken: rawID},
		Previous: prev, StepUpFresh: stepUpFresh, IP: ip, UserAgent: ua,
	})
	if err != nil {
		if apperr.KindOf(err) == apperr.Unauthenticated {
			msg := "Your account could not be signed in."
			if errors.Is(err, app.ErrAccountDisabled) {
				msg = "This account is disabled."
			} else if errors.Is(err, postgres.ErrUnverifiedEmail) {
				msg = "The identity provider did not verify your email address."
			}
			return &Error{Status: http.StatusForbidden, Title: "Sign-in refused", Message: msg, Err: err}
		}
		return err
	}
	obs.Logger(ctx).InfoContext(ctx, "signed in", "user_id", res.User.ID, "step_up", res.StepUp, "invitations_redeemed", res.Redeemed)
	a.setCookie(w, a.cookie, id, a.cfg.Web.SessionMaxAge)
	next := flow.NextPath
	if res.StepUp && res.Next != "" {
		next = res.Next
	}
	http.Redirect(w, r, SafeNext(next), http.StatusSeeOther)
	return nil
}

// serveLogout ends the session (POST /oidc/logout/, CSRF-checked) and, when
// the provider offers it, continues to its end-session endpoint with the
// ID token as hint (RP-initiated logout); otherwise to the signed-out page.
func (a *Auth) serveLogout(w http.ResponseWriter, r *http.Request) error {
	target := SignedOutPath
	if u := UserFrom(r.Context()); u != nil {
		ended, err := a.cfg.Sessions.SignOut(r.Context(), u.sessionHash, a.ClientIP(r), r.UserAgent())
		if err != nil {
			return err
		}
		if p, err := a.provider(r.Context()); err == nil && p.endSession != "" && ended.IDToken != "" {
			if eu, err := url.Parse(p.endSession); err == nil {
				q := eu.Query()
				q.Set("id_token_hint", ended.IDToken)
				q.Set("client_id", a.cfg.OIDC.ClientID)
				q.Set("post_logout_redirect_uri", strings.TrimRight(a.cfg.Web.BaseURL, "/")+SignedOutPath)
				eu.RawQuery = q.Encode()
				target = eu.String()
			}
		}
	}
	a.clearCookie(w, a.cookie)
	w.Header().Set("Cache-Control", "no-store")
	if target == SignedOutPath {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	// A navigation, not a redirect: CSP form-action 'self' would block a
	// form submission's redirect to the provider's origin.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	esc := html.EscapeString(target)
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>Signing out</title></head>`+
		`<body><p>Signing out at the identity provider… <a href="%s">Continue</a></p></body></html>`, esc, esc)
	return nil
}

// emailVerified applies INV-OIDC-6: an explicit falsy email_verified
// (false, "false", null) is never verified; an absent claim is verified
// unless requireVerified.
func emailVerified(v json.RawMessage, requireVerified bool) bool {
	s := strings.TrimSpace(string(v))
	switch strings.ToLower(strings.Trim(s, `"`)) {
	case "":
		if s == "" { // absent
			return !requireVerified
		}
		return false // ""
	case "true", "1":
		return true
	}
	return false
}

// numericTime reads a NumericDate claim; nil when absent or not a number
// (fail closed).
func numericTime(v json.RawMessage) *time.Time {
	s := strings.TrimSpace(string(v))
	if s == "" || s == "null" || strings.HasPrefix(s, `"`) {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return nil
	}
	t := time.Unix(int64(f), 0)
	return &t
}

// stringList reads a claim that is a list of strings or one string.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
