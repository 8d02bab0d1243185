package advisory

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// ID is the public, immutable advisory identifier (INV-ID-1), for example
// ECL-cf23-gh45-jm67: the prefix ECL and three groups of four characters
// from a 20-character alphabet without lookalikes.
type ID string

// IDAlphabet is the confusion-resistant alphabet of the ID groups.
const IDAlphabet = "23456789cfghjmpqrvwx"

// MaxIDAttempts bounds how many freshly generated IDs an insert tries before
// giving up on collisions (INV-IMPL-4).
const MaxIDAttempts = 8

var idPattern = regexp.MustCompile(`^ECL(-[23456789cfghjmpqrvwx]{4}){3}$`)

// Errors returned by the parsers; each is of kind apperr.Invalid.
var (
	ErrInvalidID     = apperr.New(apperr.Invalid, "invalid advisory id")
	ErrInvalidCVEID  = apperr.New(apperr.Invalid, "invalid CVE id")
	ErrInvalidGHSAID = apperr.New(apperr.Invalid, "invalid GHSA id")
)

// ErrIDCollisions reports that MaxIDAttempts generated IDs all collided.
var ErrIDCollisions = errors.New("advisory id: every generated id collided")

// ParseID checks s against the canonical format
// ^ECL(-[23456789cfghjmpqrvwx]{4}){3}$.
//
// Parsing is exact: no trimming and no case folding. The ID is used
// verbatim in URLs, export paths and the typed publish confirmation, and the
// original's route pattern is case-sensitive, so "ecl-…" or an upper-case
// body would otherwise become a second spelling of the same advisory.
func ParseID(s string) (ID, error) {
	if !idPattern.MatchString(s) {
		return "", fmt.Errorf("%w: %q", ErrInvalidID, s)
	}
	return ID(s), nil
}

func (id ID) String() string { return string(id) }

// NewID generates a random ID, reading randomness from r (crypto/rand when
// r is nil). Characters are drawn by rejection sampling so that every
// alphabet letter is equally likely.
func NewID(r io.Reader) (ID, error) {
	if r == nil {
		r = rand.Reader
	}
	const n = 12 // three groups of four
	// 240 is the largest multiple of 20 that fits in a byte: bytes >= 240
	// are rejected so b%20 is uniform.
	const limit = 256 - 256%len(IDAlphabet)
	var chars [n]byte
	got := 0
	buf := make([]byte, 32)
	// Each byte is accepted with probability 240/256; bound the reads so a
	// broken reader fails instead of spinning.
	for reads := 0; got < n; reads++ {
		if reads == 16 {
			return "", errors.New("advisory id: random source yields no usable bytes")
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("advisory id: read random: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			chars[got] = IDAlphabet[int(b)%len(IDAlphabet)]
			if got++; got == n {
				break
			}
		}
	}
	var sb strings.Builder
	sb.WriteString("ECL")
	for i := 0; i < n; i += 4 {
		sb.WriteByte('-')
		sb.Write(chars[i : i+4])
	}
	return ID(sb.String()), nil
}

// InsertWithNewID generates an ID and calls insert with it, retrying with a
// fresh ID while isCollision reports that the failure was a uniqueness clash
// on the advisory id, at most MaxIDAttempts times (INV-IMPL-4). It returns
// the ID that was inserted. Any other error is returned as is; exhausting
// the attempts returns ErrIDCollisions.
//
// In a PostgreSQL transaction a unique violation aborts the transaction, so
// insert should use INSERT … ON CONFLICT (advisory_id) DO NOTHING (or a
// savepoint) and signal the clash with an error isCollision recognises.
func InsertWithNewID(r io.Reader, insert func(ID) error, isCollision func(error) bool) (ID, error) {
	for range MaxIDAttempts {
		id, err := NewID(r)
		if err != nil {
			return "", err
		}
		err = insert(id)
		if err == nil {
			return id, nil
		}
		if !isCollision(err) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w (%d attempts)", ErrIDCollisions, MaxIDAttempts)
}

// CVEID is a CVE identifier such as CVE-2026-12345.
type CVEID string

// cvePattern is INV-ID-3, kept in lockstep with the CVE 5.x record schema's
// cveId pattern (which uses [0-9], i.e. ASCII digits only).
var cvePattern = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)

// ParseCVEID checks s against ^CVE-\d{4}-\d{4,19}$ (ASCII digits, exact
// case, no trimming).
func ParseCVEID(s string) (CVEID, error) {
	if !cvePattern.MatchString(s) {
		return "", fmt.Errorf("%w: %q", ErrInvalidCVEID, s)
	}
	return CVEID(s), nil
}

func (c CVEID) String() string { return string(c) }

// GHSAID is a GitHub Security Advisory identifier such as
// GHSA-xxxx-xxxx-xxxx.
type GHSAID string

var ghsaPattern = regexp.MustCompile(`(?i)^GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$`)

// ParseGHSAID checks s against (?i)^GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$
// (INV-ID-2) and returns it in GitHub's canonical spelling: upper-case
// prefix, lower-case body. Matching is case-insensitive as in the original;
// canonicalising keeps the unique index on ghsa_id from admitting two
// spellings of one GHSA.
func ParseGHSAID(s string) (GHSAID, error) {
	if !ghsaPattern.MatchString(s) {
		return "", fmt.Errorf("%w: %q", ErrInvalidGHSAID, s)
	}
	return GHSAID("GHSA-" + strings.ToLower(s[len("GHSA-"):])), nil
}

func (g GHSAID) String() string { return string(g) }
