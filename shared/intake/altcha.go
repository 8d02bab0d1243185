package intake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// ALTCHA proof of work, server side (requirements §4.3: optional, on when
// ALTCHA_HMAC_KEY is set; anonymous reporters only). The algorithm is the
// one the ALTCHA widget (v1/v2 challenge format) solves:
//
//	salt      = hex(12 random bytes) + "?expires=<unix seconds>&"
//	number    = a random integer in [0, maxnumber]
//	challenge = hex(SHA-256(salt + decimal(number)))
//	signature = hex(HMAC-SHA-256(key, challenge))
//
// The widget searches 0..maxnumber for the number whose hash is the
// challenge and submits base64(JSON{algorithm, challenge, number, salt,
// signature, took}). The server recomputes challenge and signature from the
// submitted salt and number: a match proves the work and that the salt
// (with its expiry) came from us. Replay is stopped by the store remembering
// each accepted challenge until it expires (ReplayKey).

// ALTCHAAlgorithm is the only hash algorithm accepted.
const ALTCHAAlgorithm = "SHA-256"

// Challenge defaults.
const (
	DefaultMaxNumber    = 100000
	DefaultChallengeTTL = 20 * time.Minute
	saltBytes           = 12
)

// Challenge is what the widget fetches (challengeurl) and solves.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// ChallengeOptions configures NewChallenge.
type ChallengeOptions struct {
	Key       []byte        // ALTCHA_HMAC_KEY; required
	MaxNumber int64         // 0: DefaultMaxNumber
	TTL       time.Duration // 0: DefaultChallengeTTL
	Now       time.Time
	Rand      io.Reader // nil: crypto/rand
	// Number fixes the secret number (tests); nil draws one.
	Number *int64
}

// ErrNoKey: the ALTCHA check is configured without a key.
var ErrNoKey = errors.New("altcha: HMAC key is required")

// NewChallenge creates a signed challenge that expires after opts.TTL.
func NewChallenge(opts ChallengeOptions) (Challenge, error) {
	if len(opts.Key) == 0 {
		return Challenge{}, ErrNoKey
	}
	if opts.MaxNumber <= 0 {
		opts.MaxNumber = DefaultMaxNumber
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultChallengeTTL
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, saltBytes)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return Challenge{}, fmt.Errorf("altcha salt: %w", err)
	}
	params := url.Values{}
	params.Set("expires", strconv.FormatInt(opts.Now.Add(opts.TTL).Unix(), 10))
	// The trailing "&" ends the parameters, so a solver cannot splice
	// digits of the number onto the expiry.
	salt := hex.EncodeToString(b) + "?" + params.Encode() + "&"
	var n int64
	if opts.Number != nil {
		n = *opts.Number
	} else {
		r, err := rand.Int(rnd, big.NewInt(opts.MaxNumber+1))
		if err != nil {
			return Challenge{}, fmt.Errorf("altcha number: %w", err)
		}
		n = r.Int64()
	}
	ch := challengeHash(salt, n)
	return Challenge{
		Algorithm: ALTCHAAlgorithm,
		Challenge: ch,
		MaxNumber: opts.MaxNumber,
		Salt:      salt,
		Signature: sign(opts.Key, ch),
	}, nil
}

func challengeHash(salt string, number int64) string {
	sum := sha256.Sum256([]byte(salt + strconv.FormatInt(number, 10)))
	return hex.EncodeToString(sum[:])
}

func sign(key []byte, challenge string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}

