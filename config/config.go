// Package config loads the hub's configuration: built-in defaults, then a
// hub.yaml file, then HUB_* environment variables, then Validate.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Config is the whole configuration of a hub.
type Config struct {
	Auth          Auth          `yaml:"auth"`
	API           API           `yaml:"api"`
	Notifications Notifications `yaml:"notifications"`
	Retention     Retention     `yaml:"retention"`
	Alerting      Alerting      `yaml:"alerting"`
	Registry      Registry      `yaml:"registry"`
	Server        Server        `yaml:"server"`
	Controllers   Controllers   `yaml:"controllers"`
	Secrets       Secrets       `yaml:"secrets"`
	Database      Database      `yaml:"database"`
	Log           Log           `yaml:"log"`
	DR            DR            `yaml:"dr"`
}

// Auth configures the dashboard login.
type Auth struct {
	// PasswordHash is a bcrypt hash (hub hash-password); empty disables login.
	PasswordHash string   `yaml:"password_hash"`
	SessionTTL   Duration `yaml:"session_ttl"`
	// RequireTOTP makes every operator set up a second factor (TOTP)
	// before anything else.
	RequireTOTP bool `yaml:"require_totp"`
	// Disabled lets a hub with no operator account and no password listen
	// on a non-loopback address: the dashboard is then open to anyone who
	// can reach it. Off, such a hub refuses to start.
	Disabled bool `yaml:"disabled"`
}

// API configures the controller and agent API.
type API struct {
	// ReportAPIKey is the global key. Empty makes the hub mint one and keep
	// it in the data directory.
	ReportAPIKey string `yaml:"report_api_key"`
	// KeyRotationGrace is how long a customer's rotated-out API key stays
	// valid, unless the node reports with the new key first; 0 ends it at
	// the rotation.
	KeyRotationGrace Duration `yaml:"key_rotation_grace"`
	// AdminAPIKey is a bootstrap admin token for automation (at least 32
	// characters); empty means none. Operators mint named tokens too.
	AdminAPIKey string `yaml:"admin_api_key"`
}

// Notifications configures email.
type Notifications struct {
	// Provider is log, resend or smtp. Empty picks resend when a Resend key
	// is set, smtp when an SMTP host is set, log otherwise.
	Provider             string   `yaml:"provider"`
	ResendAPIKey         string   `yaml:"resend_api_key"`
	ResendBaseURL        string   `yaml:"resend_base_url"`
	FromEmail            string   `yaml:"from_email"`
	OperatorEmail        string   `yaml:"operator_email"`
	OperatorEnabled      bool     `yaml:"operator_enabled"`
	OperatorCooldown     Duration `yaml:"operator_cooldown"`
	CustomerEnabled      bool     `yaml:"customer_enabled"`
	DefaultCooldownHours int      `yaml:"default_cooldown_hours"`
	MaxAttempts          int      `yaml:"max_attempts"`
	// SendConcurrency is how many mails are sent at once, so that one
	// slow recipient does not hold the others; SendTimeout bounds one
	// attempt, whatever the provider's own time-outs.
	SendConcurrency int      `yaml:"send_concurrency"`
	SendTimeout     Duration `yaml:"send_timeout"`
	SMTP            SMTP     `yaml:"smtp"`
	// EscalationEmail gets one mail when a DOWN stays unacknowledged for
	// alerting.escalate_after; empty escalates to nobody.
	EscalationEmail string `yaml:"escalation_email"`
	// CustomerDigestWindow is how long a customer mail waits for others to
	// go out with it as one Hungarian digest; 0 sends each at once.
	CustomerDigestWindow Duration `yaml:"customer_digest_window"`
}

// SMTP configures the SMTP provider.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Security is starttls, tls or none.
	Security string `yaml:"security"`
}

// Retention configures how long history is kept.
type Retention struct {
	MaxDays       int    `yaml:"max_days"`
	FullDays      int    `yaml:"full_days"`
	PruneSchedule string `yaml:"prune_schedule"`
}

