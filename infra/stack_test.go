package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

const (
	testDBSecret      = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:advisoryhub/db-AbCdEf"
	testEmailSecret   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:advisoryhub/smtp-GhIjKl"
	testSessionSecret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:advisoryhub/session-MnOpQr"
	testCSAFKey       = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:advisoryhub/csaf-key-StUvWx"
	testCSAFPass      = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:advisoryhub/csaf-pass-YzAbCd"
	testCSAFURL       = "https://advisories.example.org/csaf/"
	testBaseURL       = "https://advisories.example.org"
)

// testContext is a complete deployment context with some optional secrets
// (the SMTP password, the CSAF signing key and its passphrase) set and the
// others left empty, and the notify function's mail settings as cdk.json
// would give them (a number, a boolean).
func testContext(buildDir string) map[string]any {
	return map[string]any{
		"buildDir":                       buildDir,
		"baseUrl":                        testBaseURL,
		"emailHost":                      "email-smtp.eu-west-1.amazonaws.com",
		"emailPort":                      float64(587),
		"emailHostUser":                  "AKIAEXAMPLE",
		"emailUseTls":                    true,
		"emailTimeout":                   "20",
		"defaultFromEmail":               "Eclipse AdvisoryHub <advisories@example.org>",
		"databaseUrlSecretArn":           testDBSecret,
		"sessionSecretArn":               testSessionSecret,
		"emailHostPasswordArn":           testEmailSecret,
		"pubCsafProviderUrl":             testCSAFURL,
		"pubCsafPathTemplate":            "csaf/{year}/{advisory_id_lower}.json",
		"pubCsafSigningKeyArn":           testCSAFKey,
		"pubCsafSigningKeyPassphraseArn": testCSAFPass,
		"subnetIds":                      "subnet-0a1b2c3d,subnet-4e5f6a7b",
		"securityGroupId":                "sg-0123abcd",
	}
}

