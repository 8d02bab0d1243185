package config

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Env: "production", Port: 8080,
		Log:   Log{Format: "json", Level: slog.LevelInfo},
		DB:    DB{MaxConns: 4},
		Queue: Queue{Backend: "memory", URLs: map[string]string{}, Prefix: "advisoryhub"},
		Jobs:  Jobs{MaxAttempts: 5, OutboxSweepAge: 30 * time.Second, OutboxSweepEvery: time.Minute},
		AWS:   AWS{Region: "us-east-1"},
		OIDC: OIDC{UsePKCE: true, GroupClaim: "groups", AdminGroup: "advisoryhub-security",
			StepUpRequired: true, StepUpMaxAge: 300 * time.Second},
		Web:   Web{SessionIdleTimeout: 12 * time.Hour, SessionMaxAge: 14 * 24 * time.Hour, AllowedHosts: []string{"*"}},
		Audit: Audit{AccessLogRetentionDays: 90, AccessLogRetentionEnabled: true},
		RateLimit: RateLimit{Enabled: true, IntakeAnon: Rate{Limit: 5, Period: time.Hour},
			IntakeUser: Rate{Limit: 20, Period: time.Hour}},
		Intake: Intake{ReportRetentionDays: 365},
		Publication: Publication{Branch: "main", Auth: "ssh", AuthorName: "AdvisoryHub Bot",
			AuthorEmail: "advisoryhub-bot@example.org", OSVPathTemplate: "osv/{year}/{advisory_id}.json",
			CSAFPathTemplate: "csaf/{year}/{advisory_id}.json", CVEPathTemplate: "cves/{year}/{bucket}/{cve_id}.json",
			CVEAssignerShortName: "eclipse", StaleRunning: 1800 * time.Second, StaleQueued: 7200 * time.Second},
		Email: Email{Backend: "smtp", Host: "localhost", Port: 25, Timeout: 30 * time.Second,
			From: "AdvisoryHub <noreply@example.org>"},
	}
	if diff := cmp.Diff(want, c, cmp.AllowUnexported(Secret{})); diff != "" {
		t.Fatalf("defaults (-want +got):\n%s", diff)
	}
}

func TestValues(t *testing.T) {
	c, err := Load(lookup(map[string]string{
		"ADVISORYHUB_ENV": "Development", "PORT": "9000", "LOG_FORMAT": "plain", "LOG_LEVEL": "debug",
		"DATABASE_URL": "postgres://u:p@db:5432/ah", "DB_MAX_CONNS": "2",
		"QUEUE_BACKEND": "sqs", "QUEUE_URL_PUBLISH": "https://sqs.eu-west-1.amazonaws.com/1/pub",
		"JOB_MAX_ATTEMPTS": "7", "OUTBOX_SWEEP_AGE": "45", "OUTBOX_SWEEP_EVERY": "2m",
		"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Production() || c.Port != 9000 || c.Log.Level != slog.LevelDebug || c.DB.MaxConns != 2 ||
		c.Queue.Backend != "sqs" || c.Queue.URLs["publish"] == "" || c.Jobs.MaxAttempts != 7 ||
		c.Jobs.OutboxSweepAge != 45*time.Second || c.Jobs.OutboxSweepEvery != 2*time.Minute ||
		c.AWS.Region != "eu-west-1" || c.AWS.Endpoint != "http://127.0.0.1:5000" {
		t.Fatalf("values not loaded: %+v", c)
	}
	if c.DB.URL.Value() != "postgres://u:p@db:5432/ah" {
		t.Fatal("DATABASE_URL not kept")
	}
}

// Every problem is reported at once, each naming its variable.
func TestAllProblemsAtOnce(t *testing.T) {
	_, err := Load(lookup(map[string]string{
		"ADVISORYHUB_ENV": "staging", "PORT": "99999", "LOG_LEVEL": "loud", "QUEUE_BACKEND": "kafka",
		"OUTBOX_SWEEP_AGE": "-3s", "DATABASE_URL": "mysql://root:hunter2@db/x", "QUEUE_URL_NOTIFY": "not a url",
	}))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, v := range []string{"ADVISORYHUB_ENV", "PORT", "LOG_LEVEL", "QUEUE_BACKEND", "OUTBOX_SWEEP_AGE", "DATABASE_URL", "QUEUE_URL_NOTIFY"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s:\n%v", v, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the database password:\n%v", err)
	}
}

// INV-SECRET-1: a Secret never prints its value, however it is formatted.
func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("postgres://u:hunter2@db/x")
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), s.LogValue().String(),
		fmt.Sprintf("%+v", Config{DB: DB{URL: s}})} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if !NewSecret("arn:aws:secretsmanager:eu-west-1:1:secret:db").IsRef() || s.IsRef() {
		t.Fatal("IsRef")
	}
}

