// Package awssecrets resolves configuration values given as AWS Secrets
// Manager or SSM Parameter Store ARNs, once per cold start. It is an AWS
// adapter, like queue/sqsqueue; nothing else in shared/ sees AWS types.
package awssecrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Resolver fetches secrets by ARN.
type Resolver struct {
	sm  *secretsmanager.Client
	ssm *ssm.Client
}

// New builds a Resolver from the default AWS configuration chain. A
// non-empty endpoint overrides the service endpoints (moto, LocalStack);
// AWS_ENDPOINT_URL is honoured by the SDK itself.
func New(ctx context.Context, region, endpoint string) (*Resolver, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("awssecrets: load AWS config: %w", err)
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return &Resolver{sm: secretsmanager.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg)}, nil
}

// Resolve returns the secret value behind arn. Errors name the ARN's service
// and resource type but never a value.
func (r *Resolver) Resolve(ctx context.Context, arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", errors.New("awssecrets: malformed ARN")
	}
	switch parts[2] {
	case "secretsmanager":
		out, err := r.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", fmt.Errorf("awssecrets: secrets manager: %w", err)
		}
		if out.SecretString == nil {
			return "", errors.New("awssecrets: secrets manager: secret has no string value")
		}
		return *out.SecretString, nil
	case "ssm":
		// GetParameter takes the ARN as the name, which avoids guessing
		// whether the name had a leading slash.
		out, err := r.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", fmt.Errorf("awssecrets: ssm: %w", err)
		}
		return aws.ToString(out.Parameter.Value), nil
	}
	return "", fmt.Errorf("awssecrets: unsupported service %q", parts[2])
}

// DatabaseURL turns a resolved DATABASE_URL secret into a URL: either the
// value is a URL already, or it is the JSON document RDS stores for managed
// credentials ({"username","password","host","port","dbname"}).
func DatabaseURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "{") {
		return v, nil
	}
	var doc struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Host     string `json:"host"`
		Port     any    `json:"port"`
		DBName   string `json:"dbname"`
	}
	if err := json.Unmarshal([]byte(v), &doc); err != nil {
		return "", errors.New("awssecrets: database secret is neither a URL nor RDS credentials JSON")
	}
	if doc.Username == "" || doc.Host == "" {
		return "", errors.New("awssecrets: database secret lacks username or host")
	}
	port := "5432"
	switch p := doc.Port.(type) {
	case float64:
		port = strconv.Itoa(int(p))
	case string:
		if p != "" {
			port = p
		}
	}
	if doc.DBName == "" {
		doc.DBName = "advisoryhub"
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(doc.Username, doc.Password), Host: doc.Host + ":" + port, Path: "/" + doc.DBName, RawQuery: "sslmode=require"}
	return u.String(), nil
}
