package maestro

import (
	"errors"
	"fmt"
)

// ErrorKind classifies an error for the edges: the CLI maps kinds to exit codes,
// the server to HTTP statuses. Library code wraps errors with context and never
// decides exit codes itself.
type ErrorKind int

// Error kinds.
const (
	KindInternal    ErrorKind = iota
	KindInvalid               // bad input: a file, flag or field is wrong
	KindNotFound              // a named thing does not exist
	KindConflict              // the thing exists already or changed meanwhile
	KindUnavailable           // a remote service could not be reached
)

// Error is an error with a kind and a message meant for a person.
type Error struct {
	Kind ErrorKind
	Msg  string // the whole message, including the cause's text
	Err  error  // the cause, for errors.Is and errors.As
}

func (e *Error) Error() string { return e.Msg }

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error of kind k with a formatted message. A %w verb wraps its
// operand as the cause.
func Errorf(k ErrorKind, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: k, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// KindOf returns the kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
