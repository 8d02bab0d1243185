package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// The scheduled function's payloads: the EventBridge input of template.yaml
// runs the named job, records the run, and an operator payload runs a
// command and returns its output.
func TestRegistryInvoke(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	reg := jobs.NewRegistry(db, slog.New(slog.DiscardHandler), identity, nil)
	runs := 0
	reg.AddScheduled(jobs.Scheduled{Name: "outbox-sweep", Every: 1, Run: func(ctx context.Context) (any, error) {
		if !postgres.PrincipalFrom(ctx).IsAdmin {
			t.Error("scheduled jobs must run as the system principal")
		}
		runs++
		return map[string]int{"sent": 0}, nil
	}})
	reg.AddScheduled(jobs.Scheduled{Name: "always-fails", Every: 1, Run: func(context.Context) (any, error) {
		return nil, errors.New("upstream said no")
	}})
	reg.AddCommand(jobs.Command{Name: "hello", Run: func(_ context.Context, args []string, out io.Writer) error {
		_, err := io.WriteString(out, "hello "+strings.Join(args, " "))
		return err
	}})

	raw, err := os.ReadFile("../../functions/scheduled/testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var inv jobs.Invocation
	if err := json.Unmarshal(raw, &inv); err != nil {
		t.Fatal(err)
	}
	res, err := reg.Invoke(ctx, inv)
	if err != nil || runs != 1 || res.Job != "outbox-sweep" {
		t.Fatalf("invoke %+v: %+v, %v (runs %d)", inv, res, err, runs)
	}
	if _, err := reg.Invoke(ctx, jobs.Invocation{Job: "always-fails"}); err == nil {
		t.Fatal("failing job: want error")
	}
	got, err := db.ScheduleRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range got {
		status[r.Name] = r.LastStatus + "|" + r.LastError
		if r.LastFinishedAt == nil {
			t.Errorf("%s: no finish time", r.Name)
		}
	}
	if status["outbox-sweep"] != "succeeded|" || status["always-fails"] != "failed|upstream said no" {
		t.Fatalf("schedule runs: %v", status)
	}

	res, err = reg.Invoke(ctx, jobs.Invocation{Command: "hello", Args: []string{"operator"}})
	if err != nil || res.Output != "hello operator" {
		t.Fatalf("command: %+v, %v", res, err)
	}
	for _, bad := range []jobs.Invocation{{}, {Job: "nope"}, {Command: "nope"}, {Job: "outbox-sweep", Command: "hello"}} {
		if _, err := reg.Invoke(ctx, bad); err == nil {
			t.Errorf("invoke %+v: want error", bad)
		}
	}
}