// fakeBuild creates <dir>/<name>/bootstrap for every function, since
// Code.fromAsset needs the directories to exist at synth time.
func fakeBuild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range functionSpecs(Config{}) {
		if err := os.MkdirAll(filepath.Join(dir, f.name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// assert runs a jsii assertion, which panics on failure, as a test error.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func TestStackSynth(t *testing.T) {
	ctx := testContext(fakeBuild(t))
	cfg, err := configFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{})
	stack := NewStack(app, "Test", nil, cfg)
	tpl := assertions.Template_FromStack(stack, nil)

	for typ, n := range map[string]int{
		"AWS::Lambda::Function":           6,
		"AWS::IAM::Role":                  6,
		"AWS::Logs::LogGroup":             6,
		"AWS::SQS::Queue":                 6,
		"AWS::Lambda::EventSourceMapping": 3,
		"AWS::Lambda::Url":                2,
		"AWS::Events::Rule":               len(scheduleSpecs()),
		"AWS::CloudWatch::Alarm":          3,
	} {
		assert(t, typ, func() { tpl.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
	}
	assert(t, "publish queue", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"VisibilityTimeout": 720,
			"RedrivePolicy":     assertions.Match_ObjectLike(&map[string]any{"maxReceiveCount": 5}),
		})
	})
	assert(t, "publish function", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "Handler": "bootstrap",
			"MemorySize": 1024, "Timeout": 660,
			"VpcConfig": map[string]any{
				"SubnetIds":        []any{"subnet-0a1b2c3d", "subnet-4e5f6a7b"},
				"SecurityGroupIds": []any{"sg-0123abcd"},
			},
		})
	})
	assert(t, "similarity event source", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"BatchSize":             1,
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			"ScalingConfig":         map[string]any{"MaximumConcurrency": 2},
		})
	})
	assert(t, "similarity reserved concurrency", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Timeout": 360, "ReservedConcurrentExecutions": 2,
		})
	})
	assert(t, "outbox-sweep schedule", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"ScheduleExpression": "rate(1 minute)",
			"Targets": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Input": `{"job":"outbox-sweep"}`}),
			}),
		})
	})
	assert(t, "web function URL", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Url"), map[string]any{"AuthType": "NONE"})
	})

	// The rest is easier to check on the plain JSON.
	var doc struct {
		Resources map[string]resource
	}
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	// Every function gets the shared variables and its own secret ones.
	wantEnv := map[string][]string{
		"Web": {"OIDC_RP_CLIENT_SECRET", "SESSION_SECRET", "ALTCHA_HMAC_KEY",
			"OIDC_ISSUER_URL", "OIDC_RP_CLIENT_ID", "ADVISORYHUB_BASE_URL", "USE_X_FORWARDED_PROTO"},
		"Webhook": {"GITHUB_APP_WEBHOOK_SECRET"},
		"Publish": {"GITHUB_APP_PRIVATE_KEY", "PUB_REPO_TOKEN", "PUB_REPO_URL", "PUB_REPO_AUTH", "PUB_REPO_BRANCH",
			"PUB_COMMIT_AUTHOR_NAME", "PUB_COMMIT_AUTHOR_EMAIL", "PUB_CVE_ASSIGNER_ORG_ID",
			"PUB_CSAF_PROVIDER_URL", "PUB_CSAF_PATH_TEMPLATE", "PUB_CSAF_SIGNING_KEY", "PUB_CSAF_SIGNING_KEY_PASSPHRASE"},
		"Notify": {"EMAIL_HOST_PASSWORD", "ADVISORYHUB_BASE_URL", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT",
			"EMAIL_HOST_USER", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT", "DEFAULT_FROM_EMAIL"},
		"Similarity": {"SIMILARITY_LLM_API_KEY"},
		"Scheduled":  {"GITHUB_APP_PRIVATE_KEY"},
	}
	seen := 0
	for id, r := range doc.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		var p struct {
			Environment struct{ Variables map[string]any }
		}
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range p.Environment.Variables {
			got = append(got, k)
		}
		slices.Sort(got)
		prefix := strings.TrimSuffix(id[:strings.Index(id, "Function")+len("Function")], "Function")
		want := append([]string{"DATABASE_URL", "LOG_FORMAT", "LOG_LEVEL", "QUEUE_BACKEND", "ADVISORYHUB_ENV", "OIDC_ADMIN_GROUP",
			"QUEUE_URL_NOTIFY", "QUEUE_URL_PUBLISH", "QUEUE_URL_SIMILARITY"}, wantEnv[prefix]...)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s environment: got %q, want %q", id, got, want)
		}
		seen++
	}
	if seen != len(wantEnv) {
		t.Errorf("checked %d functions, want %d", seen, len(wantEnv))
	}

	// The publish function gets the CSAF settings as they were given: the
	// URL and path template as values, the two secrets as their ARNs
	// (resolved at cold start).
	for id, r := range doc.Resources {
		if r.Type != "AWS::Lambda::Function" || !strings.HasPrefix(id, "PublishFunction") {
			continue
		}
		var p struct {
			Environment struct{ Variables map[string]any }
		}
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{
			"PUB_CSAF_PROVIDER_URL": testCSAFURL, "PUB_CSAF_PATH_TEMPLATE": "csaf/{year}/{advisory_id_lower}.json",
			"PUB_CSAF_SIGNING_KEY": testCSAFKey, "PUB_CSAF_SIGNING_KEY_PASSPHRASE": testCSAFPass,
		} {
			if got := p.Environment.Variables[k]; got != want {
				t.Errorf("%s %s = %v, want %q", id, k, got, want)
			}
		}
	}

	// The notify function gets the mail settings as they were given, the
	// password as its ARN, and the configured base URL.
	wantNotify := map[string]any{
		"ADVISORYHUB_BASE_URL": testBaseURL, "EMAIL_BACKEND": "smtp",
		"EMAIL_HOST": "email-smtp.eu-west-1.amazonaws.com", "EMAIL_PORT": "587",
		"EMAIL_HOST_USER": "AKIAEXAMPLE", "EMAIL_HOST_PASSWORD": testEmailSecret,
		"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "false", "EMAIL_TIMEOUT": "20",
		"DEFAULT_FROM_EMAIL": "Eclipse AdvisoryHub <advisories@example.org>",
	}
	notify := functionEnv(t, doc.Resources, "Notify")
	for k, want := range wantNotify {
		if got := notify[k]; got != want {
			t.Errorf("notify %s = %v, want %q", k, got, want)
		}
	}
	if got := functionEnv(t, doc.Resources, "Web")["ADVISORYHUB_BASE_URL"]; got != testBaseURL {
		t.Errorf("web ADVISORYHUB_BASE_URL = %v, want %q", got, testBaseURL)
	}

	// Only the notify role may read the SMTP secret and only the publish
	// role the CSAF signing key and its passphrase; no policy names an
	// empty ARN; nothing but the ENI policy's ec2 actions applies to "*".
	for id, r := range doc.Resources {
		if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::ManagedPolicy" {
			continue
		}
		text := string(r.Properties)
		if strings.Contains(text, testEmailSecret) && !strings.HasPrefix(id, "NotifyRole") {
			t.Errorf("%s grants the SMTP secret", id)
		}
		for _, csafSecret := range []string{testCSAFKey, testCSAFPass} {
			if strings.Contains(text, csafSecret) && !strings.HasPrefix(id, "PublishRole") {
				t.Errorf("%s grants the CSAF secret %s", id, csafSecret)
			}
		}
		if strings.Contains(text, `"Resource":""`) || strings.Contains(text, `"Resource":"*"`) {
			t.Errorf("%s has an empty or wildcard resource: %s", id, text)
		}
	}
	if !strings.Contains(string(raw), testEmailSecret) {
		t.Error("no policy grants the SMTP secret")
	}
	for _, csafSecret := range []string{testCSAFKey, testCSAFPass} {
		granted := false
		for id, r := range doc.Resources {
			if r.Type == "AWS::IAM::Policy" && strings.HasPrefix(id, "PublishRole") && strings.Contains(string(r.Properties), csafSecret) {
				granted = true
			}
		}
		if !granted {
			t.Errorf("the publish role cannot read the CSAF secret %s", csafSecret)
		}
	}
}

