// Package httpx holds what the API and the dashboard share about HTTP: the
// one map from domain error codes to statuses, and the one response
// wrapper that remembers what was written.
package httpx

import (
	"net/http"

	hub "github.com/felhom/hub"
)

// statuses maps domain error codes to HTTP statuses.
var statuses = map[string]int{
	hub.EINVALID:      http.StatusBadRequest,
	hub.ENOTFOUND:     http.StatusNotFound,
	hub.EUNAUTHORIZED: http.StatusUnauthorized,
	hub.EFORBIDDEN:    http.StatusForbidden,
	hub.ECONFLICT:     http.StatusConflict,
	hub.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hub.ETOOMANY:      http.StatusTooManyRequests,
	hub.EUNAVAILABLE:  http.StatusServiceUnavailable,
	hub.EINTERNAL:     http.StatusInternalServerError,
	hub.EUPSTREAM:     http.StatusBadGateway,
}

// Status returns the HTTP status for err: its code's, 500 for anything
// that is not a domain error.
func Status(err error) int {
	if status, ok := statuses[hub.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// Recorder wraps a ResponseWriter and remembers the status and the size of
// what was written.
type Recorder struct {
	http.ResponseWriter
	// Status is the status written, 0 before anything was.
	Status int
	// Bytes counts the body bytes written.
	Bytes int64
}

// WriteHeader records the first status.
func (r *Recorder) WriteHeader(status int) {
	if r.Status == 0 {
		r.Status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

// Write records an implicit 200 and the bytes written.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.Bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
