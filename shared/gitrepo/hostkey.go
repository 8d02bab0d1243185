package gitrepo

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// HostKeyStore keeps the pinned SSH host key of each publication host
// (trust on first use, then pinned). Publish is stateless, so the pin must
// live somewhere durable: the worker backs this with the repository
// configuration row (or another table), never with a file in the function's
// scratch space.
//
// Keys are exchanged in authorized_keys form ("ssh-ed25519 AAAA…\n"),
// which is text and safe to store in a varchar column. host is "host:port"
// as dialled. Load returns (nil, nil) when nothing is pinned yet.
type HostKeyStore interface {
	Load(ctx context.Context, host string) ([]byte, error)
	Save(ctx context.Context, host string, key []byte) error
}

// MemoryHostKeys is a HostKeyStore in memory, for tests and local runs.
type MemoryHostKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// Load returns the pinned key of host, or nil.
func (m *MemoryHostKeys) Load(_ context.Context, host string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.keys[host]), nil
}

// Save pins key for host.
func (m *MemoryHostKeys) Save(_ context.Context, host string, key []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string][]byte{}
	}
	m.keys[host] = bytes.Clone(key)
	return nil
}

// hostKeyError reports a host key that differs from the pinned one.
type hostKeyError struct {
	host          string
	pinned, found string // fingerprints
}

func (e *hostKeyError) Error() string {
	return fmt.Sprintf("host key of %s changed: pinned %s, offered %s", e.host, e.pinned, e.found)
}

// pinnedHostKey returns the HostKeyCallback for one publish call: trust
// the first key seen for host and save it, then accept only that key. It
// also returns the host key algorithms to negotiate, so that a host with
// several keys is always asked for the pinned one.
func pinnedHostKey(ctx context.Context, store HostKeyStore, host string) (ssh.HostKeyCallback, []string, error) {
	raw, err := store.Load(ctx, host)
	if err != nil {
		return nil, nil, fmt.Errorf("load pinned host key: %w", err)
	}
	var pinned ssh.PublicKey
	if len(raw) > 0 {
		if pinned, _, _, _, err = ssh.ParseAuthorizedKey(raw); err != nil {
			return nil, nil, fmt.Errorf("parse pinned host key of %s: %w", host, err)
		}
	}
	cb := func(_ string, _ net.Addr, key ssh.PublicKey) error {
		if pinned == nil {
			if err := store.Save(ctx, host, ssh.MarshalAuthorizedKey(key)); err != nil {
				return fmt.Errorf("pin host key: %w", err)
			}
			pinned = key
			return nil
		}
		if !bytes.Equal(pinned.Marshal(), key.Marshal()) {
			return &hostKeyError{host: host, pinned: ssh.FingerprintSHA256(pinned), found: ssh.FingerprintSHA256(key)}
		}
		return nil
	}
	return cb, hostKeyAlgorithms(pinned), nil
}

// hostKeyAlgorithms lists the signature algorithms that produce a key of
// the pinned key's type (nil: let the client choose).
func hostKeyAlgorithms(k ssh.PublicKey) []string {
	if k == nil {
		return nil
	}
	switch t := k.Type(); t {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	default:
		return []string{t}
	}
}
