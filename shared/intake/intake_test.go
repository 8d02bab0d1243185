package intake_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/intake"
)

func TestReportValidate(t *testing.T) {
	ok := intake.Report{ProjectSlug: "technology.lantern", Summary: "XSS in login", Details: "steps"}
	cases := []struct {
		name   string
		r      intake.Report
		fields []string
	}{
		{"valid", ok, nil},
		{"unsorted choice", intake.Report{ProjectSlug: intake.UnsortedChoice, Summary: "s", Details: "d"}, nil},
		{"missing all", intake.Report{}, []string{"project_slug", "summary", "details"}},
		{"sentinel slug itself is not choosable", intake.Report{ProjectSlug: "unsorted", Summary: "s", Details: "d"}, []string{"project_slug"}},
		{"malformed slug", intake.Report{ProjectSlug: "../x", Summary: "s", Details: "d"}, []string{"project_slug"}},
		{"long summary", intake.Report{ProjectSlug: "p", Summary: strings.Repeat("é", 301), Details: "d"}, []string{"summary"}},
		{"long name", intake.Report{ProjectSlug: "p", Summary: "s", Details: "d", DisplayName: strings.Repeat("n", 201)}, []string{"reporter_display_name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Normalize().Validate()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			var ve *advisory.ValidationError
			if !errors.As(err, &ve) || apperr.KindOf(err) != apperr.Invalid {
				t.Fatalf("got %v, want a validation error", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Path)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("problems on %v, want %v", got, tc.fields)
			}
		})
	}
	n := intake.Report{ProjectSlug: " p ", Summary: " s\x00 ", Details: "\td\n", DisplayName: " Ann "}.Normalize()
	if n != (intake.Report{ProjectSlug: "p", Summary: "s", Details: "d", DisplayName: "Ann"}) {
		t.Errorf("Normalize = %+v", n)
	}
}

func TestHoneypot(t *testing.T) {
	if intake.HoneypotTripped("") || intake.HoneypotTripped("  ") || !intake.HoneypotTripped("http://spam") {
		t.Error("HoneypotTripped")
	}
	if got := intake.Truncate(strings.Repeat("é", 600), intake.MaxHoneypot); len([]rune(got)) != 512 {
		t.Errorf("Truncate kept %d runes", len([]rune(got)))
	}
}

var key = []byte("test-altcha-hmac-key")

