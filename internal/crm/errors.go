package crm

import (
	"errors"
	"fmt"
)

// Code classifies an error so that every surface maps it the same way
// (HTTP status in the API, a message beside a field on a page, an exit code in the CLI).
type Code string

const (
	CodeInvalid      Code = "invalid"
	CodeNotFound     Code = "not_found"
	CodeForbidden    Code = "forbidden"
	CodeConflict     Code = "conflict"
	CodeUnauthorized Code = "unauthorized"
	CodeRateLimited  Code = "rate_limited"
	CodeInternal     Code = "internal"
)

// Error is a domain error: a code, a message a person can read, and the field it
// concerns when there is one (so a form can show it beside that field).
type Error struct {
	Code    Code
	Message string
	Field   string
	Err     error // wrapped cause, never shown to users
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for any not_found Error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Field == "" && t.Code == e.Code
}

// Sentinel errors for errors.Is; they match any Error of the same code.
var (
	ErrNotFound     = &Error{Code: CodeNotFound}
	ErrConflict     = &Error{Code: CodeConflict}
	ErrForbidden    = &Error{Code: CodeForbidden}
	ErrInvalid      = &Error{Code: CodeInvalid}
	ErrUnauthorized = &Error{Code: CodeUnauthorized}
)

// Invalid reports a bad value of one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing thing, e.g. NotFound("customer").
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// Forbidden reports a refused action with the reason.
func Forbidden(format string, args ...any) *Error {
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf(format, args...)}
}

// Conflict reports a clash with the current state, with the reason.
func Conflict(format string, args ...any) *Error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err, or CodeInternal for errors that are not domain errors.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var fe FieldErrors
	if errors.As(err, &fe) {
		return CodeInvalid
	}
	return CodeInternal
}

// FieldErrors collects several invalid fields so a form can show them all at once.
type FieldErrors []*Error

func (fe FieldErrors) Error() string {
	if len(fe) == 0 {
		return "invalid input"
	}
	return fe[0].Error()
}

// Add records an invalid field.
func (fe *FieldErrors) Add(field, format string, args ...any) {
	*fe = append(*fe, Invalid(field, format, args...))
}

// Err returns nil when nothing was recorded.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Is makes FieldErrors match ErrInvalid.
func (fe FieldErrors) Is(target error) bool { return target == ErrInvalid }

// For returns the message for one field, or "".
func (fe FieldErrors) For(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}
