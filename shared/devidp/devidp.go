// Package devidp is a small but real OpenID Connect provider for
// development: discovery, JWKS, an authorization endpoint (a form asking
// for email, name and groups, with one-click demo users), a token endpoint
// (authorization code, PKCE S256) and userinfo, issuing RS256-signed ID
// tokens. The production sign-in code (shared/auth) talks to it exactly as
// it talks to any provider.
//
// It keeps its state (signing key, codes, tokens, its own sign-in cookie
// sessions) in memory, so it serves one process: the local shim mounts it
// at /dev/idp/ when DEV_IDP_ENABLED is set. No Lambda function links it.
//
// prompt=login always shows the form; max_age=N shows it unless the
// browser authenticated here within N seconds; otherwise an earlier sign-in
// here is reused and the ID token's auth_time stays that earlier time —
// what a real provider's single sign-on does, and what step-up relies on.
package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eclipse-csi/advisoryhub/web"
)

// DemoUser is offered as a one-click button on the authorization page.
type DemoUser struct {
	Email  string
	Name   string
	Groups []string // bare names or name@domain
}

// Config configures the provider.
type Config struct {
	// Issuer is the absolute URL the provider is served at, e.g.
	// http://127.0.0.1:8000/dev/idp. Its path is the mount point.
	Issuer       string
	ClientID     string
	ClientSecret string // empty: the client is not authenticated
	// RedirectOrigins are the origins redirect_uri and
	// post_logout_redirect_uri may point to; the issuer's own origin is
	// always allowed.
	RedirectOrigins []string
	DemoUsers       []DemoUser
	// GroupDomain is appended to bare group names ("name@GroupDomain"), the
	// SPN form Kanidm sends and the mirror keeps (INV-OIDC-4).
	GroupDomain string
	Logger      *slog.Logger
	Now         func() time.Time // nil: time.Now
}

// Provider is the development identity provider.
type Provider struct {
	cfg    Config
	base   *url.URL
	key    *rsa.PrivateKey
	kid    string
	form   *template.Template
	logger *slog.Logger

	mu       sync.Mutex
	codes    map[string]grant // authorization code → grant (one use)
	tokens   map[string]grant // access token → grant (userinfo)
	sessions map[string]login // this provider's own sign-in cookie → who
}

type login struct {
	Email    string
	Name     string
	Groups   []string
	AuthTime time.Time
}

type grant struct {
	login
	ClientID      string
	RedirectURI   string
	Nonce         string
	Challenge     string
	ChallengeMeth string
	Expires       time.Time
}

const (
	codeTTL     = time.Minute
	tokenTTL    = 5 * time.Minute
	sessionName = "devidp_session"
)

// New builds the provider. It generates a fresh RSA key.
func New(cfg Config) (*Provider, error) {
	var errs []error
	base, err := url.Parse(strings.TrimRight(cfg.Issuer, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		errs = append(errs, errors.New("devidp: Issuer must be an absolute http(s) URL"))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("devidp: ClientID is required"))
	}
	if cfg.Logger == nil {
		errs = append(errs, errors.New("devidp: Logger is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.GroupDomain == "" {
		cfg.GroupDomain = "localhost"
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: key: %w", err)
	}
	form, err := template.ParseFS(web.Templates, "templates/devidp.html")
	if err != nil {
		return nil, fmt.Errorf("devidp: template: %w", err)
	}
	return &Provider{
		cfg: cfg, base: base, key: key, kid: randomToken(8), form: form, logger: cfg.Logger,
		codes: map[string]grant{}, tokens: map[string]grant{}, sessions: map[string]login{},
	}, nil
}

// Issuer returns the issuer URL (no trailing slash).
func (p *Provider) Issuer() string { return p.base.String() }

// Handler serves the provider under the issuer's path.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	root := p.base.Path
	mux.HandleFunc("GET "+root+"/.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET "+root+"/jwks", p.serveJWKS)
	mux.HandleFunc("GET "+root+"/authorize", p.serveAuthorize)
	mux.HandleFunc("POST "+root+"/authorize", p.serveAuthorize)
	mux.HandleFunc("POST "+root+"/token", p.serveToken)
	mux.HandleFunc("GET "+root+"/userinfo", p.serveUserinfo)
	mux.HandleFunc("GET "+root+"/logout", p.serveLogout)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		mux.ServeHTTP(w, r)
	})
}

