package awssecrets

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue/sqstest"
)

// Secrets given as ARNs resolve against a real Secrets Manager / SSM API
// (moto_server), through the default credential chain as in Lambda.
func TestResolveAgainstMoto(t *testing.T) {
	endpoint := sqstest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", sqstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sqstest.SecretAccessKey)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(sqstest.AccessKeyID, sqstest.SecretAccessKey, "")
	sm := secretsmanager.New(secretsmanager.Options{Region: sqstest.Region, BaseEndpoint: aws.String(endpoint), Credentials: creds})
	ps := ssm.New(ssm.Options{Region: sqstest.Region, BaseEndpoint: aws.String(endpoint), Credentials: creds})

	plain, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ah/db-url"), SecretString: aws.String("postgres://app:s3cret@db.internal:5432/ah")})
	if err != nil {
		t.Fatal(err)
	}
	rds, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ah/rds"),
		SecretString: aws.String(`{"username":"app","password":"p@ss/word","host":"db.cluster.eu-west-1.rds.amazonaws.com","port":5432,"dbname":"ah"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/ah/webhook-secret"), Value: aws.String("whsec"), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}

	r, err := New(ctx, sqstest.Region, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := r.Resolve(ctx, aws.ToString(plain.ARN)); err != nil || v != "postgres://app:s3cret@db.internal:5432/ah" {
		t.Fatalf("secrets manager: %q, %v", v, err)
	}
	v, err := r.Resolve(ctx, aws.ToString(rds.ARN))
	if err != nil {
		t.Fatal(err)
	}
	u, err := DatabaseURL(v)
	if err != nil || u != "postgres://app:p%40ss%2Fword@db.cluster.eu-west-1.rds.amazonaws.com:5432/ah?sslmode=require" {
		t.Fatalf("RDS secret to URL: %q, %v", u, err)
	}
	if v, err := r.Resolve(ctx, "arn:aws:ssm:us-east-1:123456789012:parameter/ah/webhook-secret"); err != nil || v != "whsec" {
		t.Fatalf("ssm: %q, %v", v, err)
	}
	_, err = r.Resolve(ctx, "arn:aws:secretsmanager:us-east-1:123456789012:secret:ah/missing-AbCdEf")
	if err == nil {
		t.Fatal("missing secret: want error")
	}
	for _, bad := range []string{"arn:aws:s3:::bucket/key", "not-an-arn"} {
		if _, err := r.Resolve(ctx, bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

// Errors from malformed secret documents never echo the document.
func TestDatabaseURLErrorsHideValues(t *testing.T) {
	for _, v := range []string{`{"password":"hunter2"}`, `{"username":"u","password":"hunter2"`} {
		_, err := DatabaseURL(v)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("%s: %v", v, err)
		}
	}
	if u, err := DatabaseURL("postgres://x@y/z"); err != nil || u != "postgres://x@y/z" {
		t.Fatalf("plain URL: %q %v", u, err)
	}
}