// Alerting configures the dead man's switch.
type Alerting struct {
	StaleThreshold Duration `yaml:"stale_threshold"`
	// DownThreshold, when the file and the environment leave it out but
	// set StaleThreshold, is twice StaleThreshold (the seed's 30m/60m), so
	// that a seed-era hub.yaml with only stale_threshold: 90m starts.
	DownThreshold       Duration `yaml:"down_threshold"`
	HostStaleThreshold  Duration `yaml:"host_stale_threshold"`
	HostDownThreshold   Duration `yaml:"host_down_threshold"`
	CheckInterval       Duration `yaml:"check_interval"`
	BackupCheckSchedule string   `yaml:"backup_check_schedule"`
	// ReminderInterval repeats an unacknowledged DOWN to the operator;
	// 0 sends no reminders. EscalateAfter is how long it lasts before
	// notifications.escalation_email hears of it.
	ReminderInterval Duration `yaml:"reminder_interval"`
	EscalateAfter    Duration `yaml:"escalate_after"`
	// Alert noise control (noise.go).
	FlapThreshold    int      `yaml:"flap_threshold"`
	IncidentFraction float64  `yaml:"incident_fraction"`
	IncidentWindow   Duration `yaml:"incident_window"`

	// given records which thresholds the file or the environment set, by
	// yaml key; Validate derives the down thresholds that were not given.
	given map[string]bool
}

// Registry configures the controller image registry and the config template.
type Registry struct {
	Image            string   `yaml:"image"`
	Username         string   `yaml:"username"`
	Token            string   `yaml:"token"`
	CheckInterval    Duration `yaml:"check_interval"`
	TemplateURL      string   `yaml:"template_url"`
	TemplateToken    string   `yaml:"template_token"`
	TemplateInterval Duration `yaml:"template_interval"`
}

