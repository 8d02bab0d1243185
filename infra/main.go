// Command infra is the CDK app that deploys AdvisoryHub: the same
// resources as ../template.yaml (the SAM template), for teams that deploy
// with `cdk deploy`. Its settings come from CDK context (-c key=value or
// cdk.json); see README.md.
package main

import (
	"errors"
	"fmt"
	"log"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	get := func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }
	cfg, err := configFromContext(get)
	if err != nil {
		log.Fatal(err)
	}
	stackName := "AdvisoryHub"
	if s, ok := get("stackName").(string); ok && s != "" {
		stackName = s
	}
	NewStack(app, stackName, &awscdk.StackProps{
		Description: jsii.String("AdvisoryHub: six Go Lambda functions, their SQS queues, function URLs and schedules."),
	}, cfg)
	app.Synth(nil)
}

// Config is what the stack needs from the deployer.
type Config struct {
	BuildDir string // holds <name>/bootstrap per function; default ../build

	// Full Secrets Manager ARNs. DatabaseURLSecretARN is required; an empty
	// optional one leaves its variable empty and grants nothing.
	DatabaseURLSecretARN           string
	OIDCClientSecretARN            string
	SessionSecretARN               string
	AltchaHMACKeyARN               string
	GitHubAppWebhookSecretARN      string
	GitHubAppPrivateKeyARN         string
	PubRepoTokenARN                string
	PubCSAFSigningKeyARN           string // PUB_CSAF_SIGNING_KEY, armored OpenPGP private key
	PubCSAFSigningKeyPassphraseARN string // PUB_CSAF_SIGNING_KEY_PASSPHRASE
	SimilarityLLMAPIKeyARN         string
	EmailHostPasswordARN           string
	SecretsKMSKeyARN               string // customer-managed key of the secrets; optional

	SubnetIDs       []string
	SecurityGroupID string

	// Plain settings passed as environment variables.
	OIDCIssuerURL        string // OIDC_ISSUER_URL (web)
	OIDCClientID         string // OIDC_RP_CLIENT_ID (web)
	OIDCAdminGroup       string // OIDC_ADMIN_GROUP (all)
	BaseURL              string // ADVISORYHUB_BASE_URL (web; notify, where "" = the web function URL)
	PubRepoURL           string // PUB_REPO_URL (publish)
	PubRepoAuth          string // PUB_REPO_AUTH: token or ssh (publish)
	PubRepoBranch        string // PUB_REPO_BRANCH (publish)
	PubCommitAuthorName  string // PUB_COMMIT_AUTHOR_NAME (publish)
	PubCommitAuthorEmail string // PUB_COMMIT_AUTHOR_EMAIL (publish)
	PubCVEAssignerOrgID  string // PUB_CVE_ASSIGNER_ORG_ID (publish)
	PubCSAFProviderURL   string // PUB_CSAF_PROVIDER_URL: https URL, "" = documents only (publish)
	PubCSAFPathTemplate  string // PUB_CSAF_PATH_TEMPLATE (publish)

	// Outgoing mail of the notify function (the invitation emails); the
	// password is EmailHostPasswordARN.
	EmailBackend     string // EMAIL_BACKEND: smtp or log
	EmailHost        string // EMAIL_HOST
	EmailPort        int    // EMAIL_PORT
	EmailHostUser    string // EMAIL_HOST_USER; "" = no SMTP AUTH
	EmailUseTLS      bool   // EMAIL_USE_TLS: STARTTLS
	EmailUseSSL      bool   // EMAIL_USE_SSL: implicit TLS; exclusive with EmailUseTLS
	EmailTimeout     int    // EMAIL_TIMEOUT, seconds
	DefaultFromEmail string // DEFAULT_FROM_EMAIL

	LogLevel              string // DEBUG, INFO, WARN, ERROR
	LogRetentionDays      int
	SimilarityConcurrency int
	AlarmTopicARN         string // SNS topic for the DLQ alarms; optional
}

var (
	secretARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
	kmsKeyARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-f0-9-]+$`)
	snsTopicPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$`)
	subnetPattern    = regexp.MustCompile(`^subnet-[0-9a-f]+$`)
	sgPattern        = regexp.MustCompile(`^sg-[0-9a-f]+$`)
	// An https origin, scheme://host[:port]: the base URL is prefixed to
	// request paths, so it takes no path of its own.
	baseURLPattern = regexp.MustCompile(`^https://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?/?$`)
	hostPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
)

