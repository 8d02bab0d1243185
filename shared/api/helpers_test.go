package api

import (
	"testing"
	"time"
)

// INV-PRIVACY-4: masked to the first character, •••, the domain; own
// email and permitted viewers see it whole.
func TestEmailMasking(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.org": "a•••@example.org",
		"émile@exemple.fr":  "é•••@exemple.fr",
		"@example.org":      "•••@example.org",
		"no-at-sign":        "no-at-sign",
		"":                  "",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
	if EmailFor(1, 2, "bob@example.org", false) != "b•••@example.org" || EmailFor(2, 2, "bob@example.org", false) != "bob@example.org" ||
		EmailFor(1, 2, "bob@example.org", true) != "bob@example.org" || EmailFor(0, 0, "x@y", false) != "x•••@y" {
		t.Error("EmailFor")
	}
}

func TestFormatTime(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2026, 5, 7, 12, 0, 0, 0, time.UTC):                          "2026-05-07T12:00:00+00:00",
		time.Date(2026, 5, 7, 12, 0, 0, 123456000, time.UTC):                  "2026-05-07T12:00:00.123456+00:00",
		time.Date(2026, 5, 7, 14, 0, 0, 120000000, time.FixedZone("x", 7200)): "2026-05-07T12:00:00.120000+00:00",
	} {
		if got := FormatTime(in); got != want {
			t.Errorf("FormatTime(%v) = %q, want %q", in, got, want)
		}
	}
}