func TestWebAndOIDC(t *testing.T) {
	c, err := Load(lookup(map[string]string{
		"ADVISORYHUB_ENV": "development", "OIDC_ISSUER_URL": "https://idp.example.org/realms/x/",
		"OIDC_RP_CLIENT_ID": "ah", "OIDC_RP_CLIENT_SECRET": "s3cret", "OIDC_GROUP_CLAIM": "roles",
		"OIDC_ADMIN_GROUP": "admins", "OIDC_REQUIRE_EMAIL_VERIFIED": "true", "STEP_UP_REQUIRED": "false",
		"STEP_UP_MAX_AGE_SECONDS": "60", "ADVISORYHUB_BASE_URL": "http://127.0.0.1:8000/",
		"SESSION_SECRET": "k", "ALLOWED_HOSTS": "a.example.org, b.example.org",
		"CSRF_TRUSTED_ORIGINS": "https://c.example.org", "DEV_IDP_ENABLED": "true",
		"CSP_REPORT_ONLY": "yes", "CSP_REPORT_URI": "/csp-report", "TRUSTED_PROXY_COUNT": "1",
		"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := OIDC{IssuerURL: "https://idp.example.org/realms/x", ClientID: "ah", ClientSecret: NewSecret("s3cret"),
		UsePKCE: true, GroupClaim: "roles", AdminGroup: "admins", RequireEmailVerified: true,
		StepUpMaxAge: time.Minute}
	if diff := cmp.Diff(want, c.OIDC, cmp.AllowUnexported(Secret{})); diff != "" {
		t.Errorf("OIDC (-want +got):\n%s", diff)
	}
	if c.Web.BaseURL != "http://127.0.0.1:8000" || c.Web.SessionSecret.Value() != "k" || !c.Web.DevIdP ||
		!c.Web.CSPReportOnly || c.Web.CSPReportURI != "/csp-report" || c.Web.TrustedProxyCount != 1 ||
		len(c.Web.AllowedHosts) != 2 || c.Web.AllowedHosts[1] != "b.example.org" || len(c.Web.TrustedOrigins) != 1 || !c.Lambda {
		t.Errorf("web: %+v lambda=%v", c.Web, c.Lambda)
	}

	// The development provider is refused in production; bad URLs are named.
	_, err = Load(lookup(map[string]string{"DEV_IDP_ENABLED": "true", "OIDC_ISSUER_URL": "idp", "CSRF_TRUSTED_ORIGINS": "x"}))
	for _, v := range []string{"DEV_IDP_ENABLED", "OIDC_ISSUER_URL", "CSRF_TRUSTED_ORIGINS"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("want an error naming %s, got %v", v, err)
		}
	}
}

func TestAudit(t *testing.T) {
	c, err := Load(lookup(map[string]string{"AUDIT_ACCESS_LOG_RETENTION_DAYS": "30", "AUDIT_ACCESS_LOG_RETENTION_ENABLED": "false"}))
	if err != nil || c.Audit.AccessLogRetentionDays != 30 || c.Audit.AccessLogRetentionEnabled {
		t.Fatalf("audit settings not loaded: %+v, %v", c.Audit, err)
	}
	for _, bad := range []string{"0", "-5", "x"} {
		if _, err := Load(lookup(map[string]string{"AUDIT_ACCESS_LOG_RETENTION_DAYS": bad})); err == nil ||
			!strings.Contains(err.Error(), "AUDIT_ACCESS_LOG_RETENTION_DAYS") {
			t.Errorf("retention days %q: %v", bad, err)
		}
	}
}

func TestRateLimitAndIntake(t *testing.T) {
	c, err := Load(lookup(map[string]string{
		"RATELIMIT_ENABLE": "false", "RATELIMIT_INTAKE_ANON": "3/15m", "RATELIMIT_INTAKE_USER": "100/d",
		"INTAKE_DISABLED": "yes", "ALTCHA_HMAC_KEY": "altcha-key", "INTAKE_REPORT_RETENTION_DAYS": "30",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := RateLimit{IntakeAnon: Rate{Limit: 3, Period: 15 * time.Minute}, IntakeUser: Rate{Limit: 100, Period: 24 * time.Hour}}
	if diff := cmp.Diff(want, c.RateLimit); diff != "" {
		t.Errorf("rate limits (-want +got):\n%s", diff)
	}
	if !c.Intake.Disabled || c.Intake.ALTCHAKey.Value() != "altcha-key" || c.Intake.ReportRetentionDays != 30 {
		t.Errorf("intake: %+v", c.Intake)
	}
	// The ALTCHA key is a secret: resolved from an ARN by boot, never printed.
	if s := c.Secrets()["ALTCHA_HMAC_KEY"]; s == nil || s.Value() != "altcha-key" || strings.Contains(fmt.Sprintf("%+v", c), "altcha-key") {
		t.Error("ALTCHA_HMAC_KEY is not handled as a secret")
	}

	_, err = Load(lookup(map[string]string{"RATELIMIT_INTAKE_ANON": "5", "RATELIMIT_INTAKE_USER": "0/h",
		"INTAKE_REPORT_RETENTION_DAYS": "0", "INTAKE_DISABLED": "maybe", "RATELIMIT_ENABLE": "2"}))
	for _, v := range []string{"RATELIMIT_INTAKE_ANON", "RATELIMIT_INTAKE_USER", "INTAKE_REPORT_RETENTION_DAYS", "INTAKE_DISABLED", "RATELIMIT_ENABLE"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("want an error naming %s, got %v", v, err)
		}
	}
	for in, want := range map[string]Rate{"5/h": {5, time.Hour}, " 30/m ": {30, time.Minute}, "100/15m": {100, 15 * time.Minute}, "1/2d": {1, 48 * time.Hour}} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/h", "x/h", "5/", "5/w", "5/0h", "-1/h"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	if s := (Rate{Limit: 5, Period: time.Hour}).String(); s != "5/h" {
		t.Errorf("String = %q", s)
	}
}

// TestPublicationAuth: the two auth modes are exclusive (INV-PUB-2) and
// errors never echo the token.
func TestPublicationAuth(t *testing.T) {
	const token = "ghs_ConfigT0kenValue1234567890abcdefXYZ"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" = valid
	}{
		{"token", map[string]string{"PUB_REPO_URL": "https://github.com/o/r.git", "PUB_REPO_AUTH": "token", "PUB_REPO_TOKEN": token}, ""},
		{"ssh key", map[string]string{"PUB_REPO_URL": "ssh://git@github.com/o/r.git", "PUB_REPO_SSH_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----"}, ""},
		{"ssh key path", map[string]string{"PUB_REPO_URL": "git@github.com:o/r.git", "PUB_REPO_SSH_KEY_PATH": "/run/secrets/key"}, ""},
		{"token and key", map[string]string{"PUB_REPO_URL": "https://github.com/o/r.git", "PUB_REPO_AUTH": "token", "PUB_REPO_TOKEN": token, "PUB_REPO_SSH_KEY_PATH": "/k"}, "must be unset"},
		{"ssh with token", map[string]string{"PUB_REPO_URL": "ssh://git@github.com/o/r.git", "PUB_REPO_AUTH": "ssh", "PUB_REPO_SSH_KEY": "k", "PUB_REPO_TOKEN": token}, "PUB_REPO_TOKEN must be unset"},
		{"no repository: nothing checked", map[string]string{"PUB_REPO_TOKEN": token}, ""},
		{"token missing", map[string]string{"PUB_REPO_URL": "https://github.com/o/r.git", "PUB_REPO_AUTH": "token"}, "PUB_REPO_TOKEN is required"},
		{"key missing", map[string]string{"PUB_REPO_URL": "ssh://git@github.com/o/r.git"}, "is required"},
		{"both keys", map[string]string{"PUB_REPO_URL": "ssh://git@github.com/o/r.git", "PUB_REPO_SSH_KEY": "k", "PUB_REPO_SSH_KEY_PATH": "/k"}, "exclusive"},
		{"bad mode", map[string]string{"PUB_REPO_AUTH": "password"}, "PUB_REPO_AUTH"},
		{"running threshold below the hard limit", map[string]string{"PUB_TASK_STALE_RUNNING_AFTER_SECONDS": "600"}, "PUB_TASK_STALE_RUNNING_AFTER_SECONDS"},
		{"bad assigner", map[string]string{"PUB_CVE_ASSIGNER_ORG_ID": "eclipse"}, "v4 UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(lookup(tc.env))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := c.Secrets()["PUB_REPO_TOKEN"]; !ok {
					t.Error("PUB_REPO_TOKEN not listed in Secrets()")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Error("the error echoes the token")
			}
		})
	}
}

