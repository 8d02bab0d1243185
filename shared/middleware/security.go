package middleware

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
)

// PermissionsPolicy is the fixed Permissions-Policy (operations.md §5).
const PermissionsPolicy = "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), " +
	"fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"

// HSTS is sent on responses served over TLS: one year, subdomains, preload.
const HSTS = "max-age=31536000; includeSubDomains; preload"

// HeadersConfig configures SecurityHeaders.
type HeadersConfig struct {
	// ReportOnly sends Content-Security-Policy-Report-Only instead of
	// enforcing (CSP_REPORT_ONLY), while a violation is diagnosed.
	ReportOnly bool
	// ReportURI is appended as report-uri when set (CSP_REPORT_URI).
	ReportURI string
	// Secure reports whether r arrived over TLS (directly or, when the edge
	// is trusted, per X-Forwarded-Proto). HSTS is sent only then.
	Secure func(r *http.Request) bool
}

type nonceKey struct{}

// CSPNonce returns the per-request nonce that inline <script> elements
// must carry (nonce="…"); empty outside SecurityHeaders.
func CSPNonce(ctx context.Context) string {
	s, _ := ctx.Value(nonceKey{}).(string)
	return s
}

// CSP returns the Content-Security-Policy value for a nonce (operations.md
// §5): scripts only with the request's nonce (and what they load, via
// 'strict-dynamic'), no inline styles, nothing framed, forms only to us.
// worker-src 'self' lets the ALTCHA widget of the report form start its
// proof-of-work worker from our origin: without it workers fall back to
// script-src, where 'strict-dynamic' voids 'self' and browsers disagree
// on whether a script-created worker is trusted (Firefox refuses it).
func CSP(nonce, reportURI string) string {
	p := "default-src 'self'; script-src 'self' 'nonce-" + nonce + "' 'strict-dynamic' 'report-sample'; " +
		"style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; form-action 'self'; " +
		"base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
	if reportURI != "" {
		p += "; report-uri " + reportURI
	}
	return p
}

// SecurityHeaders sets the security headers on every response and puts a
// fresh CSP nonce in the request context.
func SecurityHeaders(cfg HeadersConfig) func(http.Handler) http.Handler {
	cspHeader := "Content-Security-Policy"
	if cfg.ReportOnly {
		cspHeader = "Content-Security-Policy-Report-Only"
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var b [18]byte
			_, _ = rand.Read(b[:])
			nonce := base64.StdEncoding.EncodeToString(b[:])
			h := w.Header()
			h.Set(cspHeader, CSP(nonce, cfg.ReportURI))
			h.Set("Permissions-Policy", PermissionsPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if cfg.Secure != nil && cfg.Secure(r) {
				h.Set("Strict-Transport-Security", HSTS)
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nonceKey{}, nonce)))
		})
	}
}

// AllowedHosts answers 400 to a request whose Host is not listed ("*"
// allows any; a leading dot allows the domain and its subdomains), as
// Django's ALLOWED_HOSTS does.
func AllowedHosts(hosts []string) func(http.Handler) http.Handler {
	anyHost := len(hosts) == 0
	for _, h := range hosts {
		if h == "*" {
			anyHost = true
		}
	}
	return func(next http.Handler) http.Handler {
		if anyHost {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !hostAllowed(r.Host, hosts) {
				http.Error(w, "Bad Request (invalid host)", http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hostAllowed(host string, allowed []string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, a := range allowed {
		a = strings.ToLower(a)
		switch {
		case a == host:
			return true
		case strings.HasPrefix(a, ".") && (host == a[1:] || strings.HasSuffix(host, a)):
			return true
		}
	}
	return false
}

// ClientIP returns the caller's address: with trustedProxies = 0 the
// connection's peer; otherwise the address that many hops from the right of
// X-Forwarded-For (each trusted proxy appends the address it saw), falling
// back to the peer when the header is shorter. Empty when nothing parses.
func ClientIP(r *http.Request, trustedProxies int) string {
	if trustedProxies > 0 {
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for _, h := range strings.Split(v, ",") {
				if h = strings.TrimSpace(h); h != "" {
					hops = append(hops, h)
				}
			}
		}
		if len(hops) >= trustedProxies {
			if ip := net.ParseIP(hops[len(hops)-trustedProxies]); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return ""
}
