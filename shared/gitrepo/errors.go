package gitrepo

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/redact"
)

// The kinds of failure a publication can meet. An *Error unwraps to exactly
// one of them (or to a context error), so the worker can tell a retryable
// fault from a permanent one with errors.Is, and record a readable reason.
var (
	// ErrConfig: the repository configuration is unusable (INV-PUB-2).
	ErrConfig = apperr.New(apperr.Invalid, "invalid publication repository configuration")
	// ErrPath: a file path or path template is not a safe relative path
	// inside the publication tree (INV-PUB-8).
	ErrPath = apperr.New(apperr.Invalid, "refusing to write outside the publication tree")
	// ErrNonFastForward: the branch moved on the remote between fetch and
	// push (another publisher won). Nothing was changed; retry the whole
	// publication.
	ErrNonFastForward = apperr.New(apperr.Conflict, "push rejected: the branch moved on the remote (non-fast-forward); retry")
	// ErrRejected: the remote refused the push for another reason (a hook,
	// branch protection).
	ErrRejected = errors.New("push rejected by the remote")
	// ErrAuth: the remote refused the credentials.
	ErrAuth = errors.New("authentication to the publication repository failed")
	// ErrHostKey: the SSH host key differs from the pinned one.
	ErrHostKey = errors.New("SSH host key does not match the pinned key")
	// ErrUnreachable: the remote could not be reached (DNS, refused
	// connection, timeout, broken connection).
	ErrUnreachable = errors.New("publication repository unreachable")
	// ErrNotFound: the remote answered but has no such repository.
	ErrNotFound = errors.New("publication repository not found")
	// ErrProtocol: anything else that went wrong talking to the remote.
	ErrProtocol = errors.New("git protocol error")
)

// Error is a classified, redacted publication failure. Error() never
// contains the token, the SSH key or URL credentials: the underlying cause
// is kept only as redacted text, never as a value.
type Error struct {
	Op     string // clone, push, config, ...
	Kind   error  // one of the Err* sentinels, or context.Canceled / DeadlineExceeded
	Detail string // redacted detail from the transport or the remote; may be empty
}

func (e *Error) Error() string {
	msg := e.Op + ": " + e.Kind.Error()
	if e.Detail != "" && e.Detail != e.Kind.Error() {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap exposes the kind to errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

// Retryable reports whether err is worth retrying as is: a lost race on the
// branch, an unreachable remote, a timeout or an unclassified failure. Bad
// configuration, credentials, host keys or paths are not.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	for _, permanent := range []error{ErrConfig, ErrPath, ErrAuth, ErrHostKey, ErrNotFound, ErrRejected, context.Canceled} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	return true
}

// secrets holds the literal secrets that must never appear in an error.
type secrets []string

func (s secrets) redact(text string) string {
	return redact.Literals(text, s...)
}

// classify turns a transport error into an *Error for op.
func (s secrets) classify(ctx context.Context, op string, err error) error {
	var ge *Error
	if errors.As(err, &ge) {
		return &Error{Op: ge.Op, Kind: ge.Kind, Detail: s.redact(ge.Detail)}
	}
	kind := kindOf(err)
	if ctxErr := ctx.Err(); ctxErr != nil && (kind == ErrUnreachable || kind == ErrProtocol) {
		kind = ctxErr
	}
	return &Error{Op: op, Kind: kind, Detail: strings.TrimRight(s.redact(err.Error()), ": ")}
}

func kindOf(err error) error {
	var (
		netErr  net.Error
		opErr   *net.OpError
		dnsErr  *net.DNSError
		keyErr  *hostKeyError
		exitErr *ssh.ExitError
	)
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.As(err, &keyErr):
		return ErrHostKey
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		strings.Contains(msg, "unable to authenticate"),
		strings.Contains(msg, "permission denied"),
		strings.Contains(msg, "authentication failed"):
		return ErrAuth
	case errors.Is(err, transport.ErrRepositoryNotFound),
		strings.Contains(msg, "does not appear to be a git repository"),
		strings.Contains(msg, "not a git repository"):
		return ErrNotFound
	case errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.As(err, &netErr),
		strings.Contains(msg, "connection refused"),
		strings.Contains(msg, "connection reset"),
		strings.Contains(msg, "no such host"):
		return ErrUnreachable
	case errors.As(err, &exitErr):
		return ErrProtocol
	}
	return ErrProtocol
}

// rejection classifies a refused reference update from its status text.
func rejection(status string) error {
	s := strings.ToLower(status)
	for _, moved := range []string{"non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref", "stale info", "failed to lock"} {
		if strings.Contains(s, moved) {
			return ErrNonFastForward
		}
	}
	return ErrRejected
}
