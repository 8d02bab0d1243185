// Package apperr classifies domain errors by kind, so each adapter can map
// an error to a response in one place (HTTP status, job retry policy)
// without knowing the package that produced it.
//
// A Kind is itself an error, so errors.Is works on kinds directly:
//
//	var ErrIllegalTransition = apperr.New(apperr.Conflict, "illegal transition")
//	errors.Is(err, ErrIllegalTransition) // the domain sentinel
//	errors.Is(err, apperr.Conflict)      // its kind
//	apperr.KindOf(err) == apperr.Conflict
//
// A domain error type can also classify itself by unwrapping to a Kind (as
// advisory.ValidationError unwraps to Invalid).
package apperr

import "errors"

// Kind is a class of failure. The zero value means "unclassified" (an
// internal error).
type Kind int

const (
	NotFound        Kind = iota + 1 // the thing does not exist or is not visible
	Forbidden                       // authenticated, but not allowed
	Unauthenticated                 // no (valid) identity
	Conflict                        // the current state forbids the change
	Invalid                         // the input is malformed
)

var kindNames = [...]string{
	0:               "internal",
	NotFound:        "not found",
	Forbidden:       "forbidden",
	Unauthenticated: "unauthenticated",
	Conflict:        "conflict",
	Invalid:         "invalid",
}

// Error returns the kind's name.
func (k Kind) Error() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "internal"
	}
	return kindNames[k]
}

// String returns the kind's name.
func (k Kind) String() string { return k.Error() }

// KindOf returns the first Kind found in err's chain, or 0 (unclassified)
// when there is none.
func KindOf(err error) Kind {
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	return 0
}

// Error is a classified error: a message, its kind and an optional cause.
// errors.Is matches both the kind and the cause.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // optional cause
}

// New returns a classified error; use it for domain sentinels.
func New(kind Kind, msg string) error { return &Error{Kind: kind, Msg: msg} }

// Wrap classifies err under kind with a message. It returns nil when err is
// nil.
func Wrap(kind Kind, msg string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Msg: msg, Err: err}
}

func (e *Error) Error() string {
	switch {
	case e.Msg == "" && e.Err == nil:
		return e.Kind.Error()
	case e.Err == nil:
		return e.Msg
	case e.Msg == "":
		return e.Err.Error()
	}
	return e.Msg + ": " + e.Err.Error()
}

// Unwrap exposes the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}
