package web

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
)

// Page is what every page shows around its content. Each page's data type
// embeds it.
type Page struct {
	Title string
	// Nav names the active navigation entry: "dashboard" or "customers".
	Nav string
	// AuthEnabled is false when auth.password_hash is empty: every page
	// then carries a warning banner.
	AuthEnabled bool
	// LoggedIn is true when the request carries a valid session (or the
	// login is disabled); the navigation shows only then.
	LoggedIn bool
	Flash    *Flash
	Version  string
	// Template is the controller.yaml template in use; nil when unknown
	// or nobody is logged in.
	Template *TemplateView
	// Operator is the logged-in account ("" without a login); CanAct is
	// false for a viewer, whose pages show no action control and no
	// secret; Admin shows the Users page.
	Operator string
	CanAct   bool
	// Mail warns that mail is not set up; nil when it is.
	Mail *MailBanner
}

// page builds the common part of a page and takes the pending flash.
func (s *Server) page(w http.ResponseWriter, r *http.Request, title, nav string) Page {
	p := Page{
		Title:       title,
		Nav:         nav,
		AuthEnabled: s.authEnabled(r.Context()),
		CanAct:      canAct(r.Context()),
		LoggedIn:    isLoggedIn(r.Context()),
		Flash:       s.takeFlash(w, r),
		Version:     s.Version,
	}
	if p.LoggedIn {
		p.Template = s.templateView()
		p.Mail = s.mailBanner()
	}
	if o := operatorOf(r.Context()); o != nil {
		p.Operator = o.Name
	}
	return p
}

type actorKey struct{}

// withActor marks the request's context as coming from a logged-in
// operator, named actor in the audit log.
func withActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// actorOf returns who the request acts as; "" when nobody is logged in.
func actorOf(ctx context.Context) string {
	v, _ := ctx.Value(actorKey{}).(string)
	return v
}

func isLoggedIn(ctx context.Context) bool { return actorOf(ctx) != "" }

// Flash is a one-time message shown on the page after a redirect.
type Flash struct {
	// Kind is "ok" or "error".
	Kind    string
	Message string
}

const (
	flashCookie   = "hub_flash"
	maxFlashBytes = 500
)

// setFlash stores a message for the next page the browser shows.
func (s *Server) setFlash(w http.ResponseWriter, r *http.Request, kind, message string) {
	if len(message) > maxFlashBytes {
		message = strings.ToValidUTF8(message[:maxFlashBytes-3], "") + "..."
	}
	http.SetCookie(w, &http.Cookie{
		Name:     flashCookie,
		Value:    base64.RawURLEncoding.EncodeToString([]byte(kind + "\n" + message)),
		Path:     "/",
		MaxAge:   120,
		HttpOnly: true,
		Secure:   s.secureCookies(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// takeFlash returns the pending message, if any, and clears it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) *Flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	kind, message, ok := strings.Cut(string(raw), "\n")
	if !ok || (kind != "ok" && kind != "error") || message == "" || len(message) > maxFlashBytes {
		return nil
	}
	return &Flash{Kind: kind, Message: message}
}

// redirectWithFlash ends a form post: a 303 to the page that shows the result.
func (s *Server) redirectWithFlash(w http.ResponseWriter, r *http.Request, to, kind, message string) {
	s.setFlash(w, r, kind, message)
	http.Redirect(w, r, to, http.StatusSeeOther)
}
