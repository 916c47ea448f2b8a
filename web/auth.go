package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	hub "github.com/felhom/hub"
	"golang.org/x/crypto/bcrypt"
)

// sessionCookie holds the session token: 32 random bytes, base64url. The
// hub stores only its SHA-256.
const sessionCookie = "hub_session"

// authEnabled is false when no password hash is configured: the dashboard
// is then open to anyone who can reach it, and every page says so.
func (s *Server) authEnabled() bool { return s.PasswordHash != "" }

// requireLogin lets the request through with a valid session and sends the
// browser to the login page otherwise. The request's context names the
// session as the actor of what the request does.
func (s *Server) requireLogin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authEnabled() {
			next(w, r.WithContext(withActor(r.Context(), actorNoLogin)))
			return
		}
		sess, err := s.validSession(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if sess == nil {
			s.clearSessionCookie(w, r)
			s.redirectToLogin(w, r)
			return
		}
		next(w, r.WithContext(withActor(r.Context(), sessionActor(sess))))
	}
}

// validSession returns the live session the request's cookie names, or nil.
func (s *Server) validSession(r *http.Request) (*hub.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := s.Sessions.FindSessionByTokenHash(r.Context(), hub.HashSecret(c.Value))
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
		return nil, nil
	case err != nil:
		return nil, err
	}
	if sess.Expired(s.Now()) {
		return nil, nil
	}
	return sess, nil
}

// The audit log's actors for dashboard actions: "dashboard:" and the first
// 8 hex characters of the session's token hash, which tell one login from
// another and cannot be turned back into the token; "dashboard" alone when
// the login is disabled.
const (
	actorNoLogin     = "dashboard"
	actorHashPrefix  = 8
	actorSessionPart = "dashboard:"
)

// sessionActor names a session in the audit log.
func sessionActor(sess *hub.Session) string {
	h := sess.TokenHash
	if len(h) > actorHashPrefix {
		h = h[:actorHashPrefix]
	}
	return actorSessionPart + h
}

// redirectToLogin sends a page request to /login, remembering where it
// was going; an htmx request gets a header that makes htmx load the login
// page instead of swapping it into a fragment.
func (s *Server) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	to := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// LoginPage is the login form.
type LoginPage struct {
	Page
	Next  string
	Error string
}

func (s *Server) handleLoginShow(w http.ResponseWriter, r *http.Request) {
	if !s.authEnabled() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if sess, err := s.validSession(r); err == nil && sess != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, message string) {
	s.render(w, r, status, "login", "", &LoginPage{
		Page:  s.page(w, r, "Log in", ""),
		Next:  safeNext(next),
		Error: message,
	})
}

func (s *Server) handleLoginCreate(w http.ResponseWriter, r *http.Request) {
	if !s.authEnabled() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	next := r.PostForm.Get("next")
	address := hub.ClientKey(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.TrustedProxies)
	now := s.Now()
	if !s.allowLogin(r.Context(), address, operatorAccount) {
		s.Logger.Warn("login throttled", "remote", address)
		w.Header().Set("Retry-After", "60")
		s.renderLogin(w, r, http.StatusTooManyRequests, next, "Too many login attempts. Wait a minute, then try again.")
		return
	}
	password := r.PostForm.Get("password")
	if bcrypt.CompareHashAndPassword([]byte(s.PasswordHash), []byte(password)) != nil {
		s.Logger.Warn("login failed", "remote", address)
		s.renderLogin(w, r, http.StatusUnauthorized, next, "Wrong password.")
		return
	}
	// A fresh token at every login: a token planted before the login
	// (session fixation) never becomes a logged-in session.
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.Sessions.DeleteSession(r.Context(), hub.HashSecret(c.Value)); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	token, err := s.createSession(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(s.SessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   s.secureCookies(r),
		SameSite: http.SameSiteLaxMode,
	})
	if n, err := s.Sessions.DeleteExpiredSessions(r.Context(), now); err != nil {
		s.Logger.Error("delete expired sessions", slog.Any("error", err))
	} else if n > 0 {
		s.Logger.Info("expired sessions deleted", "count", n)
	}
	s.Logger.Info("login", "remote", address)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// createSession stores a new session and returns its token.
func (s *Server) createSession(ctx context.Context) (string, error) {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.Now().UTC()
	err := s.Sessions.CreateSession(ctx, &hub.Session{
		TokenHash: hub.HashSecret(token),
		CreatedAt: now,
		ExpiresAt: now.Add(s.SessionTTL),
	})
	return token, err
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.Sessions.DeleteSession(r.Context(), hub.HashSecret(c.Value)); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w, r)
	if !s.authEnabled() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.redirectWithFlash(w, r, "/login", "ok", "You are logged out.")
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(sessionCookie); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
}

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
