// Package auth signs users in with OpenID Connect and keeps their sessions
// server-side in PostgreSQL.
//
// Sign-in is the authorization-code flow with PKCE (S256), state and nonce,
// against any provider found by discovery from OIDC_ISSUER_URL (go-oidc).
// The user and group mirror is refreshed at every login (app.Sessions). The
// session cookie (__Host-sessionid; plain sessionid in development over
// http) carries a random 256-bit id whose SHA-256 keys the sessions row; the
// id rotates at every login. Sessions end after an idle and an absolute
// timeout, at logout (RP-initiated at the provider when it offers
// end_session_endpoint), and at the next request of a banned account
// (INV-AUTH-8).
//
// Step-up (permissions §8): /oidc/step-up/ marks the session as waiting and
// sends the user back to the provider with prompt=login&max_age=0; the
// callback stamps step_up_auth_at only when the marker is present and the
// new ID token's auth_time is fresh.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// Paths of the sign-in plumbing (all under /oidc/, which maintenance mode
// never pauses).
const (
	LoginPath     = "/oidc/authenticate/"
	CallbackPath  = "/oidc/callback/"
	LogoutPath    = "/oidc/logout/"
	StepUpPath    = "/oidc/step-up/"
	SignedOutPath = "/accounts/signed-out/"
	// LegacyLoginPath also starts the flow (GET /auth/login?next=…).
	LegacyLoginPath = "/auth/login"
)

// Config wires Auth.
type Config struct {
	DB       *postgres.DB
	Sessions *app.Sessions
	OIDC     config.OIDC
	Web      config.Web
	// Production refuses a missing SESSION_SECRET and always marks cookies
	// Secure.
	Production bool
	// HTTPClient talks to the provider; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
}

// Auth is the sign-in machinery.
type Auth struct {
	cfg         Config
	now         func() time.Time
	client      *http.Client
	secure      bool
	cookie      string // session cookie name
	flowCookie  string // state cookie name
	csrfCookie  string
	secret      []byte
	redirectURL string

	mu   sync.Mutex
	prov *provider
}

type provider struct {
	oidc       *oidc.Provider
	oauth      oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string
}

