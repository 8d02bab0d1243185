package advisory

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

func TestNewID(t *testing.T) {
	t.Run("crypto/rand by default", func(t *testing.T) {
		seen := map[ID]bool{}
		for range 200 {
			id, err := NewID(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseID(string(id)); err != nil {
				t.Fatalf("NewID produced unparseable %q: %v", id, err)
			}
			if seen[id] {
				t.Fatalf("duplicate id %q", id)
			}
			seen[id] = true
		}
	})
	t.Run("deterministic reader", func(t *testing.T) {
		// Bytes 0..11 map to alphabet positions 0..11.
		src := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		id, err := NewID(bytes.NewReader(append(src, make([]byte, 20)...)))
		if err != nil {
			t.Fatal(err)
		}
		if want := ID("ECL-2345-6789-cfgh"); id != want {
			t.Errorf("NewID = %q, want %q", id, want)
		}
	})
	t.Run("rejection sampling skips bytes >= 240", func(t *testing.T) {
		// 239 -> 239%20 = 19 ('x'); 240..255 rejected; 20 -> 0 ('2').
		src := []byte{240, 255, 239, 250, 20, 241, 39, 59, 79, 99, 119, 139, 159, 179, 199, 219}
		id, err := NewID(bytes.NewReader(append(src, make([]byte, 16)...)))
		if err != nil {
			t.Fatal(err)
		}
		if want := ID("ECL-x2xx-xxxx-xxxx"); id != want {
			t.Errorf("NewID = %q, want %q", id, want)
		}
	})
	t.Run("uniform over the alphabet", func(t *testing.T) {
		// Each byte value is either rejected (>= 240) or maps to one
		// letter; every letter must have exactly 12 preimages.
		preimages := map[byte]int{}
		for b := range 256 {
			src := append(bytes.Repeat([]byte{byte(b)}, 32), make([]byte, 32)...)
			id, err := NewID(bytes.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			body := strings.ReplaceAll(string(id[4:]), "-", "")
			if b >= 240 {
				if body != strings.Repeat("2", 12) {
					t.Errorf("byte %d not rejected: %q", b, id)
				}
				continue
			}
			if body != strings.Repeat(string(IDAlphabet[b%20]), 12) {
				t.Errorf("byte %d: %q", b, id)
			}
			preimages[body[0]]++
		}
		for _, c := range []byte(IDAlphabet) {
			if preimages[c] != 12 {
				t.Errorf("letter %q has %d preimages, want 12", c, preimages[c])
			}
		}
	})
	t.Run("reader errors", func(t *testing.T) {
		if _, err := NewID(bytes.NewReader([]byte{1, 2, 3})); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("short reader: err = %v", err)
		}
		if _, err := NewID(bytes.NewReader(bytes.Repeat([]byte{255}, 4096))); err == nil {
			t.Error("all-rejected reader: want error")
		}
	})
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"ECL-cf23-gh45-jm67", true},
		{"ECL-2222-3333-4444", true},
		{"ECL-xxxx-bbbb-vvvv", false}, // b not in alphabet
		{"ECL-cf23-gh45-jm6", false},
		{"ECL-cf23-gh45-jm678", false},
		{"ECL-cf23-gh45", false},
		{"ECL-cf23-gh45-jm67-2222", false},
		{"ecl-cf23-gh45-jm67", false}, // exact case, no folding
		{"ECL-CF23-GH45-JM67", false},
		{"ECL-0f23-gh45-jm67", false}, // 0 excluded
		{"ECL-af23-gh45-jm67", false}, // a excluded
		{" ECL-cf23-gh45-jm67", false},
		{"ECL-cf23-gh45-jm67\n", false},
		{"ECL_cf23_gh45_jm67", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := ParseID(tt.in)
			if tt.ok {
				if err != nil || string(id) != tt.in {
					t.Errorf("ParseID(%q) = %q, %v; want it back", tt.in, id, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidID) || apperr.KindOf(err) != apperr.Invalid {
				t.Errorf("ParseID(%q) err = %v, want ErrInvalidID (Invalid)", tt.in, err)
			}
		})
	}
}