// configFromContext reads the Config from CDK context values, which are
// strings when given with -c and may be numbers or lists in cdk.json. It
// reports every problem at once.
func configFromContext(get func(key string) any) (Config, error) {
	var errs []error
	str := func(key, def string) string {
		switch v := get(key).(type) {
		case nil:
			return def
		case string:
			return v
		default:
			errs = append(errs, fmt.Errorf("context %s: want a string, got %T", key, v))
			return def
		}
	}
	num := func(key string, def int) int {
		switch v := get(key).(type) {
		case nil:
			return def
		case float64:
			return int(v)
		case string:
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("context %s: %w", key, err))
			}
			return n
		default:
			errs = append(errs, fmt.Errorf("context %s: want a number, got %T", key, v))
			return def
		}
	}
	flag := func(key string, def bool) bool {
		switch v := get(key).(type) {
		case nil:
			return def
		case bool:
			return v
		case string:
			switch v {
			case "true":
				return true
			case "false":
				return false
			}
			errs = append(errs, fmt.Errorf("context %s %q: want true or false", key, v))
			return def
		default:
			errs = append(errs, fmt.Errorf("context %s: want a boolean, got %T", key, v))
			return def
		}
	}
	list := func(key string) []string {
		switch v := get(key).(type) {
		case nil:
			return nil
		case string:
			return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
		case []any:
			var out []string
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					errs = append(errs, fmt.Errorf("context %s: want strings, got %T", key, e))
					continue
				}
				out = append(out, s)
			}
			return out
		default:
			errs = append(errs, fmt.Errorf("context %s: want a list or a comma-separated string, got %T", key, v))
			return nil
		}
	}

	c := Config{
		BuildDir:                       str("buildDir", "../build"),
		DatabaseURLSecretARN:           str("databaseUrlSecretArn", ""),
		OIDCClientSecretARN:            str("oidcClientSecretArn", ""),
		SessionSecretARN:               str("sessionSecretArn", ""),
		AltchaHMACKeyARN:               str("altchaHmacKeyArn", ""),
		GitHubAppWebhookSecretARN:      str("githubAppWebhookSecretArn", ""),
		GitHubAppPrivateKeyARN:         str("githubAppPrivateKeyArn", ""),
		PubRepoTokenARN:                str("pubRepoTokenArn", ""),
		PubCSAFSigningKeyARN:           str("pubCsafSigningKeyArn", ""),
		PubCSAFSigningKeyPassphraseARN: str("pubCsafSigningKeyPassphraseArn", ""),
		SimilarityLLMAPIKeyARN:         str("similarityLlmApiKeyArn", ""),
		EmailHostPasswordARN:           str("emailHostPasswordArn", ""),
		SecretsKMSKeyARN:               str("secretsKmsKeyArn", ""),
		SubnetIDs:                      list("subnetIds"),
		SecurityGroupID:                str("securityGroupId", ""),
		LogLevel:                       str("logLevel", "INFO"),
		LogRetentionDays:               num("logRetentionDays", 30),
		SimilarityConcurrency:          num("similarityConcurrency", 2),
		AlarmTopicARN:                  str("alarmTopicArn", ""),
		OIDCIssuerURL:                  str("oidcIssuerUrl", ""),
		OIDCClientID:                   str("oidcClientId", ""),
		OIDCAdminGroup:                 str("oidcAdminGroup", "advisoryhub-security"),
		BaseURL:                        str("baseUrl", ""),
		PubRepoURL:                     str("pubRepoUrl", ""),
		PubRepoAuth:                    str("pubRepoAuth", "token"),
		PubRepoBranch:                  str("pubRepoBranch", "main"),
		PubCommitAuthorName:            str("pubCommitAuthorName", "AdvisoryHub Bot"),
		PubCommitAuthorEmail:           str("pubCommitAuthorEmail", "advisoryhub-bot@example.org"),
		PubCVEAssignerOrgID:            str("pubCveAssignerOrgId", ""),
		PubCSAFProviderURL:             str("pubCsafProviderUrl", ""),
		PubCSAFPathTemplate:            str("pubCsafPathTemplate", "csaf/{year}/{advisory_id}.json"),
		// The defaults are config.Load's.
		EmailBackend:     str("emailBackend", "smtp"),
		EmailHost:        str("emailHost", "localhost"),
		EmailPort:        num("emailPort", 25),
		EmailHostUser:    str("emailHostUser", ""),
		EmailUseTLS:      flag("emailUseTls", false),
		EmailUseSSL:      flag("emailUseSsl", false),
		EmailTimeout:     num("emailTimeout", 30),
		DefaultFromEmail: str("defaultFromEmail", "AdvisoryHub <noreply@example.org>"),
	}
	errs = append(errs, c.validate()...)
	return c, errors.Join(errs...)
}

