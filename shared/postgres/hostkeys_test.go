package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/gitrepo"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/postgres/pgtest"
)

// The durable store behind SSH trust on first use: nothing pinned loads as
// nil, the first pin wins, repeating it is harmless, a different key for a
// pinned host is refused, and the pin survives a new store over the same
// database (a new function instance).
func TestSSHHostKeysPinOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var store gitrepo.HostKeyStore = db.SSHHostKeys() // it is the publisher's store
	const host = "git.example.org:22"
	first := []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFirstKeyFirstKeyFirstKeyFirstKeyFirstKe\n")
	other := []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherK\n")
	if k, err := store.Load(ctx, host); err != nil || k != nil {
		t.Fatalf("unpinned host: %q, %v", k, err)
	}
	if err := store.Save(ctx, host, first); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, host, first); err != nil {
		t.Fatalf("repeating the pin: %v", err)
	}
	if err := store.Save(ctx, host, other); !errors.Is(err, postgres.ErrHostKeyPinnedElsewhere) {
		t.Fatalf("a different key for a pinned host: %v", err)
	}
	if k, err := db.SSHHostKeys().Load(ctx, host); err != nil || string(k) != string(first) {
		t.Fatalf("pin after a new store: %q, %v", k, err)
	}
}
