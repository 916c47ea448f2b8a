package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

func writeFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "hub.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestDefaultIsValid(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != ":8080" || c.Server.DataDir != "./data" || c.Notifications.Provider != "" {
		t.Errorf("unexpected defaults: listen %q data %q provider %q", c.Server.Listen, c.Server.DataDir, c.Notifications.Provider)
	}
	if c.Alerting.StaleThreshold.D() != 30*time.Minute || c.Alerting.DownThreshold.D() != time.Hour {
		t.Errorf("thresholds %v / %v", c.Alerting.StaleThreshold.D(), c.Alerting.DownThreshold.D())
	}
}

func TestSeedFileAccepted(t *testing.T) {
	c, err := config.Load("testdata/seed-hub.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.DataDir != "/data" {
		t.Errorf("data_dir = %q", c.Server.DataDir)
	}
	// Keys the file does not mention keep their defaults.
	if c.Alerting.DownThreshold.D() != time.Hour {
		t.Errorf("down_threshold = %v", c.Alerting.DownThreshold.D())
	}
}

func TestPrecedence(t *testing.T) {
	path := writeFile(t, `
server:
  listen: "127.0.0.1:9000"
  data_dir: /from-file
alerting:
  stale_threshold: 20m
controllers:
  volatile_keys: [a.b]
`)
	env := []string{
		"HUB_SERVER_DATA_DIR=/from-env",
		"HUB_ALERTING_DOWN_THRESHOLD=2h",
		"HUB_NOTIFICATIONS_SMTP_PORT=2525",
		"HUB_NOTIFICATIONS_OPERATOR_ENABLED=false",
		"HUB_CONTROLLERS_VOLATILE_KEYS=x.y, z",
		"HUB_SERVICE_HOST=10.0.0.1", // Kubernetes noise is ignored
		"PATH=/usr/bin",
	}
	c, err := config.Load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:9000" {
		t.Errorf("listen = %q, want the file's", c.Server.Listen)
	}
	if c.Server.DataDir != "/from-env" {
		t.Errorf("data_dir = %q, want the environment's", c.Server.DataDir)
	}
	if c.Alerting.StaleThreshold.D() != 20*time.Minute || c.Alerting.DownThreshold.D() != 2*time.Hour {
		t.Errorf("thresholds %v / %v", c.Alerting.StaleThreshold.D(), c.Alerting.DownThreshold.D())
	}
	if c.Notifications.SMTP.Port != 2525 || c.Notifications.OperatorEnabled {
		t.Errorf("smtp port %d operator_enabled %v", c.Notifications.SMTP.Port, c.Notifications.OperatorEnabled)
	}
	if got := strings.Join(c.Controllers.VolatileKeys, "|"); got != "x.y|z" {
		t.Errorf("volatile_keys = %q", got)
	}
}

