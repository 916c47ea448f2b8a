package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

func TestDrainPeriodAndMetricsListen(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.DrainPeriod.D() != 5*time.Second || cfg.Server.MetricsListen != "" {
		t.Errorf("defaults: drain %v, metrics_listen %q", cfg.Server.DrainPeriod.D(), cfg.Server.MetricsListen)
	}
	cfg, err = config.Load("", []string{"HUB_SERVER_DRAIN_PERIOD=0s", "HUB_SERVER_METRICS_LISTEN=:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.DrainPeriod.D() != 0 || cfg.Server.MetricsListen != ":9090" {
		t.Errorf("from the environment: %+v", cfg.Server)
	}
	for _, tt := range []struct {
		file, key string
	}{
		{"server:\n  drain_period: -1s\n", "server.drain_period"},
		{"server:\n  drain_period: 6m\n", "server.drain_period"},
		{"server:\n  drain_period: soon\n", "drain_period"},
		{"server:\n  metrics_listen: \"9090\"\n", "server.metrics_listen"},
		{"server:\n  metrics_listen: \":8080\"\n", "server.metrics_listen"},
		{"server:\n  listen: \"127.0.0.1:9000\"\n  metrics_listen: \"127.0.0.1:9000\"\n", "server.metrics_listen"},
	} {
		_, err := config.Load(writeFile(t, tt.file), nil)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%q: %v, want an error naming %s", tt.file, err, tt.key)
		}
	}
	// Another port, or the same port on another address, is fine.
	for _, file := range []string{
		"server:\n  metrics_listen: \"127.0.0.1:9090\"\n",
		"server:\n  listen: \"10.0.0.1:9000\"\n  metrics_listen: \"127.0.0.1:9000\"\n",
	} {
		if _, err := config.Load(writeFile(t, file), nil); err != nil {
			t.Errorf("%q: %v", file, err)
		}
	}
	if _, err := config.Load("", []string{"HUB_SERVER_DRAIN_PERIOD=x"}); err == nil || !strings.Contains(err.Error(), "HUB_SERVER_DRAIN_PERIOD") {
		t.Errorf("HUB_SERVER_DRAIN_PERIOD=x: %v", err)
	}
}
