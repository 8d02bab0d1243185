// Package config loads the one Config struct from environment variables.
// Only Load reads the environment; tests pass a map. Every problem is
// reported at once.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"regexp"
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

	// Lambda reports whether the process runs under the AWS Lambda runtime
	// (AWS_LAMBDA_RUNTIME_API is set): metrics then go out as CloudWatch
	// embedded-metric-format log lines instead of a /metrics endpoint.
	Lambda bool

	Log    Log
	DB     DB
	Queue  Queue
	Jobs   Jobs
	AWS    AWS
	GitHub GitHub
	OIDC   OIDC
	Web    Web
	Audit  Audit

	RateLimit RateLimit
	Intake    Intake

	Publication Publication

	Email Email
}

// Email configures outgoing mail (operations §6.1, EMAIL_*): the
// invitation emails of the notify worker.
type Email struct {
	// Backend (EMAIL_BACKEND) is "smtp" (the default) or "log" ("console"
	// is an alias): the log backend writes each message to the log instead
	// of sending it, for local development.
	Backend string
	Host    string // EMAIL_HOST
	Port    int    // EMAIL_PORT
	User    string // EMAIL_HOST_USER; empty: no SMTP AUTH
	// Password (EMAIL_HOST_PASSWORD, value or ARN) is never logged.
	Password Secret
	// UseTLS (EMAIL_USE_TLS) upgrades the connection with STARTTLS;
	// UseSSL (EMAIL_USE_SSL) speaks TLS from the first byte. Exclusive.
	UseTLS bool
	UseSSL bool
	// Timeout (EMAIL_TIMEOUT, seconds) bounds every SMTP operation.
	Timeout time.Duration
	// From (DEFAULT_FROM_EMAIL) is the sender, e.g.
	// "AdvisoryHub <noreply@example.org>".
	From string
}

// Publication configures the publication repository and the publication
// task reaper (operations §6.1, PUB_*). Exactly one auth mode is used
// (INV-PUB-2): Auth "token" takes Token only, "ssh" takes SSHKey or
// SSHKeyPath only.
type Publication struct {
	RepoURL     string // PUB_REPO_URL; empty: publishing fails at the git step
	Branch      string // PUB_REPO_BRANCH
	Auth        string // PUB_REPO_AUTH: "ssh" or "token"
	Token       Secret // PUB_REPO_TOKEN (value or ARN)
	SSHKey      Secret // PUB_REPO_SSH_KEY: the PEM key itself (value or ARN)
	SSHKeyPath  string // PUB_REPO_SSH_KEY_PATH: a file holding the PEM key
	AuthorName  string // PUB_COMMIT_AUTHOR_NAME
	AuthorEmail string // PUB_COMMIT_AUTHOR_EMAIL

	OSVPathTemplate  string // PUB_OSV_PATH_TEMPLATE
	CSAFPathTemplate string // PUB_CSAF_PATH_TEMPLATE
	CVEPathTemplate  string // PUB_CVE_PATH_TEMPLATE

	CVEAssignerOrgID     string // PUB_CVE_ASSIGNER_ORG_ID (v4 UUID)
	CVEAssignerShortName string // PUB_CVE_ASSIGNER_SHORT_NAME

	// CSAFProviderURL (PUB_CSAF_PROVIDER_URL) is the https URL at which the
	// repository's CSAF directory is served; set, every publication also
	// maintains the CSAF 2.0 §7 trusted-provider files there.
	CSAFProviderURL string
	// CSAFSigningKey (PUB_CSAF_SIGNING_KEY, armored OpenPGP private key,
	// value or ARN) and its passphrase (PUB_CSAF_SIGNING_KEY_PASSPHRASE)
	// sign every CSAF document.
	CSAFSigningKey           Secret
	CSAFSigningKeyPassphrase Secret

	// StaleRunning (PUB_TASK_STALE_RUNNING_AFTER_SECONDS) must exceed the
	// worker's hard limit; StaleQueued (PUB_TASK_STALE_QUEUED_AFTER_SECONDS)
	// the queue's redelivery window.
	StaleRunning time.Duration
	StaleQueued  time.Duration
}