func TestParseCVEID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"CVE-2026-1234", true},
		{"CVE-2026-1234567890123456789", true}, // 19 digits
		{"CVE-2026-12345678901234567890", false},
		{"CVE-2026-123", false},
		{"CVE-26-1234", false},
		{"cve-2026-1234", false},
		{"CVE-2026-１２３４", false}, // full-width digits: ASCII only
		{"CVE-2026-1234 ", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCVEID(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseCVEID(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && string(got) != tt.in {
				t.Errorf("ParseCVEID(%q) = %q", tt.in, got)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidCVEID) {
				t.Errorf("err = %v, want ErrInvalidCVEID", err)
			}
		})
	}
}

func TestParseGHSAID(t *testing.T) {
	tests := []struct {
		in, want string // want "" = rejected
	}{
		{"GHSA-xxxx-yyyy-zzzz", "GHSA-xxxx-yyyy-zzzz"},
		{"GHSA-9v2f-6vcg-3hgv", "GHSA-9v2f-6vcg-3hgv"},
		{"ghsa-9V2F-6vcg-3HGV", "GHSA-9v2f-6vcg-3hgv"}, // case-insensitive, canonicalised
		{"GHSA-9v2f-6vcg-3hg", ""},
		{"GHSA-9v2f-6vcg-3hgv-", ""},
		{"GHSA-9v2f_6vcg-3hgv", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseGHSAID(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidGHSAID) {
					t.Errorf("ParseGHSAID(%q) err = %v, want ErrInvalidGHSAID", tt.in, err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("ParseGHSAID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestInsertWithNewID(t *testing.T) {
	errClash := errors.New("clash")
	isClash := func(err error) bool { return errors.Is(err, errClash) }
	t.Run("retries collisions then succeeds", func(t *testing.T) {
		calls := 0
		id, err := InsertWithNewID(nil, func(ID) error {
			if calls++; calls < MaxIDAttempts {
				return errClash
			}
			return nil
		}, isClash)
		if err != nil || calls != MaxIDAttempts || id == "" {
			t.Errorf("id=%q err=%v calls=%d", id, err, calls)
		}
	})
	t.Run("gives up after MaxIDAttempts", func(t *testing.T) {
		calls := 0
		_, err := InsertWithNewID(nil, func(ID) error { calls++; return errClash }, isClash)
		if !errors.Is(err, ErrIDCollisions) || calls != MaxIDAttempts {
			t.Errorf("err=%v calls=%d, want ErrIDCollisions after %d", err, calls, MaxIDAttempts)
		}
	})
	t.Run("other errors stop at once", func(t *testing.T) {
		calls := 0
		_, err := InsertWithNewID(nil, func(ID) error { calls++; return io.EOF }, isClash)
		if !errors.Is(err, io.EOF) || calls != 1 {
			t.Errorf("err=%v calls=%d", err, calls)
		}
	})
}

func TestEnumsValid(t *testing.T) {
	type enum interface{ Valid() bool }
	tests := []struct {
		v    enum
		want bool
	}{
		{StateTriage, true}, {StateDraft, true}, {StatePublished, true}, {StateDismissed, true},
		{State("withdrawn"), false}, {State(""), false}, {State("Draft"), false},
		{ReviewNone, true}, {ReviewChangesRequested, true}, {ReviewStatus("withdrawn"), false},
		{KindNative, true}, {KindGHSALinked, true}, {Kind("ghsa"), false},
		{GHSAStateUnknown, true}, {GHSAStateWithdrawn, true}, {GHSAState("deleted"), false},
		{SeverityNone, true}, {SeverityCritical, true}, {SeverityLevel("negligible"), false},
		{RefWeb, true}, {RefDiscussion, true}, {ReferenceType(""), false}, {ReferenceType("web"), false},
		{RangeGit, true}, {RangeType("semver"), false},
		{SeverityUbuntu, true}, {SeverityType("CVSS_V3.1"), false},
		{CreditRemediationVerifier, true}, {CreditType("AUTHOR"), false},
	}
	for _, tt := range tests {
		if got := tt.v.Valid(); got != tt.want {
			t.Errorf("%T(%v).Valid() = %v, want %v", tt.v, tt.v, got, tt.want)
		}
	}
	if len(States()) != 4 {
		t.Errorf("INV-LIFECYCLE-1: %d states, want exactly 4", len(States()))
	}
}
