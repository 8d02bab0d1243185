// Package config loads the one Config struct from environment variables.
// Only Load reads the environment; tests pass a map. Every problem is
// reported at once.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of every function and the local shim.
type Config struct {
	// Env is "production" or "development". Development relaxes checks that
	// only make sense behind TLS (cookie prefixes, HSTS).
	Env  string
	Port int // outside Lambda, the HTTP functions listen on $PORT

	Log   Log
	DB    DB
	Queue Queue
	Jobs  Jobs
	AWS   AWS
}

// Log configures slog.
type Log struct {
	Format string // "json" or "plain"
	Level  slog.Level
}

// DB configures the PostgreSQL pool.
type DB struct {
	// URL is the DATABASE_URL. Empty means "no database configured": the
	// local shim and the tests then start a private cluster.
	URL      Secret
	MaxConns int32
}

// Queue selects the job transport.
type Queue struct {
	Backend string // "memory" or "sqs"
	// URLs maps each logical queue (publish, notify, similarity) to its SQS URL.
	URLs map[string]string
	// Prefix names the queues the local shim creates when QUEUE_BACKEND=sqs
	// and no URLs are given (against LocalStack or moto).
	Prefix string
}

// Jobs tunes the job machinery.
type Jobs struct {
	// MaxAttempts bounds deliveries of one message on the in-memory
	// transport before it is recorded as failed (SQS uses its redrive policy).
	MaxAttempts int
	// OutboxSweepAge is how old an unsent outbox row must be before the
	// sweep re-sends it; younger rows belong to a dispatcher still at work.
	OutboxSweepAge time.Duration
	// OutboxSweepEvery is the sweep cadence of the local shim's ticker (the
	// cloud schedule is declared in template.yaml).
	OutboxSweepEvery time.Duration
}

// AWS holds the SDK settings we pass explicitly.
type AWS struct {
	Region   string
	Endpoint string // AWS_ENDPOINT_URL, for LocalStack / moto
}

// Secrets lists every secret field, for boot to resolve ARNs in place.
// Add new secret fields here.
func (c *Config) Secrets() map[string]*Secret {
	return map[string]*Secret{
		"DATABASE_URL": &c.DB.URL,
	}
}

// Production reports whether Env is production.
func (c Config) Production() bool { return c.Env == "production" }

// Secret is a configuration value that must never be printed. It holds
// either the value itself or a reference (an AWS Secrets Manager or SSM
// Parameter Store ARN) that boot resolves at cold start.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Value returns the secret (or, before resolution, the reference).
func (s Secret) Value() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// IsRef reports whether the value is an ARN to be resolved.
func (s Secret) IsRef() bool {
	return strings.HasPrefix(s.v, "arn:aws:secretsmanager:") || strings.HasPrefix(s.v, "arn:aws:ssm:") ||
		strings.HasPrefix(s.v, "arn:aws-us-gov:secretsmanager:") || strings.HasPrefix(s.v, "arn:aws-us-gov:ssm:")
}

// String never reveals the value.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[secret]"
}

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "config.Secret{" + s.String() + "}" }

// Load reads the configuration through lookup (os.LookupEnv in mains).
func Load(lookup func(string) (string, bool)) (Config, error) {
	l := loader{lookup: lookup}
	var c Config
	c.Env = l.oneOf("ADVISORYHUB_ENV", "production", "production", "development")
	c.Port = l.int("PORT", 8080, 1, 65535)

	c.Log.Format = l.oneOf("LOG_FORMAT", "json", "json", "plain")
	c.Log.Level = l.level("LOG_LEVEL", slog.LevelInfo)

	c.DB.URL = NewSecret(l.str("DATABASE_URL", ""))
	if u := c.DB.URL.Value(); u != "" && !c.DB.URL.IsRef() {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql") {
			// The value itself may hold a password: never echo it.
			l.errs = append(l.errs, errors.New("DATABASE_URL: must be a postgres:// URL or a Secrets Manager/SSM ARN"))
		}
	}
	c.DB.MaxConns = int32(l.int("DB_MAX_CONNS", 4, 1, 100))

	c.Queue.Backend = l.oneOf("QUEUE_BACKEND", "memory", "memory", "sqs")
	c.Queue.Prefix = l.str("QUEUE_PREFIX", "advisoryhub")
	c.Queue.URLs = map[string]string{}
	for _, name := range []string{"publish", "notify", "similarity"} {
		key := "QUEUE_URL_" + strings.ToUpper(name)
		if v := l.str(key, ""); v != "" {
			if _, err := url.ParseRequestURI(v); err != nil {
				l.errs = append(l.errs, fmt.Errorf("%s: not a URL", key))
			}
			c.Queue.URLs[name] = v
		}
	}

	c.Jobs.MaxAttempts = l.int("JOB_MAX_ATTEMPTS", 5, 1, 100)
	c.Jobs.OutboxSweepAge = l.duration("OUTBOX_SWEEP_AGE", 30*time.Second)
	c.Jobs.OutboxSweepEvery = l.duration("OUTBOX_SWEEP_EVERY", time.Minute)

	c.AWS.Region = l.str("AWS_REGION", l.str("AWS_DEFAULT_REGION", "us-east-1"))
	c.AWS.Endpoint = l.str("AWS_ENDPOINT_URL", "")
	if c.AWS.Endpoint != "" {
		if _, err := url.ParseRequestURI(c.AWS.Endpoint); err != nil {
			l.errs = append(l.errs, errors.New("AWS_ENDPOINT_URL: not a URL"))
		}
	}
	return c, errors.Join(l.errs...)
}

type loader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (l *loader) str(key, def string) string {
	if v, ok := l.lookup(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (l *loader) oneOf(key, def string, allowed ...string) string {
	v := strings.ToLower(l.str(key, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.errs = append(l.errs, fmt.Errorf("%s: %q is not one of %s", key, v, strings.Join(allowed, ", ")))
	return def
}

func (l *loader) int(key string, def, lo, hi int) int {
	s := l.str(key, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		l.errs = append(l.errs, fmt.Errorf("%s: %q is not a whole number from %d to %d", key, s, lo, hi))
		return def
	}
	return n
}

// Bool reads true/false/1/0/yes/no/on/off.
func (l *loader) bool(key string, def bool) bool {
	s := strings.ToLower(l.str(key, ""))
	switch s {
	case "":
		return def
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	l.errs = append(l.errs, fmt.Errorf("%s: %q is not a boolean (true/false)", key, s))
	return def
}

// duration accepts Go durations ("90s", "5m") or a bare number of seconds.
func (l *loader) duration(key string, def time.Duration) time.Duration {
	s := l.str(key, "")
	if s == "" {
		return def
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		l.errs = append(l.errs, fmt.Errorf("%s: %q is not a positive duration (e.g. 30s, 5m, or seconds)", key, s))
		return def
	}
	return d
}

func (l *loader) level(key string, def slog.Level) slog.Level {
	s := l.str(key, "")
	if s == "" {
		return def
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: %q is not one of DEBUG, INFO, WARN, ERROR", key, s))
		return def
	}
	return lv
}