func newChallenge(t *testing.T, now time.Time, n int64) intake.Challenge {
	t.Helper()
	c, err := intake.NewChallenge(intake.ChallengeOptions{Key: key, MaxNumber: 1000, Now: now, Number: &n,
		Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 64))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The challenge is exactly what the ALTCHA widget and libraries compute:
// SHA-256(salt + number) and HMAC-SHA-256(key, challenge), hex.
func TestALTCHAChallengeFormat(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newChallenge(t, now, 42)
	wantSalt := "070707070707070707070707?expires=1800001200&"
	if c.Salt != wantSalt || c.Algorithm != "SHA-256" || c.MaxNumber != 1000 {
		t.Fatalf("challenge %+v", c)
	}
	sum := sha256.Sum256([]byte(wantSalt + "42"))
	if c.Challenge != hex.EncodeToString(sum[:]) {
		t.Error("challenge is not SHA-256(salt+number)")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(c.Challenge))
	if c.Signature != hex.EncodeToString(m.Sum(nil)) {
		t.Error("signature is not HMAC-SHA-256(key, challenge)")
	}
	if n, ok := intake.Solve(c); !ok || n != 42 {
		t.Errorf("Solve = %d, %v", n, ok)
	}
	var js map[string]any
	b, _ := json.Marshal(c)
	_ = json.Unmarshal(b, &js)
	for _, k := range []string{"algorithm", "challenge", "maxnumber", "salt", "signature"} {
		if _, ok := js[k]; !ok {
			t.Errorf("challenge JSON lacks %q (the widget reads it)", k)
		}
	}
}

func TestALTCHAVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newChallenge(t, now, 42)
	good := intake.EncodeSolution(c, 42)
	encode := func(s intake.Solution) string {
		b, _ := json.Marshal(s)
		return base64.StdEncoding.EncodeToString(b)
	}
	base := intake.Solution{Algorithm: c.Algorithm, Challenge: c.Challenge, Number: 42, Salt: c.Salt, Signature: c.Signature}
	mod := func(f func(*intake.Solution)) string {
		s := base
		f(&s)
		return encode(s)
	}
	// A solution for a salt we never signed, with an honest hash.
	forgedSalt := "deadbeef?expires=1900000000&"
	fsum := sha256.Sum256([]byte(forgedSalt + "1"))
	cases := []struct {
		name    string
		payload string
		at      time.Time
		want    error
	}{
		{"valid", good, now, nil},
		{"valid, upper-case hex", mod(func(s *intake.Solution) { s.Challenge = strings.ToUpper(s.Challenge) }), now, nil},
		{"wrong number", mod(func(s *intake.Solution) { s.Number = 41 }), now, intake.ErrForged},
		{"tampered expiry", mod(func(s *intake.Solution) { s.Salt = strings.Replace(s.Salt, "1800001200", "1900001200", 1) }), now, intake.ErrForged},
		{"forged salt", encode(intake.Solution{Algorithm: "SHA-256", Challenge: hex.EncodeToString(fsum[:]), Number: 1, Salt: forgedSalt, Signature: c.Signature}), now, intake.ErrForged},
		{"other key", func() string {
			m := hmac.New(sha256.New, []byte("other"))
			m.Write([]byte(c.Challenge))
			return mod(func(s *intake.Solution) { s.Signature = hex.EncodeToString(m.Sum(nil)) })
		}(), now, intake.ErrForged},
		{"expired", good, now.Add(21 * time.Minute), intake.ErrExpired},
		{"at expiry", good, time.Unix(1_800_001_200, 0), intake.ErrExpired},
		{"no expiry", mod(func(s *intake.Solution) { s.Salt = "0707" }), now, intake.ErrALTCHA},
		{"other algorithm", mod(func(s *intake.Solution) { s.Algorithm = "SHA-1" }), now, intake.ErrALTCHA},
		{"empty", "", now, intake.ErrALTCHA},
		{"not base64", "!!!", now, intake.ErrALTCHA},
		{"not JSON", base64.StdEncoding.EncodeToString([]byte("nope")), now, intake.ErrALTCHA},
		{"huge", strings.Repeat("A", 5000), now, intake.ErrALTCHA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, exp, err := intake.VerifySolution(tc.payload, key, tc.at)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("VerifySolution = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if !errors.Is(err, intake.ErrALTCHA) || apperr.KindOf(err) != apperr.Invalid {
					t.Errorf("failure %v does not wrap ErrALTCHA (Invalid)", err)
				}
				return
			}
			if !exp.Equal(time.Unix(1_800_001_200, 0)) || s.Number != 42 {
				t.Errorf("solution %+v expires %v", s, exp)
			}
			if !bytes.Equal(intake.ReplayKey(s), intake.ReplayKey(base)) {
				t.Error("replay key depends on the challenge's case")
			}
		})
	}
	if _, _, err := intake.VerifySolution(good, nil, now); !errors.Is(err, intake.ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
}

func FuzzVerifySolution(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	n := int64(3)
	c, _ := intake.NewChallenge(intake.ChallengeOptions{Key: key, MaxNumber: 10, Now: now, Number: &n})
	f.Add(intake.EncodeSolution(c, 3))
	f.Add("")
	f.Add("eyJ9")
	f.Fuzz(func(t *testing.T, payload string) {
		s, _, err := intake.VerifySolution(payload, key, now)
		if err == nil && s.Challenge == "" {
			t.Fatal("accepted an empty challenge")
		}
	})
}
