package auth

import (
	"encoding/json"
	"testing"
)

// INV-OIDC-6: explicit falsy email_verified never verifies; an absent
// claim follows OIDC_REQUIRE_EMAIL_VERIFIED.
func TestEmailVerified(t *testing.T) {
	cases := []struct {
		raw     string
		require bool
		want    bool
	}{
		{"", false, true}, {"", true, false},
		{"true", true, true}, {`"true"`, true, true},
		{"false", false, false}, {`"false"`, false, false}, {"null", false, false}, {`""`, false, false}, {"0", false, false},
	}
	for _, tc := range cases {
		if got := emailVerified(json.RawMessage(tc.raw), tc.require); got != tc.want {
			t.Errorf("emailVerified(%s, require=%v) = %v", tc.raw, tc.require, got)
		}
	}
}

// auth_time must be a NumericDate; anything else fails closed.
func TestNumericTime(t *testing.T) {
	for raw, ok := range map[string]bool{"1700000000": true, "1700000000.5": true, "": false, "null": false, `"1700000000"`: false, "-5": false} {
		if got := numericTime(json.RawMessage(raw)); (got != nil) != ok {
			t.Errorf("numericTime(%s) = %v", raw, got)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/advisories/?q=x": "/advisories/?q=x", "": "/", "advisories": "/", "//evil.example": "/",
		"/\\evil.example": "/", "https://evil.example/": "/", "/ok\r\nSet-Cookie: x": "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
