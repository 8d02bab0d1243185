package pgembed

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Without PostgreSQL the caller gets one clear message saying what to
// install or to set DATABASE_URL.
func TestNotInstalledMessage(t *testing.T) {
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	_, err := findBinaries(none, filepath.Join(t.TempDir(), "*", "bin"))
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	// A directory that lacks one of the three binaries does not count.
	dir := filepath.Join(t.TempDir(), "16", "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"initdb", "pg_ctl"} {
		if err := os.WriteFile(filepath.Join(dir, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := findBinaries(none, filepath.Join(filepath.Dir(filepath.Dir(dir)), "*", "bin")); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("incomplete install accepted: %v", err)
	}
}

// A cluster starts, is found running again by a second Start on the same
// directory (the shim restarted), and stops.
func TestStartReuseStop(t *testing.T) {
	if _, err := FindBinaries(); err != nil {
		t.Fatal(err) // the machine must have PostgreSQL: fail loudly, never skip
	}
	dir, err := os.MkdirTemp("", "ahpgembed")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := Start(ctx, Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	url, err := c.EnsureDatabase(ctx, "someapp", "somedb")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.EnsureDatabase(ctx, "someapp", "somedb"); err != nil || again != url {
		t.Fatalf("EnsureDatabase not idempotent: %q %v", again, err)
	}
	c2, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c2.started {
		t.Fatal("second Start started a second server instead of reusing the running one")
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if c.running(ctx) {
		t.Fatal("still running after Stop")
	}
}