// New builds Auth. Without an issuer URL nobody can sign in (the routes
// answer 503), but sessions are still read, so the rest of the surface
// works the same.
func New(cfg Config) (*Auth, error) {
	var errs []error
	if cfg.DB == nil || cfg.Sessions == nil || cfg.Logger == nil {
		errs = append(errs, errors.New("auth: DB, Sessions and Logger are required"))
	}
	if cfg.OIDC.IssuerURL != "" {
		if cfg.OIDC.ClientID == "" {
			errs = append(errs, errors.New("auth: OIDC_RP_CLIENT_ID is required with OIDC_ISSUER_URL"))
		}
		if cfg.Web.BaseURL == "" {
			errs = append(errs, errors.New("auth: ADVISORYHUB_BASE_URL is required with OIDC_ISSUER_URL (it makes the redirect URI)"))
		}
	}
	if cfg.OIDC.AdminGroup == "" {
		errs = append(errs, errors.New("auth: OIDC_ADMIN_GROUP is required"))
	}
	secret := []byte(cfg.Web.SessionSecret.Value())
	if len(secret) == 0 {
		if cfg.Production {
			errs = append(errs, errors.New("auth: SESSION_SECRET is required in production"))
		}
		// Development: a per-process key (tokens die with the process).
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	} else if len(secret) < 16 {
		errs = append(errs, errors.New("auth: SESSION_SECRET must be at least 16 characters"))
	}
	if cfg.Web.SessionIdleTimeout <= 0 || cfg.Web.SessionMaxAge <= 0 {
		errs = append(errs, errors.New("auth: session timeouts must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	a := &Auth{cfg: cfg, now: cfg.Now, client: cfg.HTTPClient, secret: secret}
	if a.now == nil {
		a.now = time.Now
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: 10 * time.Second}
	}
	a.secure = cfg.Production || strings.HasPrefix(cfg.Web.BaseURL, "https://")
	if a.secure {
		a.cookie, a.flowCookie, a.csrfCookie = "__Host-sessionid", "__Host-oidcflow", "__Host-csrftoken"
	} else {
		a.cookie, a.flowCookie, a.csrfCookie = "sessionid", "oidcflow", "csrftoken"
	}
	if cfg.Web.BaseURL != "" {
		a.redirectURL = strings.TrimRight(cfg.Web.BaseURL, "/") + CallbackPath
	}
	return a, nil
}

// SecureCookies reports whether cookies carry Secure and the __Host- prefix.
func (a *Auth) SecureCookies() bool { return a.secure }

// CookieName is the session cookie's name.
func (a *Auth) CookieName() string { return a.cookie }

// CSRFCookieName is the CSRF cookie's name (__Host-csrftoken or csrftoken).
func (a *Auth) CSRFCookieName() string { return a.csrfCookie }

// Secret is the key that signs CSRF tokens (SESSION_SECRET).
func (a *Auth) Secret() []byte { return a.secret }

// User is the signed-in caller, as loaded from the session, the user row and
// the stored group mirror on this request.
type User struct {
	ID          int64
	Email       string
	DisplayName string
	// IsAdmin: member of OIDC_ADMIN_GROUP per the mirror (INV-OIDC-3).
	IsAdmin    bool
	GroupIDs   []int64
	GroupNames []string
	// AuthTime is when the user last authenticated at the provider;
	// StepUpAt when a step-up last completed in this session.
	AuthTime *time.Time
	StepUpAt *time.Time

	sessionHash []byte
}

// Subject is the user as shared/access sees it.
func (u *User) Subject() access.Subject {
	if u == nil {
		return access.Subject{}
	}
	return access.Subject{UserID: u.ID, IsAdmin: u.IsAdmin, GroupIDs: u.GroupIDs}
}

type userKey struct{}

// UserFrom returns the signed-in user, or nil for an anonymous caller.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// WithUser returns ctx carrying u and acting as u for row-level security.
func WithUser(ctx context.Context, u *User) context.Context {
	ctx = context.WithValue(ctx, userKey{}, u)
	return postgres.WithPrincipal(ctx, postgres.Principal{UserID: u.ID, IsAdmin: u.IsAdmin})
}

// Caller is the app.Caller of r: its user (zero when anonymous) plus the
// request's client address and User-Agent (INV-AUDIT-4).
func (a *Auth) Caller(r *http.Request) app.Caller {
	c := app.Caller{IP: a.ClientIP(r), UserAgent: r.UserAgent()}
	if u := UserFrom(r.Context()); u != nil {
		c.UserID, c.IsAdmin, c.GroupIDs = u.ID, u.IsAdmin, u.GroupIDs
	}
	return c
}

// ClientIP is the caller's address, honouring TRUSTED_PROXY_COUNT.
func (a *Auth) ClientIP(r *http.Request) string {
	return middleware.ClientIP(r, a.cfg.Web.TrustedProxyCount)
}

// SessionKey binds CSRF tokens to the session (nil when anonymous).
func (a *Auth) SessionKey(r *http.Request) []byte {
	if u := UserFrom(r.Context()); u != nil {
		return u.sessionHash
	}
	return nil
}

// touchEvery bounds how often activity is written back (the idle timeout
// is coarse; a write per request is not needed).
const touchEvery = time.Minute

// Middleware loads the session of the request, if any. An unknown, expired
// or idle session, or one whose user is banned or a shadow, is ended and
// the caller is anonymous (INV-AUTH-8: checked on every request).
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(a.cookie)
		if err != nil || ck.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		hash := hashID(ck.Value)
		s, su, err := a.cfg.DB.SessionByIDHash(ctx, hash, a.cfg.OIDC.AdminGroup)
		now := a.now()
		switch {
		case errors.Is(err, postgres.ErrSessionNotFound):
			a.clearCookie(w, a.cookie)
		case err != nil:
			// Fail closed: the caller is anonymous for this request.
			obs.Logger(ctx).ErrorContext(ctx, "session lookup failed", "error", err.Error())
		case !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > a.cfg.Web.SessionIdleTimeout || !su.Active || su.Provisioned:
			if _, err := a.cfg.DB.DeleteSession(ctx, hash); err != nil {
				obs.Logger(ctx).WarnContext(ctx, "ending a stale session failed", "error", err.Error())
			}
			a.clearCookie(w, a.cookie)
		default:
			if now.Sub(s.LastSeenAt) > touchEvery {
				if err := a.cfg.DB.TouchSession(ctx, hash, now); err != nil {
					obs.Logger(ctx).WarnContext(ctx, "session touch failed", "error", err.Error())
				}
			}
			u := &User{ID: s.UserID, Email: su.Email, DisplayName: su.DisplayName, IsAdmin: su.Admin,
				GroupIDs: su.GroupIDs, GroupNames: su.GroupNames, AuthTime: s.AuthTime, StepUpAt: s.StepUpAuthAt,
				sessionHash: hash}
			ctx = WithUser(ctx, u)
			ctx = obs.WithLogger(ctx, obs.Logger(ctx).With("user_id", u.ID))
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// ErrStepUpRequired: the action needs a fresh re-authentication.
var ErrStepUpRequired = errors.New("step-up authentication required")

// StepUpFresh reports whether u completed a step-up recently enough, or
// step-up is switched off (STEP_UP_REQUIRED=false).
func (a *Auth) StepUpFresh(u *User) bool {
	if !a.cfg.OIDC.StepUpRequired {
		return true
	}
	if u == nil || u.StepUpAt == nil {
		return false
	}
	age := a.now().Sub(*u.StepUpAt)
	return age >= -time.Minute && age <= a.cfg.OIDC.StepUpMaxAge
}

// RequireStepUp returns ErrStepUpRequired unless the caller's step-up is
// fresh.
func (a *Auth) RequireStepUp(ctx context.Context) error {
	if !a.StepUpFresh(UserFrom(ctx)) {
		return ErrStepUpRequired
	}
	return nil
}

// LoginURL is where an anonymous browser goes to sign in and come back to
// next.
func LoginURL(next string) string {
	return LoginPath + "?next=" + url.QueryEscape(SafeNext(next))
}

// StepUpURL is where a browser goes to step up and come back to next.
func StepUpURL(next string) string {
	return StepUpPath + "?next=" + url.QueryEscape(SafeNext(next))
}

// SafeNext returns next when it is a local path (no scheme, no host, no
// protocol-relative or backslash tricks), else "/": no open redirects.
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashID(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

func (a *Auth) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
}

func (a *Auth) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
}

// provider returns the discovered provider, discovering it on first use:
// the functions start without waiting for the provider (and the local shim
// serves its own development provider only once it listens).
func (a *Auth) provider(ctx context.Context) (*provider, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.prov != nil {
		return a.prov, nil
	}
	if a.cfg.OIDC.IssuerURL == "" {
		return nil, errNotConfigured
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, a.client), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, a.cfg.OIDC.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery: %w", err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&meta)
	end := meta.EndSession
	if a.cfg.OIDC.LogoutURL != "" {
		end = a.cfg.OIDC.LogoutURL
	}
	a.prov = &provider{
		oidc: p,
		oauth: oauth2.Config{
			ClientID: a.cfg.OIDC.ClientID, ClientSecret: a.cfg.OIDC.ClientSecret.Value(),
			Endpoint: p.Endpoint(), RedirectURL: a.redirectURL,
			Scopes: []string{oidc.ScopeOpenID, "email", "profile", "groups"},
		},
		verifier:   p.Verifier(&oidc.Config{ClientID: a.cfg.OIDC.ClientID, Now: a.now}),
		endSession: end,
	}
	return a.prov, nil
}

var errNotConfigured = errors.New("oidc: no issuer configured")
