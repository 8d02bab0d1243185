package boot_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue/sqstest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func load(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	c, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// As in Lambda: DATABASE_URL arrives as a Secrets Manager ARN, is resolved
// at cold start, and the graph comes up with the scheduled jobs and
// operator commands registered.
func TestBootResolvesDatabaseSecret(t *testing.T) {
	d := pgtest.Open(t)
	endpoint := sqstest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", sqstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sqstest.SecretAccessKey)
	ctx := context.Background()
	sm := secretsmanager.New(secretsmanager.Options{Region: sqstest.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sqstest.AccessKeyID, sqstest.SecretAccessKey, "")})
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ah/db"), SecretString: aws.String(d.AppURL)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, map[string]string{"DATABASE_URL": aws.ToString(out.ARN), "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": sqstest.Region})
	app, err := boot.New(ctx, cfg, boot.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if err := app.DB.Ping(ctx); err != nil {
		t.Fatalf("resolved database unreachable: %v", err)
	}
	if app.Config.DB.URL.IsRef() {
		t.Fatal("DATABASE_URL still an ARN after boot")
	}
	var names []string
	for _, s := range app.Registry.ScheduledJobs() {
		names = append(names, s.Name)
	}
	for _, c := range app.Registry.Commands() {
		names = append(names, c.Name)
	}
	for _, want := range []string{"outbox-sweep", "rate-limit-prune", "altcha-replay-prune", "migrate", "failed-jobs"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Errorf("%s not registered (have %v)", want, names)
		}
	}
	// The outbox sweep runs end to end through the registry.
	if _, err := app.Registry.RunScheduled(ctx, "outbox-sweep"); err != nil {
		t.Fatal(err)
	}

	// The intake sweeps delete what has expired and keep the rest.
	if _, err := d.Exec(ctx, `INSERT INTO rate_limit_counters (route, subject, window_start, hits, expires_at) VALUES
			('r', 'ip:1', now() - interval '2 hours', 3, now() - interval '1 hour'),
			('r', 'ip:2', now() - interval '1 minute', 1, now() + interval '1 hour');
		INSERT INTO altcha_replay_markers (challenge_hash, expires_at) VALUES
			(sha256('old'), now() - interval '1 minute'), (sha256('new'), now() + interval '10 minutes')`); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"rate-limit-prune", "altcha-replay-prune"} {
		if _, err := app.Registry.RunScheduled(ctx, job); err != nil {
			t.Fatalf("%s: %v", job, err)
		}
	}
	var counters, markers int
	if err := d.QueryRow(ctx, `SELECT (SELECT count(*) FROM rate_limit_counters), (SELECT count(*) FROM altcha_replay_markers)`).Scan(&counters, &markers); err != nil {
		t.Fatal(err)
	}
	if counters != 1 || markers != 1 {
		t.Errorf("after the sweeps: %d counters, %d replay markers; want 1 and 1", counters, markers)
	}
}

// A function without DATABASE_URL refuses to start, naming the variable;
// a secret that cannot be resolved names the variable, not the ARN's value.
func TestBootRefusesWithoutDatabase(t *testing.T) {
	_, err := boot.New(context.Background(), load(t, nil), boot.Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("want an error naming DATABASE_URL, got %v", err)
	}
}