// RateLimit configures the PostgreSQL fixed-window rate limiter
// (INV-RATELIMIT-1, permissions §12).
type RateLimit struct {
	// Enabled (RATELIMIT_ENABLE) is the master switch; off, every check
	// passes without touching the database.
	Enabled bool
	// IntakeAnon (RATELIMIT_INTAKE_ANON, "5/h") bounds anonymous reports
	// per client IP; IntakeUser (RATELIMIT_INTAKE_USER, "20/h") signed-in
	// reports per user.
	IntakeAnon Rate
	IntakeUser Rate
}

// Rate is a limit of Limit hits per Period, written "N/unit" or
// "N/Kunit" with unit s, m, h or d ("5/h", "30/m", "100/15m").
type Rate struct {
	Limit  int
	Period time.Duration
}

// ParseRate reads a Rate.
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 1 || per == "" {
		return Rate{}, fmt.Errorf("rate limit %q: want N/unit, e.g. 5/h", s)
	}
	mult := 1
	if i := strings.IndexFunc(per, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
		if mult, err = strconv.Atoi(per[:i]); err != nil || mult < 1 {
			return Rate{}, fmt.Errorf("rate limit %q: bad period", s)
		}
		per = per[i:]
	}
	for _, u := range rateUnits {
		if per == u.s {
			return Rate{Limit: limit, Period: time.Duration(mult) * u.d}, nil
		}
	}
	return Rate{}, fmt.Errorf("rate limit %q: unit must be s, m, h or d", s)
}

// String renders r as ParseRate reads it, e.g. "5/h".
func (r Rate) String() string {
	for _, u := range rateUnits {
		if r.Period == u.d {
			return strconv.Itoa(r.Limit) + "/" + u.s
		}
	}
	return strconv.Itoa(r.Limit) + "/" + r.Period.String()
}