func TestEmail(t *testing.T) {
	const pw = "Sm7pPassw0rd-never-printed"
	c, err := Load(lookup(map[string]string{
		"EMAIL_BACKEND": "SMTP", "EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "587",
		"EMAIL_HOST_USER": "mailer", "EMAIL_HOST_PASSWORD": pw, "EMAIL_USE_TLS": "true",
		"EMAIL_TIMEOUT": "10", "DEFAULT_FROM_EMAIL": "Advisories <advisories@example.org>",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Email{Backend: "smtp", Host: "smtp.example.org", Port: 587, User: "mailer", Password: NewSecret(pw),
		UseTLS: true, Timeout: 10 * time.Second, From: "Advisories <advisories@example.org>"}
	if diff := cmp.Diff(want, c.Email, cmp.AllowUnexported(Secret{})); diff != "" {
		t.Errorf("email (-want +got):\n%s", diff)
	}
	// The password is a secret boot resolves (an ARN is allowed) and never prints.
	if s := c.Secrets()["EMAIL_HOST_PASSWORD"]; s == nil || s.Value() != pw {
		t.Error("EMAIL_HOST_PASSWORD is not listed in Secrets()")
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", c.Email, c.Email, c.Email), pw) {
		t.Error("the email password printed")
	}
	arn := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:smtp-AbCdEf"
	if c, err := Load(lookup(map[string]string{"EMAIL_HOST_PASSWORD": arn})); err != nil || !c.Email.Password.IsRef() {
		t.Errorf("ARN password: %v", err)
	}
	for _, alias := range []string{"log", "console", "Console"} {
		if c, err := Load(lookup(map[string]string{"EMAIL_BACKEND": alias})); err != nil || c.Email.Backend != "log" {
			t.Errorf("EMAIL_BACKEND=%s: %q %v", alias, c.Email.Backend, err)
		}
	}

	// Every problem at once; the password value never in the message.
	_, err = Load(lookup(map[string]string{
		"EMAIL_BACKEND": "carrier-pigeon", "EMAIL_PORT": "0", "EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "1",
		"EMAIL_TIMEOUT": "-3", "DEFAULT_FROM_EMAIL": "not an address", "EMAIL_HOST": "bad host",
		"EMAIL_HOST_PASSWORD": pw,
	}))
	if err == nil {
		t.Fatal("bad email settings accepted")
	}
	msg := err.Error()
	for _, key := range []string{"EMAIL_BACKEND", "EMAIL_PORT", "EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive",
		"EMAIL_TIMEOUT", "DEFAULT_FROM_EMAIL", "EMAIL_HOST:"} {
		if !strings.Contains(msg, key) {
			t.Errorf("error does not name %s:\n%s", key, msg)
		}
	}
	if strings.Contains(msg, pw) {
		t.Error("the error echoes the password")
	}
	if _, err := Load(lookup(map[string]string{"DEFAULT_FROM_EMAIL": "x@example.org\r\nBcc: victim@example.org"})); err == nil {
		t.Error("a From with CR/LF accepted")
	}
}
