// Package queue defines the messages that carry background jobs between the
// functions, and the Sender boundary that the two transports (SQS and the
// in-memory queue of the local shim) implement.
//
// Use cases never send directly: they write an outbox row in the same
// transaction as the change that causes the job (INV-PUB-5), and the outbox
// dispatcher hands the row to a Sender after commit. Delivery is therefore at
// least once; handlers are idempotent on Message.ID.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Name is a logical queue. Each worker function consumes exactly one.
type Name string

const (
	Publish    Name = "publish"
	Notify     Name = "notify"
	Similarity Name = "similarity"
)

// Names lists every logical queue, in a fixed order.
func Names() []Name { return []Name{Publish, Notify, Similarity} }

// Valid reports whether n is a known queue.
func (n Name) Valid() bool {
	for _, k := range Names() {
		if n == k {
			return true
		}
	}
	return false
}

// Kind names a job type, e.g. "publication.run".
type Kind string

// Message is one job. ID is unique per logical message and is the
// idempotency key: a redelivery of the same message carries the same ID.
type Message struct {
	ID      string          `json:"id"`
	Queue   Name            `json:"queue"`
	Kind    Kind            `json:"kind"`
	Payload json.RawMessage `json:"payload,omitempty"`

	// Attempt is the delivery count of this receipt (1 on first delivery),
	// filled in by the transport on receive; it is not serialised.
	Attempt int `json:"-"`
}

// Validate checks the fields every transport relies on.
func (m Message) Validate() error {
	var errs []error
	if m.ID == "" {
		errs = append(errs, errors.New("queue message: id is required"))
	}
	if !m.Queue.Valid() {
		errs = append(errs, fmt.Errorf("queue message: unknown queue %q", m.Queue))
	}
	if m.Kind == "" {
		errs = append(errs, errors.New("queue message: kind is required"))
	}
	if len(m.Payload) > 0 && !json.Valid(m.Payload) {
		errs = append(errs, errors.New("queue message: payload is not valid JSON"))
	}
	return errors.Join(errs...)
}

// Sender delivers messages to a transport. Implementations: sqsqueue.Sender
// and memqueue.Queue.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Handler processes one delivered message. Returning an error asks the
// transport to redeliver, unless the error is Permanent.
type Handler func(ctx context.Context, m Message) error

type permanentError struct{ err error }

func (e permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks a job failure that must not be retried: the message goes
// straight to the failed-jobs record instead of being redelivered.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