// resource is one resource of a synthesized template.
type resource struct {
	Type       string
	Properties json.RawMessage
}

// functionEnv returns the environment of the one Lambda function whose
// logical ID starts with prefix+"Function".
func functionEnv(t *testing.T, resources map[string]resource, prefix string) map[string]any {
	t.Helper()
	var env map[string]any
	for id, r := range resources {
		if r.Type != "AWS::Lambda::Function" || !strings.HasPrefix(id, prefix+"Function") {
			continue
		}
		if env != nil {
			t.Fatalf("more than one %s function", prefix)
		}
		var p struct {
			Environment struct{ Variables map[string]any }
		}
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatal(err)
		}
		env = p.Environment.Variables
	}
	if env == nil {
		t.Fatalf("no %s function", prefix)
	}
	return env
}

// Without baseUrl and with the default mail settings, notify (which
// refuses to start without a base URL) links to the web function URL;
// the web function gets no base URL; the mail settings are config's
// defaults.
func TestNotifyDefaults(t *testing.T) {
	ctx := map[string]any{
		"buildDir":             fakeBuild(t),
		"databaseUrlSecretArn": testDBSecret,
		"sessionSecretArn":     testSessionSecret,
		"subnetIds":            "subnet-0a1b2c3d",
		"securityGroupId":      "sg-0123abcd",
	}
	cfg, err := configFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{})
	raw, err := json.Marshal(assertions.Template_FromStack(NewStack(app, "Test", nil, cfg), nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Resources map[string]resource }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	notify := functionEnv(t, doc.Resources, "Notify")
	var ref struct {
		GetAtt []string `json:"Fn::GetAtt"`
	}
	b, _ := json.Marshal(notify["ADVISORYHUB_BASE_URL"])
	if err := json.Unmarshal(b, &ref); err != nil || len(ref.GetAtt) != 2 || ref.GetAtt[1] != "FunctionUrl" {
		t.Fatalf("notify ADVISORYHUB_BASE_URL = %s, want the web function URL", b)
	}
	urlRes, ok := doc.Resources[ref.GetAtt[0]]
	if !ok || urlRes.Type != "AWS::Lambda::Url" || !strings.Contains(string(urlRes.Properties), `"WebFunction`) {
		t.Errorf("notify ADVISORYHUB_BASE_URL names %s (%s), not the web function URL", ref.GetAtt[0], urlRes.Type)
	}
	if got := functionEnv(t, doc.Resources, "Web")["ADVISORYHUB_BASE_URL"]; got != "" {
		t.Errorf("web ADVISORYHUB_BASE_URL = %v, want empty", got)
	}
	for k, want := range map[string]any{
		"EMAIL_BACKEND": "smtp", "EMAIL_HOST": "localhost", "EMAIL_PORT": "25", "EMAIL_HOST_USER": "",
		"EMAIL_HOST_PASSWORD": "", "EMAIL_USE_TLS": "false", "EMAIL_USE_SSL": "false", "EMAIL_TIMEOUT": "30",
		"DEFAULT_FROM_EMAIL": "AdvisoryHub <noreply@example.org>",
	} {
		if got := notify[k]; got != want {
			t.Errorf("notify %s = %v, want %q", k, got, want)
		}
	}
	// No role may read an SMTP secret that isn't configured.
	if strings.Contains(string(raw), "smtp-") {
		t.Error("an SMTP secret ARN appears though none is configured")
	}
}