// Solution is the widget's submitted payload, decoded.
type Solution struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	Number    int64  `json:"number"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
	Took      int64  `json:"took,omitempty"`
}

// ErrALTCHA is the one error every failed verification wraps (a missing,
// malformed, forged, wrong or expired solution, or a replay), so the form
// answers them all the same way.
var ErrALTCHA = apperr.New(apperr.Invalid, "the anti-robot check failed; please try again")

// Reasons a verification fails (for logs and tests; callers test ErrALTCHA).
var (
	errMissing   = fmt.Errorf("%w: missing", ErrALTCHA)
	errMalformed = fmt.Errorf("%w: malformed payload", ErrALTCHA)
	errAlgorithm = fmt.Errorf("%w: unsupported algorithm", ErrALTCHA)
	errNoExpiry  = fmt.Errorf("%w: challenge without expiry", ErrALTCHA)
	ErrExpired   = fmt.Errorf("%w: challenge expired", ErrALTCHA)
	ErrForged    = fmt.Errorf("%w: wrong solution or signature", ErrALTCHA)
	// ErrReplayed is returned by the use case when the store has already
	// seen the challenge.
	ErrReplayed = fmt.Errorf("%w: solution already used", ErrALTCHA)
)

// maxPayload bounds the submitted field before decoding.
const maxPayload = 4096

// VerifySolution checks a widget payload against key at now and returns
// the decoded solution and its expiry. It checks, in constant time where
// secrets are compared: the algorithm, the expiry carried in the salt (a
// salt without one is refused: every challenge we issue has one, and the
// replay guard needs it), and that challenge and signature are what we
// would have issued for this salt and number.
func VerifySolution(payload string, key []byte, now time.Time) (Solution, time.Time, error) {
	if len(key) == 0 {
		return Solution{}, time.Time{}, ErrNoKey
	}
	payload = strings.TrimSpace(payload)
	if payload == "" {
		return Solution{}, time.Time{}, errMissing
	}
	if len(payload) > maxPayload {
		return Solution{}, time.Time{}, errMalformed
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return Solution{}, time.Time{}, errMalformed
	}
	var s Solution
	if err := json.Unmarshal(raw, &s); err != nil {
		return Solution{}, time.Time{}, errMalformed
	}
	if s.Algorithm != ALTCHAAlgorithm {
		return Solution{}, time.Time{}, errAlgorithm
	}
	if s.Number < 0 || len(s.Challenge) != sha256.Size*2 || len(s.Signature) != sha256.Size*2 {
		return Solution{}, time.Time{}, errMalformed
	}
	expires, ok := saltExpiry(s.Salt)
	if !ok {
		return Solution{}, time.Time{}, errNoExpiry
	}
	if !now.Before(expires) {
		return Solution{}, time.Time{}, ErrExpired
	}
	wantChallenge := challengeHash(s.Salt, s.Number)
	wantSig := sign(key, wantChallenge)
	okCh := subtle.ConstantTimeCompare([]byte(wantChallenge), []byte(strings.ToLower(s.Challenge))) == 1
	okSig := subtle.ConstantTimeCompare([]byte(wantSig), []byte(strings.ToLower(s.Signature))) == 1
	if !okCh || !okSig {
		return Solution{}, time.Time{}, ErrForged
	}
	return s, expires, nil
}

// saltExpiry reads the expires parameter of a salt "<hex>?expires=N&".
func saltExpiry(salt string) (time.Time, bool) {
	_, query, ok := strings.Cut(salt, "?")
	if !ok {
		return time.Time{}, false
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(params.Get("expires"), 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// ReplayKey is what the replay guard stores for an accepted solution: the
// SHA-256 of its challenge. A challenge is a hash over a random salt, so
// each issued challenge has one key, whatever number or casing is sent.
func ReplayKey(s Solution) []byte {
	sum := sha256.Sum256([]byte(strings.ToLower(s.Challenge)))
	return sum[:]
}

// Solve finds the number of a challenge, as the widget does (tests and the
// local shim's smoke checks). It returns false when none in 0..maxnumber
// fits.
func Solve(c Challenge) (int64, bool) {
	for n := int64(0); n <= c.MaxNumber; n++ {
		if challengeHash(c.Salt, n) == c.Challenge {
			return n, true
		}
	}
	return 0, false
}

// EncodeSolution builds the payload the widget would submit for c solved
// with number.
func EncodeSolution(c Challenge, number int64) string {
	b, _ := json.Marshal(Solution{Algorithm: c.Algorithm, Challenge: c.Challenge, Number: number,
		Salt: c.Salt, Signature: c.Signature, Took: 1})
	return base64.StdEncoding.EncodeToString(b)
}
