package middleware

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
)

// CSRF header and form field names (the API contract's double-submit
// scheme, as Django names them).
const (
	CSRFHeader    = "X-CSRFToken"
	CSRFFormField = "csrfmiddlewaretoken"
)

// CSRFConfig configures CSRF.
type CSRFConfig struct {
	// Secret keys the token MAC. Required.
	Secret []byte
	// CookieName is "__Host-csrftoken" (production) or "csrftoken"
	// (development over plain http); Secure goes with the former.
	CookieName string
	Secure     bool
	// SessionKey returns what binds a token to the caller's session (the
	// session id hash); nil for an anonymous caller. A token minted before
	// sign-in is therefore useless after it, and one session's token is
	// useless in another (login CSRF, cookie tossing).
	SessionKey func(r *http.Request) []byte
	// Exempt, when it returns true, skips the check for r.
	Exempt func(r *http.Request) bool
	// TrustedOrigins may send cross-origin unsafe requests
	// (CSRF_TRUSTED_ORIGINS).
	TrustedOrigins []string
	// Deny answers a refused request. reason is for the log only.
	Deny func(w http.ResponseWriter, r *http.Request, reason string)
}

// CSRF refuses unsafe requests (every method but GET, HEAD, OPTIONS and
// TRACE) that fail either check: net/http's cross-origin protection
// (Sec-Fetch-Site / Origin), and the double-submit token — the
// X-CSRFToken header (or the csrfmiddlewaretoken form field) must equal the
// CSRF cookie, and the cookie must carry a valid MAC for this session.
// Every response whose request lacks a valid cookie gets a fresh one.
type CSRF struct {
	cfg    CSRFConfig
	origin *http.CrossOriginProtection
}

// NewCSRF builds the protection.
func NewCSRF(cfg CSRFConfig) (*CSRF, error) {
	var errs []error
	if len(cfg.Secret) < 16 {
		errs = append(errs, errors.New("middleware: CSRF secret must be at least 16 bytes"))
	}
	if cfg.CookieName == "" {
		errs = append(errs, errors.New("middleware: CSRF cookie name is required"))
	}
	if cfg.SessionKey == nil || cfg.Deny == nil {
		errs = append(errs, errors.New("middleware: CSRF SessionKey and Deny are required"))
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("middleware: CSRF trusted origin: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &CSRF{cfg: cfg, origin: cop}, nil
}

type csrfKey struct{}

// CSRFToken returns the caller's current token, for forms
// (csrfmiddlewaretoken) and pages that hand it to scripts.
func CSRFToken(ctx context.Context) string {
	s, _ := ctx.Value(csrfKey{}).(string)
	return s
}

// Safe reports whether m is a method that must not change state.
func Safe(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// Middleware applies the protection.
func (c *CSRF) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := c.cfg.SessionKey(r)
		var cookie string
		if ck, err := r.Cookie(c.cfg.CookieName); err == nil {
			cookie = ck.Value
		}
		valid := cookie != "" && c.verify(cookie, key)
		token := cookie
		if !valid {
			token = c.Issue(w, key)
		}
		r = r.WithContext(context.WithValue(r.Context(), csrfKey{}, token))
		if Safe(r.Method) || (c.cfg.Exempt != nil && c.cfg.Exempt(r)) {
			next.ServeHTTP(w, r)
			return
		}
		if err := c.origin.Check(r); err != nil {
			c.cfg.Deny(w, r, "cross-origin request")
			return
		}
		if !valid {
			c.cfg.Deny(w, r, "CSRF cookie missing or not valid for this session")
			return
		}
		submitted := r.Header.Get(CSRFHeader)
		if submitted == "" && isForm(r) {
			submitted = r.PostFormValue(CSRFFormField)
		}
		if submitted == "" || subtle.ConstantTimeCompare([]byte(submitted), []byte(cookie)) != 1 {
			c.cfg.Deny(w, r, "CSRF token missing or incorrect")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// Issue sets a fresh token cookie bound to sessionKey and returns the token.
func (c *CSRF) Issue(w http.ResponseWriter, sessionKey []byte) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(append(b[:], c.mac(b[:], sessionKey)...))
	http.SetCookie(w, &http.Cookie{
		Name: c.cfg.CookieName, Value: token, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: c.cfg.Secure, SameSite: http.SameSiteLaxMode,
		// Readable by the page's scripts, which echo it in X-CSRFToken.
		HttpOnly: false,
	})
	return token
}

func (c *CSRF) mac(random, sessionKey []byte) []byte {
	m := hmac.New(sha256.New, c.cfg.Secret)
	m.Write([]byte("advisoryhub-csrf\x00"))
	m.Write(random)
	m.Write([]byte{0})
	m.Write(sessionKey)
	return m.Sum(nil)[:16]
}

func (c *CSRF) verify(token string, sessionKey []byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return false
	}
	return hmac.Equal(raw[16:], c.mac(raw[:16], sessionKey))
}