func TestConfigFromContext(t *testing.T) {
	ok := testContext("../build")
	if _, err := configFromContext(func(k string) any { return ok[k] }); err != nil {
		t.Fatalf("valid context: %v", err)
	}

	bad := map[string]any{
		"databaseUrlSecretArn":  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db", // no suffix
		"sessionSecretArn":      "not-an-arn",
		"subnetIds":             []any{"subnet-0a1b", "vpc-1"},
		"logLevel":              "TRACE",
		"logRetentionDays":      "31",
		"similarityConcurrency": float64(1),
		"pubCsafProviderUrl":    "http://advisories.example.org/csaf/",
		"pubCsafSigningKeyArn":  "arn:aws:ssm:eu-west-1:123456789012:parameter/csaf-key",
		"baseUrl":               "http://advisories.example.org",
		"emailBackend":          "sendmail",
		"emailHost":             "smtp.example.org:587",
		"emailPort":             float64(0),
		"emailTimeout":          float64(60),
		"emailUseTls":           "yes",
		"emailUseSsl":           1.0,
		"defaultFromEmail":      "AdvisoryHub",
	}
	_, err := configFromContext(func(k string) any { return bad[k] })
	if err == nil {
		t.Fatal("invalid context accepted")
	}
	for _, want := range []string{"databaseUrlSecretArn", "sessionSecretArn", `"vpc-1"`, "securityGroupId", "logLevel", "logRetentionDays 31", "similarityConcurrency 1",
		"pubCsafProviderUrl", "pubCsafSigningKeyArn",
		"baseUrl", "emailBackend", "emailHost", "emailPort 0", "emailTimeout 60", `emailUseTls "yes"`, "emailUseSsl: want a boolean",
		"defaultFromEmail"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error doesn't mention %s:\n%v", want, err)
		}
	}

	// The combinations the notify function would refuse or could never
	// send with; a path in the base URL, which is prefixed to request paths.
	for name, tc := range map[string]struct {
		set  map[string]any
		want string
	}{
		"TLS and SSL":          {map[string]any{"emailUseSsl": "true"}, "mutually exclusive"},
		"password, no user":    {map[string]any{"emailHostUser": ""}, "emailHostPasswordArn: needs emailHostUser"},
		"user, no encryption":  {map[string]any{"emailUseTls": false}, "emailHostUser: needs emailUseTls or emailUseSsl"},
		"base URL with a path": {map[string]any{"baseUrl": "https://example.org/advisories"}, "baseUrl"},
	} {
		ctx := testContext("../build")
		for k, v := range tc.set {
			ctx[k] = v
		}
		_, err := configFromContext(func(k string) any { return ctx[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
	// The log backend sends nothing: credentials without TLS don't matter.
	logCtx := testContext("../build")
	logCtx["emailBackend"], logCtx["emailUseTls"], logCtx["emailHostUser"] = "log", false, ""
	if _, err := configFromContext(func(k string) any { return logCtx[k] }); err != nil {
		t.Errorf("log backend: %v", err)
	}
}