func (c Config) validate() []error {
	var errs []error
	if !secretARNPattern.MatchString(c.DatabaseURLSecretARN) {
		errs = append(errs, fmt.Errorf("databaseUrlSecretArn %q: want the full ARN of a Secrets Manager secret", c.DatabaseURLSecretARN))
	}
	// The web function refuses to start in production without SESSION_SECRET.
	if !secretARNPattern.MatchString(c.SessionSecretARN) {
		errs = append(errs, fmt.Errorf("sessionSecretArn %q: want the full ARN of a Secrets Manager secret", c.SessionSecretARN))
	}
	if c.PubRepoAuth != "token" && c.PubRepoAuth != "ssh" {
		errs = append(errs, fmt.Errorf("pubRepoAuth %q: want token or ssh", c.PubRepoAuth))
	}
	for key, arn := range map[string]string{
		"oidcClientSecretArn":            c.OIDCClientSecretARN,
		"altchaHmacKeyArn":               c.AltchaHMACKeyARN,
		"githubAppWebhookSecretArn":      c.GitHubAppWebhookSecretARN,
		"githubAppPrivateKeyArn":         c.GitHubAppPrivateKeyARN,
		"pubRepoTokenArn":                c.PubRepoTokenARN,
		"pubCsafSigningKeyArn":           c.PubCSAFSigningKeyARN,
		"pubCsafSigningKeyPassphraseArn": c.PubCSAFSigningKeyPassphraseARN,
		"similarityLlmApiKeyArn":         c.SimilarityLLMAPIKeyARN,
		"emailHostPasswordArn":           c.EmailHostPasswordARN,
	} {
		if arn != "" && !secretARNPattern.MatchString(arn) {
			errs = append(errs, fmt.Errorf("%s %q: want empty or the full ARN of a Secrets Manager secret", key, arn))
		}
	}
	// As config.Load: the CSAF provider URL must be https (CSAF 2.0 §7.1).
	if u := c.PubCSAFProviderURL; u != "" && !strings.HasPrefix(u, "https://") {
		errs = append(errs, fmt.Errorf("pubCsafProviderUrl %q: want empty or an https:// URL", u))
	}
	// The web function builds the OIDC redirect URI from it, the notify
	// function the invitation links.
	if c.BaseURL != "" && !baseURLPattern.MatchString(c.BaseURL) {
		errs = append(errs, fmt.Errorf("baseUrl %q: want empty or an https:// origin (scheme://host[:port], no path)", c.BaseURL))
	}
	errs = append(errs, c.validateEmail()...)
	if c.SecretsKMSKeyARN != "" && !kmsKeyARNPattern.MatchString(c.SecretsKMSKeyARN) {
		errs = append(errs, fmt.Errorf("secretsKmsKeyArn %q: want empty or a KMS key ARN", c.SecretsKMSKeyARN))
	}
	if c.AlarmTopicARN != "" && !snsTopicPattern.MatchString(c.AlarmTopicARN) {
		errs = append(errs, fmt.Errorf("alarmTopicArn %q: want empty or an SNS topic ARN", c.AlarmTopicARN))
	}
	if len(c.SubnetIDs) == 0 {
		errs = append(errs, errors.New("subnetIds: at least one subnet is required"))
	}
	for _, s := range c.SubnetIDs {
		if !subnetPattern.MatchString(s) {
			errs = append(errs, fmt.Errorf("subnetIds: %q is not a subnet ID", s))
		}
	}
	if !sgPattern.MatchString(c.SecurityGroupID) {
		errs = append(errs, fmt.Errorf("securityGroupId %q: want a security group ID", c.SecurityGroupID))
	}
	switch c.LogLevel {
	case "DEBUG", "INFO", "WARN", "ERROR":
	default:
		errs = append(errs, fmt.Errorf("logLevel %q: want DEBUG, INFO, WARN or ERROR", c.LogLevel))
	}
	if c.logRetention() == "" {
		errs = append(errs, fmt.Errorf("logRetentionDays %d: not a CloudWatch Logs retention", c.LogRetentionDays))
	}
	if c.SimilarityConcurrency < 2 || c.SimilarityConcurrency > 100 {
		errs = append(errs, fmt.Errorf("similarityConcurrency %d: want 2..100 (SQS maximum concurrency starts at 2)", c.SimilarityConcurrency))
	}
	return errs
}