func TestEnvNamesCoverEveryKey(t *testing.T) {
	names := config.EnvNames()
	for _, want := range []string{"HUB_SECRETS_KEY", "HUB_DATABASE_DSN", "HUB_API_REPORT_API_KEY", "HUB_AUTH_PASSWORD_HASH", "HUB_NOTIFICATIONS_SMTP_HOST", "HUB_REGISTRY_TEMPLATE_URL"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("%s is not an environment variable the hub reads", want)
		}
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		wantKey    string
	}{
		{"unknown key", "server:\n  lisen: \":1\"\n", nil, "lisen"},
		{"unknown section", "servers: {}\n", nil, "servers"},
		{"wrong type", "retention:\n  max_days: lots\n", nil, "max_days"},
		{"bad duration", "alerting:\n  stale_threshold: soon\n", nil, "soon"},
		{"down not after stale", "alerting:\n  stale_threshold: 1h\n  down_threshold: 30m\n", nil, "alerting.down_threshold"},
		{"host thresholds", "alerting:\n  host_down_threshold: 1m\n", nil, "alerting.host_down_threshold"},
		{"prune schedule", "retention:\n  prune_schedule: \"4:30am\"\n", nil, "retention.prune_schedule"},
		{"backup schedule", "alerting:\n  backup_check_schedule: \"25:00\"\n", nil, "alerting.backup_check_schedule"},
		{"max days", "retention:\n  max_days: 0\n", nil, "retention.max_days"},
		{"full days", "retention:\n  full_days: 100\n", nil, "retention.full_days"},
		{"listen", "server:\n  listen: \"8080\"\n", nil, "server.listen"},
		{"listen port too high", "server:\n  listen: \":70000\"\n", nil, "server.listen"},
		{"listen port negative", "server:\n  listen: \":-1\"\n", nil, "server.listen"},
		{"listen port by name", "server:\n  listen: \":http\"\n", nil, "server.listen"},
		{"public url", "server:\n  public_url: \"hub.felhom.eu\"\n", nil, "server.public_url"},
		{"password hash", "auth:\n  password_hash: \"secret\"\n", nil, "auth.password_hash"},
		{"short api key", "api:\n  report_api_key: \"short\"\n", nil, "api.report_api_key"},
		{"provider", "notifications:\n  provider: pigeon\n", nil, "notifications.provider"},
		{"resend without key", "notifications:\n  provider: resend\n", nil, "notifications.resend_api_key"},
		{"smtp without host", "notifications:\n  provider: smtp\n", nil, "notifications.smtp.host"},
		{"operator email", "notifications:\n  operator_email: \"not-an-address\"\n", nil, "notifications.operator_email"},
		{"cooldown", "notifications:\n  default_cooldown_hours: 169\n", nil, "notifications.default_cooldown_hours"},
		{"smtp security", "notifications:\n  smtp:\n    security: ssl3\n", nil, "notifications.smtp.security"},
		{"registry image", "registry:\n  image: \"https://x/y\"\n", nil, "registry.image"},
		{"template url", "registry:\n  template_url: \"ftp://x/y\"\n", nil, "registry.template_url"},
		{"secrets key", "secrets:\n  key: \"c2hvcnQ=\"\n", nil, "secrets.key"},
		{"secrets key not base64", "secrets:\n  key: \"!!!\"\n", nil, "secrets.key"},
		{"driver", "database:\n  driver: oracle\n", nil, "database.driver"},
		{"postgres without dsn", "database:\n  driver: postgres\n", nil, "database.dsn"},
		{"sqlite with dsn", "database:\n  driver: sqlite\n  dsn: \"postgres://h/db\"\n", nil, "database.dsn"},
		{"log level", "log:\n  level: loud\n", nil, "log.level"},
		{"controller timeout", "controllers:\n  timeout: 0s\n", nil, "controllers.timeout"},
		{"env bad bool", "", []string{"HUB_CONTROLLERS_ALLOW_INSECURE=maybe"}, "HUB_CONTROLLERS_ALLOW_INSECURE"},
		{"env bad int", "", []string{"HUB_RETENTION_MAX_DAYS=ninety"}, "HUB_RETENTION_MAX_DAYS"},
		{"env bad duration", "", []string{"HUB_ALERTING_STALE_THRESHOLD=30"}, "HUB_ALERTING_STALE_THRESHOLD"},
		{"env invalid value", "", []string{"HUB_SERVER_LISTEN=nowhere"}, "server.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tt.file), tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("error %q does not name %q", err, tt.wantKey)
			}
		})
	}
}

// The driver follows the DSN unless it is named: HUB_DATABASE_DSN alone
// moves a hub to PostgreSQL.
func TestDatabaseDriverSelection(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		env        []string
		want       string
	}{
		{"default", "", nil, "sqlite"},
		{"dsn from env", "", []string{"HUB_DATABASE_DSN=postgres://hub:pw@db:5432/hub", "HUB_API_REPORT_API_KEY=" + strings.Repeat("k", 32)}, "postgres"},
		{"named", "database:\n  driver: postgres\n  dsn: \"host=db user=hub\"\napi:\n  report_api_key: \"" + strings.Repeat("k", 32) + "\"\n", nil, "postgres"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(writeFile(t, tt.file), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Database.Driver != tt.want {
				t.Errorf("driver = %q, want %q", cfg.Database.Driver, tt.want)
			}
		})
	}
}

func TestValidateNamesFieldError(t *testing.T) {
	c := config.Default()
	c.Retention.MaxDays = -1
	var fe *config.FieldError
	if err := c.Validate(); !errors.As(err, &fe) || fe.Key != "retention.max_days" {
		t.Fatalf("Validate() = %v, want a FieldError for retention.max_days", err)
	}
}

func TestMissingFile(t *testing.T) {
	if _, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), nil); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	c, err := config.Load(writeFile(t, "# nothing here\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != ":8080" {
		t.Errorf("listen = %q", c.Server.Listen)
	}
}

func FuzzParse(f *testing.F) {
	seed, _ := os.ReadFile("testdata/seed-hub.yaml")
	f.Add(seed)
	f.Add([]byte("server: {listen: ':1'}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := config.Default()
		if err := c.Parse(strings.NewReader(string(data))); err != nil {
			return
		}
		_ = c.Validate() // must not panic
	})
}
