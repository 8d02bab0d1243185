package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SSHHostKeys keeps the pinned SSH host key of each publication host in
// PostgreSQL: trusted on first use by one publish, then required by every
// later one, whichever function instance runs it. It satisfies
// gitrepo.HostKeyStore.
type SSHHostKeys struct{ db *DB }

// SSHHostKeys returns the durable host-key store.
func (db *DB) SSHHostKeys() *SSHHostKeys { return &SSHHostKeys{db: db} }

// Load returns the key pinned for host, or nil when none is.
func (s *SSHHostKeys) Load(ctx context.Context, host string) ([]byte, error) {
	var key string
	err := s.db.QueryRow(ctx, `SELECT public_key FROM publication_ssh_host_keys WHERE host = $1`, host).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load pinned host key of %s: %w", host, err)
	}
	return []byte(key), nil
}

// ErrHostKeyPinnedElsewhere is returned by Save when another publish pinned
// a different key for the host first.
var ErrHostKeyPinnedElsewhere = errors.New("a different host key was pinned first")

// Save pins key for host. The first pin wins and is never overwritten: a
// concurrent first use that saw another key gets ErrHostKeyPinnedElsewhere.
func (s *SSHHostKeys) Save(ctx context.Context, host string, key []byte) error {
	tag, err := s.db.Exec(ctx, `INSERT INTO publication_ssh_host_keys (host, public_key) VALUES ($1, $2)
		ON CONFLICT (host) DO NOTHING`, host, string(key))
	if err != nil {
		return fmt.Errorf("pin host key of %s: %w", host, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	pinned, err := s.Load(ctx, host)
	if err != nil {
		return err
	}
	if !bytes.Equal(bytes.TrimSpace(pinned), bytes.TrimSpace(key)) {
		return fmt.Errorf("pin host key of %s: %w", host, ErrHostKeyPinnedElsewhere)
	}
	return nil
}
