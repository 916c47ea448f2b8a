package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
)

// RequestIDHeader carries a request's id: taken from the client (an
// ingress sets one) when it is sane, minted otherwise, and echoed in the
// response and the request's log line.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an accepted id: a UUID is 36, nginx's $request_id 32.
const maxRequestIDLen = 64

// requestID returns the id of r: its X-Request-Id when sane, else a new one.
func requestID(r *http.Request) string {
	if id := r.Header.Get(RequestIDHeader); saneRequestID(id, r) {
		return id
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// saneRequestID accepts 1 to 64 letters, digits and ". _ - :", and never
// one that holds a credential of the same request (or part of one): the
// id is written to the log, where no secret may go.
func saneRequestID(id string, r *http.Request) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	for _, secret := range []string{strings.TrimSpace(bearer), r.Header.Get("X-Retrieval-Password")} {
		if len(secret) >= 8 && strings.Contains(id, secret) {
			return false
		}
		if len(id) >= 8 && strings.Contains(secret, id) {
			return false
		}
	}
	return true
}