var rateUnits = []struct {
	s string
	d time.Duration
}{{"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}

// Intake configures the public report service (/report/).
type Intake struct {
	// Disabled (INTAKE_DISABLED) is the kill switch: the form answers 503.
	Disabled bool
	// ALTCHAKey (ALTCHA_HMAC_KEY, value or ARN) signs the proof-of-work
	// challenges anonymous reporters solve; empty switches the check off.
	ALTCHAKey Secret
	// ReportRetentionDays (INTAKE_REPORT_RETENTION_DAYS) is the horizon
	// after which the intake-retention command scrubs the intake PII
	// (reporter IP, User-Agent, display name) and honeypot rows
	// (data-model §16).
	ReportRetentionDays int
}

// Audit configures the audit trail's retention (data-model §14.2).
type Audit struct {
	// AccessLogRetentionDays (AUDIT_ACCESS_LOG_RETENTION_DAYS, > 0): monthly
	// access-log partitions whose every row is older are dropped.
	AccessLogRetentionDays int
	// AccessLogRetentionEnabled (AUDIT_ACCESS_LOG_RETENTION_ENABLED) gates
	// the daily access-log-partition-maintenance job.
	AccessLogRetentionEnabled bool
}

// OIDC configures sign-in through an OpenID Connect provider (the web
// function). The provider is found by discovery from IssuerURL.
type OIDC struct {
	IssuerURL    string // OIDC_ISSUER_URL; empty: sign-in is unavailable
	ClientID     string // OIDC_RP_CLIENT_ID
	ClientSecret Secret // OIDC_RP_CLIENT_SECRET (value or ARN)
	// LogoutURL (OIDC_OP_LOGOUT_ENDPOINT) overrides the discovery
	// document's end_session_endpoint for RP-initiated logout.
	LogoutURL string
	UsePKCE   bool // OIDC_USE_PKCE (S256)
	// GroupClaim is the ID-token/userinfo claim holding the user's groups.
	GroupClaim string
	// AdminGroup is the group whose members are global admins.
	AdminGroup string
	// RequireEmailVerified: an absent email_verified claim is treated as
	// unverified (INV-OIDC-6). An explicit false is always rejected.
	RequireEmailVerified bool
	// StepUpRequired turns the step-up re-authentication on (permissions §8).
	StepUpRequired bool
	// StepUpMaxAge is how fresh a step-up must be (STEP_UP_MAX_AGE_SECONDS).
	StepUpMaxAge time.Duration
}

// Web configures the web function's HTTP platform.
type Web struct {
	// BaseURL (ADVISORYHUB_BASE_URL) is the public origin, e.g.
	// https://advisories.example.org: the OIDC redirect URI and absolute
	// links are built from it.
	BaseURL string
	// SessionSecret signs the CSRF tokens. Required in production.
	SessionSecret Secret
	// SessionIdleTimeout ends a session unused for this long;
	// SessionMaxAge ends any session this long after sign-in.
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	// AllowedHosts (ALLOWED_HOSTS, comma-separated; "*" = any) are the Host
	// header values served.
	AllowedHosts []string
	// TrustedOrigins (CSRF_TRUSTED_ORIGINS) may send cross-origin unsafe
	// requests, e.g. https://admin.example.org.
	TrustedOrigins []string
	// TrustForwardedProto (USE_X_FORWARDED_PROTO) believes the edge's
	// X-Forwarded-Proto header.
	TrustForwardedProto bool
	// TrustedProxyCount is how many X-Forwarded-For hops to trust when
	// finding the client address.
	TrustedProxyCount int
	CSPReportOnly     bool
	CSPReportURI      string
	// DevIdP mounts the development OIDC provider at /dev/idp/ (local shim
	// only; refused in production).
	DevIdP bool
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

// GitHub configures the GitHub App integration.
type GitHub struct {
	// WebhookSecret (GITHUB_APP_WEBHOOK_SECRET) signs webhook deliveries;
	// empty: every delivery is rejected.
	WebhookSecret Secret
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
		"DATABASE_URL":                    &c.DB.URL,
		"OIDC_RP_CLIENT_SECRET":           &c.OIDC.ClientSecret,
		"SESSION_SECRET":                  &c.Web.SessionSecret,
		"GITHUB_APP_WEBHOOK_SECRET":       &c.GitHub.WebhookSecret,
		"ALTCHA_HMAC_KEY":                 &c.Intake.ALTCHAKey,
		"PUB_REPO_TOKEN":                  &c.Publication.Token,
		"PUB_CSAF_SIGNING_KEY":            &c.Publication.CSAFSigningKey,
		"PUB_CSAF_SIGNING_KEY_PASSPHRASE": &c.Publication.CSAFSigningKeyPassphrase,
		"PUB_REPO_SSH_KEY":                &c.Publication.SSHKey,
		"EMAIL_HOST_PASSWORD":             &c.Email.Password,
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
	c.GitHub.WebhookSecret = NewSecret(l.str("GITHUB_APP_WEBHOOK_SECRET", ""))
	_, c.Lambda = lookup("AWS_LAMBDA_RUNTIME_API")
	l.loadOIDC(&c)
	l.loadWeb(&c)
	c.Audit.AccessLogRetentionDays = l.int("AUDIT_ACCESS_LOG_RETENTION_DAYS", 90, 1, 36500)
	c.Audit.AccessLogRetentionEnabled = l.bool("AUDIT_ACCESS_LOG_RETENTION_ENABLED", true)
	c.RateLimit.Enabled = l.bool("RATELIMIT_ENABLE", true)
	c.RateLimit.IntakeAnon = l.rate("RATELIMIT_INTAKE_ANON", "5/h")
	c.RateLimit.IntakeUser = l.rate("RATELIMIT_INTAKE_USER", "20/h")
	c.Intake.Disabled = l.bool("INTAKE_DISABLED", false)
	c.Intake.ALTCHAKey = NewSecret(l.str("ALTCHA_HMAC_KEY", ""))
	c.Intake.ReportRetentionDays = l.int("INTAKE_REPORT_RETENTION_DAYS", 365, 1, 36500)
	l.loadPublication(&c)
	l.loadEmail(&c)
	return c, errors.Join(l.errs...)
}

// loadEmail reads EMAIL_* and DEFAULT_FROM_EMAIL. Errors never echo the
// password.
func (l *loader) loadEmail(c *Config) {
	e := &c.Email
	e.Backend = l.oneOf("EMAIL_BACKEND", "smtp", "smtp", "log", "console")
	if e.Backend == "console" {
		e.Backend = "log"
	}
	e.Host = l.str("EMAIL_HOST", "localhost")
	if strings.ContainsAny(e.Host, " /\r\n\t") {
		l.errs = append(l.errs, fmt.Errorf("EMAIL_HOST: %q is not a host name", e.Host))
	}
	e.Port = l.int("EMAIL_PORT", 25, 1, 65535)
	e.User = l.str("EMAIL_HOST_USER", "")
	e.Password = NewSecret(l.str("EMAIL_HOST_PASSWORD", ""))
	e.UseTLS = l.bool("EMAIL_USE_TLS", false)
	e.UseSSL = l.bool("EMAIL_USE_SSL", false)
	if e.UseTLS && e.UseSSL {
		l.errs = append(l.errs, errors.New("EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive (STARTTLS or implicit TLS)"))
	}
	e.Timeout = time.Duration(l.int("EMAIL_TIMEOUT", 30, 1, 3600)) * time.Second
	e.From = l.str("DEFAULT_FROM_EMAIL", "AdvisoryHub <noreply@example.org>")
	if a, err := mail.ParseAddress(e.From); err != nil || strings.ContainsAny(e.From, "\r\n") || a.Address == "" {
		l.errs = append(l.errs, fmt.Errorf("DEFAULT_FROM_EMAIL: %q is not an address (e.g. AdvisoryHub <noreply@example.org>)", e.From))
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$`)

// loadPublication reads PUB_*. Errors never echo a secret's value.
func (l *loader) loadPublication(c *Config) {
	p := &c.Publication
	p.RepoURL = l.str("PUB_REPO_URL", "")
	p.Branch = l.str("PUB_REPO_BRANCH", "main")
	p.Auth = l.oneOf("PUB_REPO_AUTH", "ssh", "ssh", "token")
	p.Token = NewSecret(l.str("PUB_REPO_TOKEN", ""))
	p.SSHKey = NewSecret(l.str("PUB_REPO_SSH_KEY", ""))
	p.SSHKeyPath = l.str("PUB_REPO_SSH_KEY_PATH", "")
	p.AuthorName = l.str("PUB_COMMIT_AUTHOR_NAME", "AdvisoryHub Bot")
	p.AuthorEmail = l.str("PUB_COMMIT_AUTHOR_EMAIL", "advisoryhub-bot@example.org")
	p.OSVPathTemplate = l.str("PUB_OSV_PATH_TEMPLATE", "osv/{year}/{advisory_id}.json")
	p.CSAFPathTemplate = l.str("PUB_CSAF_PATH_TEMPLATE", "csaf/{year}/{advisory_id}.json")
	p.CVEPathTemplate = l.str("PUB_CVE_PATH_TEMPLATE", "cves/{year}/{bucket}/{cve_id}.json")
	p.CVEAssignerOrgID = l.str("PUB_CVE_ASSIGNER_ORG_ID", "")
	if p.CVEAssignerOrgID != "" && !uuidV4.MatchString(p.CVEAssignerOrgID) {
		l.errs = append(l.errs, fmt.Errorf("PUB_CVE_ASSIGNER_ORG_ID: %q is not a v4 UUID", p.CVEAssignerOrgID))
	}
	p.CVEAssignerShortName = l.str("PUB_CVE_ASSIGNER_SHORT_NAME", "eclipse")
	p.CSAFProviderURL = l.str("PUB_CSAF_PROVIDER_URL", "")
	if u := p.CSAFProviderURL; u != "" && !strings.HasPrefix(u, "https://") {
		l.errs = append(l.errs, fmt.Errorf("PUB_CSAF_PROVIDER_URL: %q must be an https:// URL (CSAF 2.0 §7.1)", u))
	}
	p.CSAFSigningKey = NewSecret(l.str("PUB_CSAF_SIGNING_KEY", ""))
	p.CSAFSigningKeyPassphrase = NewSecret(l.str("PUB_CSAF_SIGNING_KEY_PASSPHRASE", ""))
	// Publication's hard limit is 660 s (operations §8): the running
	// threshold must exceed it.
	p.StaleRunning = time.Duration(l.int("PUB_TASK_STALE_RUNNING_AFTER_SECONDS", 1800, 661, 86400)) * time.Second
	p.StaleQueued = time.Duration(l.int("PUB_TASK_STALE_QUEUED_AFTER_SECONDS", 7200, 60, 7*86400)) * time.Second

	// INV-PUB-2: the two auth modes are exclusive. Checked only when a
	// repository is configured: without one nothing is used (a deployment
	// may provide the token's ARN before the URL).
	hasKey := !p.SSHKey.IsZero() || p.SSHKeyPath != ""
	if p.RepoURL == "" {
		return
	}
	switch p.Auth {
	case "token":
		if hasKey {
			l.errs = append(l.errs, errors.New("PUB_REPO_AUTH=token: PUB_REPO_SSH_KEY and PUB_REPO_SSH_KEY_PATH must be unset"))
		}
		if p.Token.IsZero() && !strings.HasPrefix(p.RepoURL, "file://") {
			l.errs = append(l.errs, errors.New("PUB_REPO_AUTH=token: PUB_REPO_TOKEN is required"))
		}
	case "ssh":
		if !p.Token.IsZero() {
			l.errs = append(l.errs, errors.New("PUB_REPO_AUTH=ssh: PUB_REPO_TOKEN must be unset"))
		}
		if !p.SSHKey.IsZero() && p.SSHKeyPath != "" {
			l.errs = append(l.errs, errors.New("PUB_REPO_SSH_KEY and PUB_REPO_SSH_KEY_PATH are exclusive"))
		}
		if !hasKey && !strings.HasPrefix(p.RepoURL, "file://") {
			l.errs = append(l.errs, errors.New("PUB_REPO_AUTH=ssh: PUB_REPO_SSH_KEY or PUB_REPO_SSH_KEY_PATH is required"))
		}
	}
}

// rate reads a Rate ("N/unit").
func (l *loader) rate(key, def string) Rate {
	r, err := ParseRate(l.str(key, def))
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: %w", key, err))
		r, _ = ParseRate(def)
	}
	return r
}

func (l *loader) loadOIDC(c *Config) {
	o := &c.OIDC
	o.IssuerURL = strings.TrimRight(l.url("OIDC_ISSUER_URL"), "/")
	o.ClientID = l.str("OIDC_RP_CLIENT_ID", "")
	o.ClientSecret = NewSecret(l.str("OIDC_RP_CLIENT_SECRET", ""))
	o.LogoutURL = l.url("OIDC_OP_LOGOUT_ENDPOINT")
	o.UsePKCE = l.bool("OIDC_USE_PKCE", true)
	o.GroupClaim = l.str("OIDC_GROUP_CLAIM", "groups")
	o.AdminGroup = l.str("OIDC_ADMIN_GROUP", "advisoryhub-security")
	o.RequireEmailVerified = l.bool("OIDC_REQUIRE_EMAIL_VERIFIED", false)
	o.StepUpRequired = l.bool("STEP_UP_REQUIRED", true)
	o.StepUpMaxAge = time.Duration(l.int("STEP_UP_MAX_AGE_SECONDS", 300, 1, 86400)) * time.Second
}

func (l *loader) loadWeb(c *Config) {
	w := &c.Web
	w.BaseURL = strings.TrimRight(l.url("ADVISORYHUB_BASE_URL"), "/")
	w.SessionSecret = NewSecret(l.str("SESSION_SECRET", ""))
	w.SessionIdleTimeout = l.duration("SESSION_IDLE_TIMEOUT", 12*time.Hour)
	w.SessionMaxAge = l.duration("SESSION_MAX_AGE", 14*24*time.Hour)
	w.AllowedHosts = l.list("ALLOWED_HOSTS", "*")
	w.TrustedOrigins = l.list("CSRF_TRUSTED_ORIGINS", "")
	for _, o := range w.TrustedOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			l.errs = append(l.errs, fmt.Errorf("CSRF_TRUSTED_ORIGINS: %q is not an origin (scheme://host[:port])", o))
		}
	}
	w.TrustForwardedProto = l.bool("USE_X_FORWARDED_PROTO", false)
	w.TrustedProxyCount = l.int("TRUSTED_PROXY_COUNT", 0, 0, 10)
	w.CSPReportOnly = l.bool("CSP_REPORT_ONLY", false)
	w.CSPReportURI = l.str("CSP_REPORT_URI", "")
	w.DevIdP = l.bool("DEV_IDP_ENABLED", false)
	if w.DevIdP && c.Production() {
		l.errs = append(l.errs, errors.New("DEV_IDP_ENABLED: the development identity provider is refused when ADVISORYHUB_ENV=production"))
	}
}

// url reads an optional absolute http(s) URL.
func (l *loader) url(key string) string {
	v := l.str(key, "")
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.errs = append(l.errs, fmt.Errorf("%s: %q is not an absolute http(s) URL", key, v))
		return ""
	}
	return v
}

// list reads a comma-separated list, dropping empty items.
func (l *loader) list(key, def string) []string {
	var out []string
	for _, item := range strings.Split(l.str(key, def), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
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
