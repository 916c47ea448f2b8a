package hub

import (
	"errors"
	"fmt"
)

// Error codes shared by every package. The HTTP layer maps each to a status.
const (
	EINVALID      = "invalid"      // the caller sent something malformed
	ENOTFOUND     = "not_found"    // the thing does not exist
	EUNAUTHORIZED = "unauthorized" // no or unknown credentials
	EFORBIDDEN    = "forbidden"    // known credentials, not allowed for this
	ECONFLICT     = "conflict"     // it exists already / state does not allow it
	ETOOLARGE     = "too_large"    // a body over its limit
	ETOOMANY      = "too_many"     // rate limited
	EUNAVAILABLE  = "unavailable"  // a dependency (database, disk) cannot serve now
	EINTERNAL     = "internal"     // a hub fault; the message is never shown to clients
)

// Error is a domain error: a code and a message safe to show to the caller.
type Error struct {
	Code    string
	Message string
	// Err is the underlying cause, for logs only: it is never shown to
	// clients.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("hub error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("hub error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Unavailable wraps a cause as EUNAVAILABLE: a dependency that cannot serve
// now (a full disk, a locked database) and may later.
func Unavailable(cause error, format string, args ...any) *Error {
	return &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf(format, args...), Err: cause}
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic text for internal errors so that their details never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// EUPSTREAM marks a failure of a system the hub called on the caller's
// behalf (a controller): the HTTP layer answers 502.
const EUPSTREAM = "upstream"
