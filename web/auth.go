package web

import (
	"net/http"
	"net/url"
	"strings"

	hub "github.com/felhom/hub"
)

// sessionCookie holds the session token: 32 random bytes, base64url. The
// hub stores only its SHA-256.
const sessionCookie = "hub_session"

// The login, the sessions and the roles are in operators.go.

// safeNext returns next when it is a plain path on this site, "/"
// otherwise, so that the login form cannot send the browser to another
// site. Nothing is stripped or repaired: a browser drops tabs and newlines
// from a URL and reads "\" as "/", so "/\t/evil.example/" would turn into
// "//evil.example/" there; anything unusual is refused as a whole. Accepted:
// printable ASCII only, a single leading "/", no "\", no empty, "." or ".."
// path segments (before or after percent-decoding), no scheme, host or user
// after parsing, and not the login page itself.
func safeNext(next string) string {
	if !isSiteLocalPath(next) {
		return "/"
	}
	return next
}

// isSiteLocalPath reports whether next passes the rules of safeNext.
func isSiteLocalPath(next string) bool {
	if len(next) < 1 || next[0] != '/' {
		return false
	}
	for i := 0; i < len(next); i++ {
		// Control characters, space, DEL and every non-ASCII byte (the
		// unicode slashes and spaces among them).
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") {
		return false
	}
	// u.Path is percent-decoded: "/%2f%2fevil" and "/%09/evil" are judged
	// as what a decoding proxy would make of them.
	if !plainPath(u.Path) || !plainPath(u.EscapedPath()) {
		return false
	}
	return !strings.HasPrefix(u.Path, "/login")
}

// plainPath reports whether p, which starts with "/", is printable ASCII
// without space or backslash and has no empty, "." or ".." segment (a
// trailing "/" is allowed). The hub's own paths never need more.
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	segments := strings.Split(p[1:], "/")
	for i, seg := range segments {
		if seg == "." || seg == ".." || (seg == "" && i != len(segments)-1) {
			return false
		}
	}
	return true
}

// maxFormBytes bounds the body of every dashboard form: room for the
// overrides YAML (64 KiB) URL-encoded.
const maxFormBytes = 256 << 10

// parseForm reads a form body of at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return hub.Errorf(hub.EINVALID, "The form could not be read.")
	}
	return nil
}
