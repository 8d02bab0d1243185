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
)

// testContext is a complete deployment context with one optional secret
// (the SMTP password) set and the others left empty.
func testContext(buildDir string) map[string]any {
	return map[string]any{
		"buildDir":             buildDir,
		"databaseUrlSecretArn": testDBSecret,
		"sessionSecretArn":     testSessionSecret,
		"emailHostPasswordArn": testEmailSecret,
		"subnetIds":            "subnet-0a1b2c3d,subnet-4e5f6a7b",
		"securityGroupId":      "sg-0123abcd",
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
		Resources map[string]struct {
			Type       string
			Properties json.RawMessage
		}
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
			"PUB_COMMIT_AUTHOR_NAME", "PUB_COMMIT_AUTHOR_EMAIL", "PUB_CVE_ASSIGNER_ORG_ID"},
		"Notify":     {"EMAIL_HOST_PASSWORD"},
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

	// Only the notify role may read the SMTP secret; no policy names an
	// empty ARN; nothing but the ENI policy's ec2 actions applies to "*".
	for id, r := range doc.Resources {
		if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::ManagedPolicy" {
			continue
		}
		text := string(r.Properties)
		if strings.Contains(text, testEmailSecret) && !strings.HasPrefix(id, "NotifyRole") {
			t.Errorf("%s grants the SMTP secret", id)
		}
		if strings.Contains(text, `"Resource":""`) || strings.Contains(text, `"Resource":"*"`) {
			t.Errorf("%s has an empty or wildcard resource: %s", id, text)
		}
	}
	if !strings.Contains(string(raw), testEmailSecret) {
		t.Error("no policy grants the SMTP secret")
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
	}
	_, err := configFromContext(func(k string) any { return bad[k] })
	if err == nil {
		t.Fatal("invalid context accepted")
	}
	for _, want := range []string{"databaseUrlSecretArn", "sessionSecretArn", `"vpc-1"`, "securityGroupId", "logLevel", "logRetentionDays 31", "similarityConcurrency 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error doesn't mention %s:\n%v", want, err)
		}
	}
}