// validateEmail checks the notify function's mail settings as config.Load
// and the SMTP sender do, so that a deployment the function would refuse
// to start with (or could never send from) fails at synth instead.
func (c Config) validateEmail() []error {
	var errs []error
	smtp := false
	switch c.EmailBackend {
	case "smtp":
		smtp = true
	case "log":
	default:
		errs = append(errs, fmt.Errorf("emailBackend %q: want smtp or log", c.EmailBackend))
	}
	if !hostPattern.MatchString(c.EmailHost) {
		errs = append(errs, fmt.Errorf("emailHost %q: want a host name or IPv4 address (no scheme, port or path)", c.EmailHost))
	}
	if c.EmailPort < 1 || c.EmailPort > 65535 {
		errs = append(errs, fmt.Errorf("emailPort %d: want 1..65535", c.EmailPort))
	}
	// Below the notify function's 60-second timeout.
	if c.EmailTimeout < 1 || c.EmailTimeout > 55 {
		errs = append(errs, fmt.Errorf("emailTimeout %d: want 1..55 seconds (the notify function times out at 60)", c.EmailTimeout))
	}
	if c.EmailUseTLS && c.EmailUseSSL {
		errs = append(errs, errors.New("emailUseTls and emailUseSsl: STARTTLS and implicit TLS are mutually exclusive"))
	}
	if smtp && c.EmailHostPasswordARN != "" && c.EmailHostUser == "" {
		errs = append(errs, errors.New("emailHostPasswordArn: needs emailHostUser (no SMTP password without a user)"))
	}
	if smtp && c.EmailHostUser != "" && !c.EmailUseTLS && !c.EmailUseSSL {
		errs = append(errs, errors.New("emailHostUser: needs emailUseTls or emailUseSsl (SMTP AUTH is never sent unencrypted)"))
	}
	if a, err := mail.ParseAddress(c.DefaultFromEmail); err != nil || a.Address == "" || strings.ContainsAny(c.DefaultFromEmail, "\r\n") {
		errs = append(errs, fmt.Errorf("defaultFromEmail %q: want an address or Name <address>", c.DefaultFromEmail))
	}
	return errs
}

// logRetention maps LogRetentionDays to the CDK enum; "" if CloudWatch Logs
// has no such retention.
func (c Config) logRetention() awslogs.RetentionDays {
	switch c.LogRetentionDays {
	case 1:
		return awslogs.RetentionDays_ONE_DAY
	case 3:
		return awslogs.RetentionDays_THREE_DAYS
	case 5:
		return awslogs.RetentionDays_FIVE_DAYS
	case 7:
		return awslogs.RetentionDays_ONE_WEEK
	case 14:
		return awslogs.RetentionDays_TWO_WEEKS
	case 30:
		return awslogs.RetentionDays_ONE_MONTH
	case 60:
		return awslogs.RetentionDays_TWO_MONTHS
	case 90:
		return awslogs.RetentionDays_THREE_MONTHS
	case 120:
		return awslogs.RetentionDays_FOUR_MONTHS
	case 150:
		return awslogs.RetentionDays_FIVE_MONTHS
	case 180:
		return awslogs.RetentionDays_SIX_MONTHS
	case 365:
		return awslogs.RetentionDays_ONE_YEAR
	case 400:
		return awslogs.RetentionDays_THIRTEEN_MONTHS
	case 545:
		return awslogs.RetentionDays_EIGHTEEN_MONTHS
	case 731:
		return awslogs.RetentionDays_TWO_YEARS
	case 1096:
		return awslogs.RetentionDays_THREE_YEARS
	case 1827:
		return awslogs.RetentionDays_FIVE_YEARS
	case 2192:
		return awslogs.RetentionDays_SIX_YEARS
	case 2557:
		return awslogs.RetentionDays_SEVEN_YEARS
	case 2922:
		return awslogs.RetentionDays_EIGHT_YEARS
	case 3288:
		return awslogs.RetentionDays_NINE_YEARS
	case 3653:
		return awslogs.RetentionDays_TEN_YEARS
	}
	return ""
}
