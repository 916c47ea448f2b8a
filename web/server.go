// Package web serves the operator's dashboard: server-rendered pages,
// login sessions, CSRF protection and the embedded templates and assets.
package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// Server holds what the dashboard needs. Set the fields, then call Handler.
type Server struct {
	Customers CustomerReader
	Reports   ReportReader
	// History and Tiers draw the history chart, read as the API reads it.
	History  hub.HistoryService
	Tiers    hub.HistoryTiers
	Sessions hub.SessionService
	// RateLimits keeps the login throttle's counts, shared by every
	// replica of the hub.
	RateLimits hub.RateLimitService
	// Actions changes configs, audited; *fleet.Service.
	Actions Actions

	// PasswordHash is auth.password_hash; empty disables the login.
	PasswordHash string
	// SessionTTL is how long a login lasts (auth.session_ttl).
	SessionTTL time.Duration
	// PublicURL is server.public_url: an https URL makes cookies Secure,
	// its origin is trusted for form posts, and it is shown in setup steps.
	PublicURL string
	// TrustedOrigins are extra origins allowed to post forms
	// (server.trusted_origins), for a proxy that rewrites Host.
	TrustedOrigins []string
	// TrustedProxies may set X-Forwarded-For (server.trusted_proxies): the
	// login throttle counts the client behind them, not the proxy.
	TrustedProxies []netip.Prefix

	Thresholds hub.Thresholds
	// KeyRotationGrace is how long a rotated-out customer key stays valid
	// (api.key_rotation_grace), for the page's advice.
	KeyRotationGrace time.Duration
	// HostThresholds are the host agents' staleness thresholds; zero
	// means the node defaults.
	HostThresholds hub.Thresholds
	Version        string
	// Location is the time zone of the times on the pages; nil means UTC.
	Location *time.Location
	Logger   *slog.Logger
	Now      func() time.Time

	// Plugs are the optional providers of features built elsewhere.
	Plugs Plugs

	// Templates, when set, tells which controller.yaml template is in use:
	// every page shows it in its footer. Production (server.public_url
	// names a public host) adds a warning banner while that is the
	// built-in template.
	Templates  TemplateSource
	Production bool

	// Mail is how the hub sends mail: every page warns while mail goes
	// only to the log or no operator address is set. nil: not told.
	Mail *MailSetup
	// Registry tells how reading the registry goes, for the customer
	// page's "Latest" line; nil: not told.
	Registry RegistrySource
	// Backups is the backup checker's schedule: a backup older than it
	// allows is shown as overdue, never as ok.
	Backups hub.BackupSchedule

	templates *templates
	static    *staticFiles
}

// Handler prepares the templates and assets and returns the dashboard's
// handler. Mount it at "/": every path not taken by a more specific
// pattern (such as /api/) is the dashboard's.
func (s *Server) Handler() (http.Handler, error) {
	if s.Customers == nil || s.Reports == nil || s.History == nil || s.Sessions == nil || s.RateLimits == nil || s.Actions == nil || s.Logger == nil || s.Now == nil {
		return nil, errors.New("web: Customers, Reports, History, Sessions, RateLimits, Actions, Logger and Now are required")
	}
	if missing := s.Plugs.missing(); len(missing) > 0 {
		return nil, fmt.Errorf("web: Plugs %s are required", strings.Join(missing, ", "))
	}
	if s.Tiers == (hub.HistoryTiers{}) {
		s.Tiers = hub.DefaultHistoryTiers
	}
	if s.HostThresholds == (hub.Thresholds{}) {
		s.HostThresholds = s.Thresholds
	}
	if s.SessionTTL <= 0 {
		return nil, errors.New("web: SessionTTL must be positive")
	}
	if s.Location == nil {
		s.Location = time.UTC
	}
	var err error
	if s.static, err = loadStatic(); err != nil {
		return nil, err
	}
	if s.templates, err = parseTemplates(s.static); err != nil {
		return nil, err
	}

	csrf := http.NewCrossOriginProtection()
	origins := append([]string(nil), s.TrustedOrigins...)
	if s.PublicURL != "" {
		origins = append(origins, s.PublicURL)
	}
	for _, o := range origins {
		origin, err := originOf(o)
		if err != nil {
			return nil, err
		}
		if err := csrf.AddTrustedOrigin(origin); err != nil {
			return nil, err
		}
	}
	csrf.SetDenyHandler(http.HandlerFunc(s.handleCrossOriginRefused))
	return securityHeaders(csrf.Handler(s.routes())), nil
}

// routes is the dashboard's route table.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static/{name...}", s.handleStatic)
	mux.HandleFunc("GET /login", s.handleLoginShow)
	mux.HandleFunc("POST /login", s.handleLoginCreate)
	mux.HandleFunc("POST /logout", s.requireLogin(s.handleLogout))

	mux.HandleFunc("GET /{$}", s.requireLogin(s.handleDashboard))
	mux.HandleFunc("GET /fleet", s.requireLogin(s.handleFleetFragment))

	mux.HandleFunc("GET /configs", s.requireLogin(s.handleCustomerList))
	mux.HandleFunc("GET /configs/new", s.requireLogin(s.handleConfigNew))
	mux.HandleFunc("POST /configs", s.requireLogin(s.handleConfigCreate))
	mux.HandleFunc("GET /configs/{id}/edit", s.requireLogin(s.handleConfigEdit))
	mux.HandleFunc("POST /configs/{id}", s.requireLogin(s.handleConfigUpdate))

	mux.HandleFunc("GET /customers/{id}", s.requireLogin(s.handleCustomerShow))
	mux.HandleFunc("GET /customers/{id}/history", s.requireLogin(s.handleHistoryFragment))
	mux.HandleFunc("GET /customers/{id}/events", s.requireLogin(s.handleEventsFragment))
	mux.HandleFunc("POST /customers/{id}/create-config", s.requireLogin(s.handleCustomerCreateConfig))
	mux.HandleFunc("POST /customers/{id}/block", s.requireLogin(s.handleCustomerBlock))
	mux.HandleFunc("POST /customers/{id}/unblock", s.requireLogin(s.handleCustomerUnblock))
	mux.HandleFunc("POST /customers/{id}/rotate-key", s.requireLogin(s.handleCustomerRotateKey))
	mux.HandleFunc("POST /customers/{id}/delete", s.requireLogin(s.handleCustomerDelete))

	// Controller calls: 404 until Plugs.Controller is set.
	mux.HandleFunc("POST /customers/{id}/push-config", s.requireLogin(s.handleControllerPush))
	mux.HandleFunc("POST /customers/{id}/pull-config", s.requireLogin(s.handleControllerPull))
	mux.HandleFunc("POST /customers/{id}/diff", s.requireLogin(s.handleControllerDiff))
	mux.HandleFunc("POST /customers/{id}/update", s.requireLogin(s.handleControllerUpdate))

	mux.HandleFunc("/", s.requireLogin(s.handleNotFound))
	return mux
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// the pages carry no inline script or style, so the policy costs nothing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every dashboard response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// originOf returns the scheme://host[:port] of a URL.
func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("web: trusted origin " + raw + " is not an http(s) URL")
	}
	return u.Scheme + "://" + u.Host, nil
}

// secureCookies reports whether cookies must be marked Secure: the request
// came over TLS, or the hub is published under https.
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(s.PublicURL), "https://")
}

// hubURL is the base URL controllers use to reach the hub.
func (s *Server) hubURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
