// Command infra is the CDK app that deploys AdvisoryHub: the same
// resources as ../template.yaml (the SAM template), for teams that deploy
// with `cdk deploy`. Its settings come from CDK context (-c key=value or
// cdk.json); see README.md.
package main

import (
	"errors"
	"fmt"
	"log"
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
	DatabaseURLSecretARN      string
	OIDCClientSecretARN       string
	SessionSecretARN          string
	AltchaHMACKeyARN          string
	GitHubAppWebhookSecretARN string
	GitHubAppPrivateKeyARN    string
	PubRepoTokenARN           string
	SimilarityLLMAPIKeyARN    string
	EmailHostPasswordARN      string
	SecretsKMSKeyARN          string // customer-managed key of the secrets; optional

	SubnetIDs       []string
	SecurityGroupID string

	// Plain settings passed as environment variables.
	OIDCIssuerURL        string // OIDC_ISSUER_URL (web)
	OIDCClientID         string // OIDC_RP_CLIENT_ID (web)
	OIDCAdminGroup       string // OIDC_ADMIN_GROUP (all)
	BaseURL              string // ADVISORYHUB_BASE_URL (web)
	PubRepoURL           string // PUB_REPO_URL (publish)
	PubRepoAuth          string // PUB_REPO_AUTH: token or ssh (publish)
	PubRepoBranch        string // PUB_REPO_BRANCH (publish)
	PubCommitAuthorName  string // PUB_COMMIT_AUTHOR_NAME (publish)
	PubCommitAuthorEmail string // PUB_COMMIT_AUTHOR_EMAIL (publish)
	PubCVEAssignerOrgID  string // PUB_CVE_ASSIGNER_ORG_ID (publish)

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
		BuildDir:                  str("buildDir", "../build"),
		DatabaseURLSecretARN:      str("databaseUrlSecretArn", ""),
		OIDCClientSecretARN:       str("oidcClientSecretArn", ""),
		SessionSecretARN:          str("sessionSecretArn", ""),
		AltchaHMACKeyARN:          str("altchaHmacKeyArn", ""),
		GitHubAppWebhookSecretARN: str("githubAppWebhookSecretArn", ""),
		GitHubAppPrivateKeyARN:    str("githubAppPrivateKeyArn", ""),
		PubRepoTokenARN:           str("pubRepoTokenArn", ""),
		SimilarityLLMAPIKeyARN:    str("similarityLlmApiKeyArn", ""),
		EmailHostPasswordARN:      str("emailHostPasswordArn", ""),
		SecretsKMSKeyARN:          str("secretsKmsKeyArn", ""),
		SubnetIDs:                 list("subnetIds"),
		SecurityGroupID:           str("securityGroupId", ""),
		LogLevel:                  str("logLevel", "INFO"),
		LogRetentionDays:          num("logRetentionDays", 30),
		SimilarityConcurrency:     num("similarityConcurrency", 2),
		AlarmTopicARN:             str("alarmTopicArn", ""),
		OIDCIssuerURL:             str("oidcIssuerUrl", ""),
		OIDCClientID:              str("oidcClientId", ""),
		OIDCAdminGroup:            str("oidcAdminGroup", "advisoryhub-security"),
		BaseURL:                   str("baseUrl", ""),
		PubRepoURL:                str("pubRepoUrl", ""),
		PubRepoAuth:               str("pubRepoAuth", "token"),
		PubRepoBranch:             str("pubRepoBranch", "main"),
		PubCommitAuthorName:       str("pubCommitAuthorName", "AdvisoryHub Bot"),
		PubCommitAuthorEmail:      str("pubCommitAuthorEmail", "advisoryhub-bot@example.org"),
		PubCVEAssignerOrgID:       str("pubCveAssignerOrgId", ""),
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
		"oidcClientSecretArn":       c.OIDCClientSecretARN,
		"altchaHmacKeyArn":          c.AltchaHMACKeyARN,
		"githubAppWebhookSecretArn": c.GitHubAppWebhookSecretARN,
		"githubAppPrivateKeyArn":    c.GitHubAppPrivateKeyARN,
		"pubRepoTokenArn":           c.PubRepoTokenARN,
		"similarityLlmApiKeyArn":    c.SimilarityLLMAPIKeyARN,
		"emailHostPasswordArn":      c.EmailHostPasswordARN,
	} {
		if arn != "" && !secretARNPattern.MatchString(arn) {
			errs = append(errs, fmt.Errorf("%s %q: want empty or the full ARN of a Secrets Manager secret", key, arn))
		}
	}
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
