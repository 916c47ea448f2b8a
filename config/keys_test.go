package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

func TestKeyRotationGraceAndMailSending(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.KeyRotationGrace.D() != 24*time.Hour || cfg.Notifications.SendConcurrency != 4 ||
		cfg.Notifications.SendTimeout.D() != 15*time.Second {
		t.Errorf("defaults: grace %v, concurrency %d, send timeout %v",
			cfg.API.KeyRotationGrace.D(), cfg.Notifications.SendConcurrency, cfg.Notifications.SendTimeout.D())
	}
	cfg, err = config.Load("", []string{"HUB_API_KEY_ROTATION_GRACE=0s", "HUB_NOTIFICATIONS_SEND_CONCURRENCY=8", "HUB_NOTIFICATIONS_SEND_TIMEOUT=5s"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.KeyRotationGrace.D() != 0 || cfg.Notifications.SendConcurrency != 8 || cfg.Notifications.SendTimeout.D() != 5*time.Second {
		t.Errorf("from the environment: %+v %+v", cfg.API, cfg.Notifications)
	}
	for _, tt := range []struct {
		file, key string
	}{
		{"api:\n  key_rotation_grace: -1h\n", "api.key_rotation_grace"},
		{"api:\n  key_rotation_grace: 721h\n", "api.key_rotation_grace"},
		{"api:\n  key_rotation_grace: soon\n", "key_rotation_grace"},
		{"notifications:\n  send_concurrency: 0\n", "notifications.send_concurrency"},
		{"notifications:\n  send_concurrency: 65\n", "notifications.send_concurrency"},
		{"notifications:\n  send_timeout: 0s\n", "notifications.send_timeout"},
		{"notifications:\n  send_timeout: 11m\n", "notifications.send_timeout"},
	} {
		_, err := config.Load(writeFile(t, tt.file), nil)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%q: %v, want an error naming %s", tt.file, err, tt.key)
		}
	}
}
