package devidp

import (
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func newTestProvider(t *testing.T, now *time.Time) (*httptest.Server, *Provider) {
	t.Helper()
	var p *Provider
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	p, err = New(Config{Issuer: srv.URL + "/dev/idp", ClientID: "c", ClientSecret: "s", Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return srv, p
}

func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// The authorization endpoint validates the request, never redirecting to an
// unknown redirect_uri; PKCE is enforced at the token endpoint; max_age and
// prompt=login decide whether an earlier sign-in is reused.
func TestAuthorizeAndToken(t *testing.T) {
	now := time.Now()
	srv, _ := newTestProvider(t, &now)
	jar, _ := cookiejar.New(nil)
	c := noRedirect(jar)
	verifier := "a-verifier-of-sufficient-length-0123456789abcdef"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"c"}, "redirect_uri": {srv.URL + "/cb"}, "scope": {"openid email"},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	authz := srv.URL + "/dev/idp/authorize?"

	bad := url.Values{}
	for k, v := range q {
		bad[k] = v
	}
	bad.Set("redirect_uri", "https://evil.example/cb")
	if resp, _ := c.Get(authz + bad.Encode()); resp.StatusCode != 400 {
		t.Fatalf("foreign redirect_uri: %d", resp.StatusCode)
	}
	resp, _ := c.Get(authz + q.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(authz+q.Encode(), url.Values{"email": {"x@example.org"}, "groups": {"g1, g2@corp"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if resp.StatusCode != 303 || code == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("after the form: %d %s", resp.StatusCode, loc)
	}
	token := func(code, v string) int {
		r, _ := http.PostForm(srv.URL+"/dev/idp/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {srv.URL + "/cb"}, "client_id": {"c"}, "client_secret": {"s"}, "code_verifier": {v}})
		return r.StatusCode
	}
	if got := token(code, "wrong-verifier"); got != 400 {
		t.Fatalf("wrong PKCE verifier: %d", got)
	}
	if got := token(code, verifier); got != 400 {
		t.Fatalf("a code is single-use: %d", got)
	}

	// An earlier sign-in is reused, unless prompt=login or it is older than max_age.
	now = now.Add(10 * time.Minute)
	if resp, _ := c.Get(authz + q.Encode()); resp.StatusCode != 303 {
		t.Fatalf("single sign-on: %d", resp.StatusCode)
	}
	for k, v := range map[string]string{"prompt": "login", "max_age": "300"} {
		q2 := url.Values{}
		for kk, vv := range q {
			q2[kk] = vv
		}
		q2.Set(k, v)
		if resp, _ := c.Get(authz + q2.Encode()); resp.StatusCode != 200 {
			t.Errorf("%s=%s: %d, want the form", k, v, resp.StatusCode)
		}
	}
	if groups := (&Provider{cfg: Config{GroupDomain: "localhost"}}).spnGroups(" a, b@x ,,"); strings.Join(groups, "|") != "a@localhost|b@x" {
		t.Errorf("groups %v", groups)
	}
}
