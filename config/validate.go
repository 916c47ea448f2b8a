package config

import (
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FieldError names the setting that is wrong and why.
type FieldError struct {
	Key    string
	Reason string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Reason }

func bad(key, format string, args ...any) error {
	return &FieldError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks every setting and returns the first problem, naming its key.
func (c *Config) Validate() error {
	checks := []func() error{
		c.validateAuth, c.validateAPI, c.validateNotifications, c.validateRetention,
		c.validateAlerting, c.validateFollowUps, c.validateRegistry, c.validateServer, c.validateControllers,
		c.validateSecrets, c.validateDatabase, c.validateLog, c.validateNoise, c.validateDR,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateAuth() error {
	h := c.Auth.PasswordHash
	if h != "" && !(len(h) == 60 && (strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$"))) {
		return bad("auth.password_hash", "must be a bcrypt hash (make one with: hub hash-password)")
	}
	if c.Auth.SessionTTL.D() < time.Minute {
		return bad("auth.session_ttl", "must be at least 1m")
	}
	return nil
}

func (c *Config) validateAPI() error {
	if k := c.API.ReportAPIKey; k != "" && len(k) < 16 {
		return bad("api.report_api_key", "must be at least 16 characters")
	}
	if k := c.API.AdminAPIKey; k != "" && len(k) < 32 {
		return bad("api.admin_api_key", "must be at least 32 characters (make one with: head -c32 /dev/urandom | base64)")
	}
	if k := c.API.AdminAPIKey; k != "" && k == c.API.ReportAPIKey {
		return bad("api.admin_api_key", "must differ from api.report_api_key, which every manual node holds")
	}
	if g := c.API.KeyRotationGrace.D(); g < 0 || g > 30*24*time.Hour {
		return bad("api.key_rotation_grace", "must be between 0 and 720h (30 days)")
	}
	return nil
}

func (c *Config) validateNotifications() error {
	n := &c.Notifications
	switch n.Provider {
	case "", "log":
	case "resend":
		if n.ResendAPIKey == "" {
			return bad("notifications.resend_api_key", "is required when provider is resend")
		}
	case "smtp":
		if n.SMTP.Host == "" {
			return bad("notifications.smtp.host", "is required when provider is smtp")
		}
	default:
		return bad("notifications.provider", "must be log, resend or smtp")
	}
	if err := checkURL("notifications.resend_base_url", n.ResendBaseURL, true); err != nil {
		return err
	}
	if _, err := mail.ParseAddress(n.FromEmail); err != nil {
		return bad("notifications.from_email", "is not an email address")
	}
	if n.OperatorEmail != "" {
		if _, err := mail.ParseAddress(n.OperatorEmail); err != nil {
			return bad("notifications.operator_email", "is not an email address")
		}
	}
	if n.OperatorCooldown.D() < 0 {
		return bad("notifications.operator_cooldown", "must not be negative")
	}
	if n.DefaultCooldownHours < 0 || n.DefaultCooldownHours > 168 {
		return bad("notifications.default_cooldown_hours", "must be between 0 and 168")
	}
	if n.MaxAttempts < 1 || n.MaxAttempts > 100 {
		return bad("notifications.max_attempts", "must be between 1 and 100")
	}
	if n.SendConcurrency < 1 || n.SendConcurrency > 64 {
		return bad("notifications.send_concurrency", "must be between 1 and 64")
	}
	if t := n.SendTimeout.D(); t < time.Second || t > 10*time.Minute {
		return bad("notifications.send_timeout", "must be between 1s and 10m")
	}
	if n.SMTP.Port < 1 || n.SMTP.Port > 65535 {
		return bad("notifications.smtp.port", "must be between 1 and 65535")
	}
	switch n.SMTP.Security {
	case "starttls", "tls", "none":
	default:
		return bad("notifications.smtp.security", "must be starttls, tls or none")
	}
	return nil
}

func (c *Config) validateRetention() error {
	r := &c.Retention
	if r.MaxDays < 1 || r.MaxDays > 3650 {
		return bad("retention.max_days", "must be between 1 and 3650")
	}
	if r.FullDays < 1 || r.FullDays > r.MaxDays {
		return bad("retention.full_days", "must be between 1 and retention.max_days")
	}
	if _, err := ParseClock(r.PruneSchedule); err != nil {
		return bad("retention.prune_schedule", "%v", err)
	}
	return nil
}

func (c *Config) validateAlerting() error {
	a := &c.Alerting
	a.deriveDownThresholds()
	pairs := []struct {
		staleKey, downKey string
		stale, down       Duration
	}{
		{"alerting.stale_threshold", "alerting.down_threshold", a.StaleThreshold, a.DownThreshold},
		{"alerting.host_stale_threshold", "alerting.host_down_threshold", a.HostStaleThreshold, a.HostDownThreshold},
	}
	for _, p := range pairs {
		if p.stale.D() < time.Minute {
			return bad(p.staleKey, "must be at least 1m")
		}
		if p.down.D() <= p.stale.D() {
			return bad(p.downKey, "must be longer than %s", p.staleKey)
		}
	}
	if a.CheckInterval.D() < time.Second || a.CheckInterval.D() > 10*time.Minute {
		return bad("alerting.check_interval", "must be between 1s and 10m")
	}
	if _, err := ParseClock(a.BackupCheckSchedule); err != nil {
		return bad("alerting.backup_check_schedule", "%v", err)
	}
	return nil
}

// deriveDownThresholds sets each down threshold the file and the
// environment left out, while they set its stale threshold, to twice the
// stale threshold: the seed's hub.yaml had only stale_threshold, and the
// seed's 30m stale / 60m down keep their ratio. A down threshold that was
// given is kept, and checked against the stale one.
func (a *Alerting) deriveDownThresholds() {
	for _, p := range []struct {
		staleKey, downKey string
		stale, down       *Duration
	}{
		{"stale_threshold", "down_threshold", &a.StaleThreshold, &a.DownThreshold},
		{"host_stale_threshold", "host_down_threshold", &a.HostStaleThreshold, &a.HostDownThreshold},
	} {
		if !a.given[p.staleKey] || a.given[p.downKey] || p.stale.D() <= 0 {
			continue
		}
		*p.down = Duration(math.MaxInt64) // a stale threshold of centuries
		if p.stale.D() <= math.MaxInt64/2 {
			*p.down = 2 * *p.stale
		}
	}
}

func (c *Config) validateRegistry() error {
	r := &c.Registry
	if r.Image != "" && (strings.Contains(r.Image, "://") || !strings.Contains(r.Image, "/")) {
		return bad("registry.image", "must look like host/owner/name, without a scheme")
	}
	if r.CheckInterval.D() < time.Minute {
		return bad("registry.check_interval", "must be at least 1m")
	}
	if r.TemplateInterval.D() < time.Minute {
		return bad("registry.template_interval", "must be at least 1m")
	}
	return checkURL("registry.template_url", r.TemplateURL, false)
}

func (c *Config) validateServer() error {
	s := &c.Server
	if _, port, err := net.SplitHostPort(s.Listen); err != nil || port == "" {
		return bad("server.listen", "must be host:port or :port")
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad("server.listen", "port %q must be a number from 1 to 65535", port)
	}
	if s.DataDir == "" {
		return bad("server.data_dir", "must not be empty")
	}
	if err := checkURL("server.public_url", s.PublicURL, false); err != nil {
		return err
	}
	for i, o := range s.TrustedOrigins {
		if err := checkURL(fmt.Sprintf("server.trusted_origins[%d]", i), o, true); err != nil {
			return err
		}
	}
	if _, err := s.TrustedProxyPrefixes(); err != nil {
		return err
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{
		{"server.read_header_timeout", s.ReadHeaderTimeout},
		{"server.read_timeout", s.ReadTimeout}, {"server.write_timeout", s.WriteTimeout},
		{"server.idle_timeout", s.IdleTimeout}, {"server.shutdown_timeout", s.ShutdownTimeout},
	} {
		if d.v.D() <= 0 {
			return bad(d.key, "must be positive")
		}
	}
	return s.validateOps()
}

// validateOps checks the drain period and the metrics listener.
func (s *Server) validateOps() error {
	if d := s.DrainPeriod.D(); d < 0 || d > 5*time.Minute {
		return bad("server.drain_period", "must be between 0s and 5m")
	}
	if s.MetricsListen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(s.MetricsListen)
	if err != nil || port == "" {
		return bad("server.metrics_listen", "must be host:port or :port")
	}
	if _, listenPort, _ := net.SplitHostPort(s.Listen); port == listenPort && port != "0" {
		if listenHost, _, _ := net.SplitHostPort(s.Listen); host == listenHost || host == "" || listenHost == "" {
			return bad("server.metrics_listen", "must differ from server.listen (%s)", s.Listen)
		}
	}
	return nil
}

// IsProduction reports whether the hub serves a real fleet: its public_url
// is set and names a host outside loopback, private and link-local
// addresses, "localhost" and the names reserved for tests (.localhost,
// .local, .test, .example, .invalid, .internal, .lan). A laptop or lab hub is
// not production.
func (s *Server) IsProduction() bool {
	if s.PublicURL == "" {
		return false
	}
	u, err := url.Parse(s.PublicURL)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if addr, err := netip.ParseAddr(host); err == nil {
		addr = addr.Unmap()
		return !(addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsUnspecified())
	}
	if host == "localhost" || !strings.Contains(host, ".") {
		return false
	}
	for _, suffix := range []string{".localhost", ".local", ".test", ".example", ".invalid", ".internal", ".lan"} {
		if strings.HasSuffix(host, suffix) {
			return false
		}
	}
	return true
}

// TrustedProxyPrefixes parses server.trusted_proxies; a bare address is a
// single-address prefix.
func (s *Server) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, p := range s.TrustedProxies {
		p = strings.TrimSpace(p)
		if prefix, err := netip.ParsePrefix(p); err == nil {
			out = append(out, prefix.Masked())
			continue
		}
		addr, err := netip.ParseAddr(p)
		if err != nil {
			return nil, bad(fmt.Sprintf("server.trusted_proxies[%d]", i), "must be an IP address or CIDR such as 10.42.0.0/16")
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

func (c *Config) validateControllers() error {
	ct := &c.Controllers
	if ct.Timeout.D() <= 0 || ct.Timeout.D() > 5*time.Minute {
		return bad("controllers.timeout", "must be between 1ns and 5m")
	}
	if ct.MaxResponseBytes < 1024 || ct.MaxResponseBytes > 64<<20 {
		return bad("controllers.max_response_bytes", "must be between 1024 and 67108864")
	}
	for i, k := range ct.VolatileKeys {
		if strings.TrimSpace(k) == "" {
			return bad(fmt.Sprintf("controllers.volatile_keys[%d]", i), "must not be empty")
		}
	}
	return nil
}

func (c *Config) validateSecrets() error {
	if c.Secrets.Key == "" {
		return nil
	}
	if _, err := c.SecretsKey(); err != nil {
		return bad("secrets.key", "%v", err)
	}
	return nil
}

// SecretsKey decodes secrets.key; nil when none is set.
func (c *Config) SecretsKey() ([]byte, error) {
	if c.Secrets.Key == "" {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.Secrets.Key))
	if err != nil {
		return nil, fmt.Errorf("must be base64 (make one with: head -c32 /dev/urandom | base64)")
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("must decode to 32 bytes, got %d", len(key))
	}
	return key, nil
}

func (c *Config) validateDatabase() error {
	if c.Database.Driver == "" {
		c.Database.Driver = "sqlite"
		if c.Database.DSN != "" {
			c.Database.Driver = "postgres"
		}
	}
	switch c.Database.Driver {
	case "sqlite":
		if c.Database.DSN != "" {
			return bad("database.dsn", "is for driver postgres; SQLite keeps its file in server.data_dir")
		}
	case "postgres":
		if c.Database.DSN == "" {
			return bad("database.dsn", "is required for driver postgres (set HUB_DATABASE_DSN)")
		}
	default:
		return bad("database.driver", "must be sqlite or postgres")
	}
	return nil
}

func (c *Config) validateLog() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", "must be text or json")
	}
	return nil
}

// checkURL accepts "" (unless required) or an absolute http(s) URL.
func checkURL(key, raw string, required bool) error {
	if raw == "" {
		if required {
			return bad(key, "must not be empty")
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad(key, "must be an absolute http or https URL")
	}
	return nil
}

// ParseClock parses a wall-clock time "HH:MM" into minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day such as 04:30", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// CheckDeployable is what hub check-config adds to Validate for a config
// file meant to run: port 0 (any free port, which tests use) is refused.
func (c *Config) CheckDeployable() error {
	if _, port, err := net.SplitHostPort(c.Server.Listen); err == nil && port == "0" {
		return bad("server.listen", "port 0 picks a random free port; set a port from 1 to 65535")
	}
	return nil
}