// Server configures the HTTP server and the data directory.
type Server struct {
	Listen         string   `yaml:"listen"`
	DataDir        string   `yaml:"data_dir"`
	PublicURL      string   `yaml:"public_url"`
	TrustedOrigins []string `yaml:"trusted_origins"`
	// ReadHeaderTimeout cuts off a client that is slow to send its
	// request headers (slowloris); ReadTimeout bounds the whole request.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	WriteTimeout      Duration `yaml:"write_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	ShutdownTimeout   Duration `yaml:"shutdown_timeout"`
	// DrainPeriod is how long the hub, on SIGTERM, keeps serving while
	// /readyz says 503, so that load balancers stop sending it requests
	// before it closes its listener; 0 closes at once.
	DrainPeriod Duration `yaml:"drain_period"`
	// MetricsListen, when set, serves /metrics on its own address (and
	// not on Listen), out of reach of the ingress.
	MetricsListen string `yaml:"metrics_listen"`

	// TrustedProxies are the addresses or CIDRs of reverse proxies (an
	// ingress) whose X-Forwarded-For the hub believes when it limits
	// failed retrieval attempts and dashboard logins per client. Empty
	// trusts no header.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Controllers configures the calls the hub makes to controllers.
type Controllers struct {
	// AllowInsecure permits http and private, loopback and link-local
	// targets; for tests and labs only.
	AllowInsecure    bool     `yaml:"allow_insecure"`
	Timeout          Duration `yaml:"timeout"`
	MaxResponseBytes int64    `yaml:"max_response_bytes"`
	// VolatileKeys are the keys of a live controller.yaml that Show Diff
	// ignores and Pull does not store: dotted paths, "*" within a segment
	// matches any text, a key matches when it is the pattern or lies under
	// it. Setting the list replaces DefaultVolatileKeys.
	VolatileKeys []string `yaml:"volatile_keys"`
}

// DefaultVolatileKeys are the keys a controller writes into its own
// controller.yaml at run time: when a job last ran (monitoring.last_check,
// backup.last_run, updates.last_check…), what it last saw (…status), and
// when it generated the file or an id for itself. None of them is in the
// template, so they would otherwise show as differences and be pulled into
// overrides.
var DefaultVolatileKeys = []string{
	"last_*",
	"*.last_*",
	"*.*.last_*",
	"*.status",
	"*.generated_at",
	"*.instance_id",
}

// Secrets configures encryption at rest.
type Secrets struct {
	// Key is 32 bytes in base64; empty stores secrets unencrypted.
	Key string `yaml:"key"`
}

// Database selects the store.
type Database struct {
	// Driver is sqlite (the default, a file in server.data_dir) or
	// postgres (for several replicas). Left empty, a DSN selects postgres.
	Driver string `yaml:"driver"`
	// DSN is PostgreSQL's connection string (postgres://… or libpq
	// key=value); it may hold a password, so set it from a Secret through
	// HUB_DATABASE_DSN rather than in the file.
	DSN string `yaml:"dsn"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the configuration of a hub started with no file at all.
func Default() *Config {
	return &Config{
		Auth: Auth{SessionTTL: Duration(7 * 24 * time.Hour)},
		API:  API{KeyRotationGrace: Duration(24 * time.Hour)},
		Notifications: Notifications{
			FromEmail:            "monitoring@felhom.eu",
			ResendBaseURL:        "https://api.resend.com",
			OperatorEnabled:      true,
			OperatorCooldown:     Duration(time.Hour),
			CustomerEnabled:      true,
			DefaultCooldownHours: 6,
			MaxAttempts:          8,
			SendConcurrency:      4,
			SendTimeout:          Duration(15 * time.Second),
			SMTP:                 SMTP{Port: 587, Security: "starttls"},
			CustomerDigestWindow: Duration(10 * time.Minute),
		},
		Retention: Retention{MaxDays: 90, FullDays: 7, PruneSchedule: "04:30"},
		Alerting: Alerting{
			StaleThreshold:      Duration(30 * time.Minute),
			DownThreshold:       Duration(60 * time.Minute),
			HostStaleThreshold:  Duration(30 * time.Minute),
			HostDownThreshold:   Duration(60 * time.Minute),
			CheckInterval:       Duration(60 * time.Second),
			ReminderInterval:    Duration(4 * time.Hour),
			EscalateAfter:       Duration(2 * time.Hour),
			BackupCheckSchedule: "05:00",
			FlapThreshold:       4,
			IncidentFraction:    0.3,
			IncidentWindow:      Duration(10 * time.Minute),
		},
		Registry: Registry{
			Image:            "gitea.dooplex.hu/admin/felhom-controller",
			CheckInterval:    Duration(30 * time.Minute),
			TemplateInterval: Duration(time.Hour),
		},
		Server: Server{
			Listen:            ":8080",
			DataDir:           "./data",
			ReadHeaderTimeout: Duration(10 * time.Second),
			ReadTimeout:       Duration(30 * time.Second),
			WriteTimeout:      Duration(60 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			ShutdownTimeout:   Duration(20 * time.Second),
			DrainPeriod:       Duration(5 * time.Second),
		},
		Controllers: Controllers{
			Timeout:          Duration(15 * time.Second),
			MaxResponseBytes: 1 << 20,
			VolatileKeys:     append([]string(nil), DefaultVolatileKeys...),
		},
		Log: Log{Level: "info", Format: "text"},
		DR:  defaultDR(),
	}
}

// Parse reads YAML into c, over whatever c holds already. Unknown keys are
// errors, so a typo never passes silently.
func (c *Config) Parse(r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return err
	}
	if len(data) > 1<<20 {
		return errors.New("config file is larger than 1 MiB")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Load(data, &doc); err != nil {
		if strings.Contains(err.Error(), "no documents in stream") {
			return nil // only comments
		}
		return fmt.Errorf("config: %w", err)
	}
	if err := doc.Load(c, yaml.WithKnownFields()); err != nil {
		if key := keyAtLine(&doc, errorLine(err)); key != "" {
			return fmt.Errorf("config: %s: %w", key, err)
		}
		return fmt.Errorf("config: %w", err)
	}
	for _, key := range thresholdKeys {
		if v := lookupNode(&doc, "alerting", key); v != nil && v.Tag != "!!null" {
			c.Alerting.markGiven(key)
		}
	}
	return nil
}

// thresholdKeys are the alerting keys whose presence Parse and ApplyEnv
// record.
var thresholdKeys = []string{"stale_threshold", "down_threshold", "host_stale_threshold", "host_down_threshold"}

func (a *Alerting) markGiven(key string) {
	if a.given == nil {
		a.given = map[string]bool{}
	}
	a.given[key] = true
}

// lookupNode returns the value at a path of mapping keys in a YAML
// document, or nil.
func lookupNode(n *yaml.Node, path ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// errorLine returns the first line number a YAML error mentions, or 0.
func errorLine(err error) int {
	m := lineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// keyAtLine returns the dotted path of the mapping key whose value sits on
// line, so that a type error names the setting and not just a line.
func keyAtLine(n *yaml.Node, line int) string {
	if line == 0 {
		return ""
	}
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, path); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if v.Kind != yaml.MappingNode && (v.Line == line || k.Line == line) {
					return p
				}
				if found := walk(v, p); found != "" {
					return found
				}
			}
		}
		return ""
	}
	return walk(n, "")
}

// Load builds a configuration: defaults, then the file at path (if path is
// not empty), then the environment. It validates the result.
func Load(path string, environ []string) (*Config, error) {
	c := Default()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := c.Parse(f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := c.ApplyEnv(environ); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Duration is a time.Duration written as "30m", "1h" or "90s".
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30m or 1h", text)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration in Go's notation.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
