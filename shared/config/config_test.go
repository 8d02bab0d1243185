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
