// Package web serves the operator's dashboard: server-rendered pages,
// login sessions, CSRF protection and the embedded templates and assets.
package web

import (
	"context"
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
	// Alerts reads silences and open problems, AlertActions silences and
	// acknowledges (alerting.go); without them those pages say so.
	Alerts       hub.AlertService
	AlertActions AlertActions
	// Noise lists open fleet incidents and flapping nodes for the Alerts
	// page; nil leaves them out.
	Noise NoiseReader

	// Operators holds the accounts; Tokens the API tokens (the Users page
	// makes and revokes them); Audit hears of logins.
	Operators hub.OperatorService
	Tokens    hub.TokenService
	Audit     hub.AuditService
	// PasswordHash is auth.password_hash, the built-in account admin:
	// Handler makes the account match it (removed when empty).
	PasswordHash string
	// RequireTOTP makes every operator set up a second factor first.
	RequireTOTP bool
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
	// DR feeds the disaster-recovery page and section; optional.
	DR DRPlug

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
	if s.Customers == nil || s.Reports == nil || s.History == nil || s.Sessions == nil || s.RateLimits == nil || s.Actions == nil || s.Logger == nil || s.Now == nil ||
		s.Operators == nil || s.Tokens == nil {
		return nil, errors.New("web: Customers, Reports, History, Sessions, RateLimits, Actions, Operators, Tokens, Logger and Now are required")
	}
	if ok, err := s.Operators.SyncBuiltinOperator(context.Background(), s.PasswordHash); err != nil {
		return nil, err
	} else if !ok {
		s.Logger.Warn("auth.password_hash is ignored: an operator account named admin was made by hand")
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
	for _, rt := range s.Routes() {
		mux.HandleFunc(rt.Pattern, s.guard(rt))
	}
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