func (p *Provider) url(path string) string { return p.base.String() + path }

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer(),
		"authorization_endpoint":                p.url("/authorize"),
		"token_endpoint":                        p.url("/token"),
		"userinfo_endpoint":                     p.url("/userinfo"),
		"jwks_uri":                              p.url("/jwks"),
		"end_session_endpoint":                  p.url("/logout"),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "name", "groups", "auth_time", "nonce"},
	})
}

func (p *Provider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": p.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authRequest is a validated authorization request.
type authRequest struct {
	ClientID, RedirectURI, State, Nonce, Challenge, ChallengeMethod string
	Prompt                                                          string
	MaxAge                                                          int // -1: absent
}

func (p *Provider) parseAuthRequest(q url.Values) (authRequest, error) {
	ar := authRequest{
		ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), State: q.Get("state"),
		Nonce: q.Get("nonce"), Challenge: q.Get("code_challenge"), ChallengeMethod: q.Get("code_challenge_method"),
		Prompt: q.Get("prompt"), MaxAge: -1,
	}
	switch {
	case q.Get("response_type") != "code":
		return ar, errors.New("response_type must be code")
	case ar.ClientID != p.cfg.ClientID:
		return ar, errors.New("unknown client_id")
	case !p.allowedRedirect(ar.RedirectURI):
		return ar, errors.New("redirect_uri is not allowed")
	case !hasScope(q.Get("scope"), "openid"):
		return ar, errors.New("scope must include openid")
	case ar.Challenge != "" && ar.ChallengeMethod != "S256":
		return ar, errors.New("only the S256 code challenge method is supported")
	}
	if s := q.Get("max_age"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return ar, errors.New("max_age must be a non-negative integer")
		}
		ar.MaxAge = n
	}
	return ar, nil
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}

// allowedRedirect accepts absolute http(s) URLs on the issuer's origin or
// a configured one.
func (p *Provider) allowedRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return false
	}
	origin := u.Scheme + "://" + u.Host
	if origin == p.base.Scheme+"://"+p.base.Host {
		return true
	}
	for _, o := range p.cfg.RedirectOrigins {
		if strings.TrimRight(o, "/") == origin {
			return true
		}
	}
	return false
}

type formData struct {
	Action    string
	Error     string
	Email     string
	Name      string
	Groups    string
	DemoUsers []demoButton
	Reauth    bool
}

type demoButton struct {
	Email, Name, Groups string
}

// serveAuthorize shows the sign-in form (GET) and completes the request
// (POST back to the same URL, query string included).
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	ar, err := p.parseAuthRequest(r.URL.Query())
	if err != nil {
		// Never redirect to an unvalidated redirect_uri.
		http.Error(w, "invalid authorization request: "+err.Error(), http.StatusBadRequest)
		return
	}
	now := p.cfg.Now()
	if r.Method == http.MethodGet {
		if l, ok := p.currentLogin(r); ok && ar.Prompt != "login" &&
			(ar.MaxAge < 0 || now.Sub(l.AuthTime) <= time.Duration(ar.MaxAge)*time.Second) {
			p.finish(w, r, ar, l)
			return
		}
		p.renderForm(w, r, http.StatusOK, formData{Reauth: ar.Prompt == "login" || ar.MaxAge >= 0})
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	name := strings.TrimSpace(r.PostForm.Get("name"))
	groupsField := r.PostForm.Get("groups")
	if !strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n") {
		p.renderForm(w, r, http.StatusUnprocessableEntity, formData{Error: "Enter an email address.", Email: email, Name: name, Groups: groupsField})
		return
	}
	l := login{Email: email, Name: name, Groups: p.spnGroups(groupsField), AuthTime: now.Truncate(time.Second)}
	sid := randomToken(24)
	p.mu.Lock()
	p.sessions[sid] = l
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionName, Value: sid, Path: p.base.Path + "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: p.base.Scheme == "https"})
	p.finish(w, r, ar, l)
}

func (p *Provider) renderForm(w http.ResponseWriter, r *http.Request, status int, d formData) {
	d.Action = r.URL.RequestURI() // the same URL, query string included
	for _, u := range p.cfg.DemoUsers {
		d.DemoUsers = append(d.DemoUsers, demoButton{Email: u.Email, Name: u.Name, Groups: strings.Join(u.Groups, ", ")})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := p.form.ExecuteTemplate(w, "devidp", d); err != nil {
		p.logger.ErrorContext(r.Context(), "devidp form failed", "error", err.Error())
	}
}

// spnGroups turns the comma-separated field into claim values in SPN form.
func (p *Provider) spnGroups(field string) []string {
	out := []string{}
	for _, g := range strings.Split(field, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if !strings.Contains(g, "@") {
			g += "@" + p.cfg.GroupDomain
		}
		out = append(out, g)
	}
	return out
}

func (p *Provider) currentLogin(r *http.Request) (login, bool) {
	c, err := r.Cookie(sessionName)
	if err != nil {
		return login{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.sessions[c.Value]
	return l, ok
}

// finish issues a code and redirects back to the client.
func (p *Provider) finish(w http.ResponseWriter, r *http.Request, ar authRequest, l login) {
	code := randomToken(24)
	p.mu.Lock()
	p.sweep()
	p.codes[code] = grant{login: l, ClientID: ar.ClientID, RedirectURI: ar.RedirectURI, Nonce: ar.Nonce,
		Challenge: ar.Challenge, ChallengeMeth: ar.ChallengeMethod, Expires: p.cfg.Now().Add(codeTTL)}
	p.mu.Unlock()
	u, _ := url.Parse(ar.RedirectURI)
	q := u.Query()
	q.Set("code", code)
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	q.Set("iss", p.Issuer())
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// sweep drops expired codes and tokens; p.mu is held.
func (p *Provider) sweep() {
	now := p.cfg.Now()
	for k, g := range p.codes {
		if now.After(g.Expires) {
			delete(p.codes, k)
		}
	}
	for k, g := range p.tokens {
		if now.After(g.Expires) {
			delete(p.tokens, k)
		}
	}
}

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	clientID, secret, basic := r.BasicAuth()
	if basic {
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if clientID != p.cfg.ClientID || (p.cfg.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(p.cfg.ClientSecret)) != 1) {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, ok := p.codes[code]
	delete(p.codes, code) // one use, whatever happens next
	p.mu.Unlock()
	now := p.cfg.Now()
	switch {
	case !ok || now.After(g.Expires) || g.ClientID != clientID:
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	case r.PostForm.Get("redirect_uri") != g.RedirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	case g.Challenge != "" && !pkceMatches(r.PostForm.Get("code_verifier"), g.Challenge):
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	claims := p.claims(g.login)
	claims["iss"] = p.Issuer()
	claims["aud"] = clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(tokenTTL).Unix()
	claims["auth_time"] = g.AuthTime.Unix()
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	idToken, err := p.sign(claims)
	if err != nil {
		p.logger.ErrorContext(r.Context(), "devidp signing failed", "error", err.Error())
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	access := randomToken(24)
	g.Expires = now.Add(tokenTTL)
	p.mu.Lock()
	p.tokens[access] = g
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(tokenTTL.Seconds()), "id_token": idToken,
	})
}

func pkceMatches(verifier, challenge string) bool {
	if verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(b64(sum[:])), []byte(challenge)) == 1
}

// claims are the identity claims of l (ID token and userinfo).
func (p *Provider) claims(l login) map[string]any {
	return map[string]any{
		"sub": Subject(l.Email), "email": l.Email, "email_verified": true,
		"name": l.Name, "preferred_username": l.Email, "groups": l.Groups,
	}
}

// Subject is the stable sub this provider gives an email address.
func Subject(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "dev-" + fmt.Sprintf("%x", sum[:10])
}

func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g, found := p.tokens[tok]
	p.mu.Unlock()
	if !ok || !found || p.cfg.Now().After(g.Expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	writeJSON(w, http.StatusOK, p.claims(g.login))
}

// serveLogout is the end_session_endpoint: it forgets this browser's
// sign-in here and returns to post_logout_redirect_uri when allowed.
func (p *Provider) serveLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionName); err == nil {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionName, Value: "", Path: p.base.Path + "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: p.base.Scheme == "https"})
	if next := r.URL.Query().Get("post_logout_redirect_uri"); next != "" && p.allowedRedirect(next) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "Signed out of the development identity provider.")
}

// sign makes a compact RS256 JWS of claims.
func (p *Provider) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": p.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64(b)
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
