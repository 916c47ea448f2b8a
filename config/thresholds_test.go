package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

// A seed-era hub.yaml set only alerting.stale_threshold; the down
// threshold it did not set follows it at twice its value, whether the
// stale threshold comes from the file or the environment.
func TestDownThresholdDerivedFromStale(t *testing.T) {
	for _, tt := range []struct {
		name                string
		file                string
		env                 []string
		stale, down         time.Duration
		hostStale, hostDown time.Duration
	}{
		{name: "defaults", stale: 30 * time.Minute, down: time.Hour, hostStale: 30 * time.Minute, hostDown: time.Hour},
		{name: "seed stale 60m", file: "alerting:\n  stale_threshold: \"60m\"\n",
			stale: time.Hour, down: 2 * time.Hour, hostStale: 30 * time.Minute, hostDown: time.Hour},
		{name: "seed stale 90m", file: "alerting:\n  stale_threshold: 90m\n",
			stale: 90 * time.Minute, down: 3 * time.Hour, hostStale: 30 * time.Minute, hostDown: time.Hour},
		{name: "stale shorter than the default", file: "alerting:\n  stale_threshold: 10m\n",
			stale: 10 * time.Minute, down: 20 * time.Minute, hostStale: 30 * time.Minute, hostDown: time.Hour},
		{name: "both given", file: "alerting:\n  stale_threshold: 60m\n  down_threshold: 61m\n",
			stale: time.Hour, down: 61 * time.Minute, hostStale: 30 * time.Minute, hostDown: time.Hour},
		{name: "down given as null is not given", file: "alerting:\n  stale_threshold: 60m\n  down_threshold:\n",
			stale: time.Hour, down: 2 * time.Hour, hostStale: 30 * time.Minute, hostDown: time.Hour},
		{name: "host stale only", file: "alerting:\n  host_stale_threshold: 2h\n",
			stale: 30 * time.Minute, down: time.Hour, hostStale: 2 * time.Hour, hostDown: 4 * time.Hour},
		{name: "stale from env", env: []string{"HUB_ALERTING_STALE_THRESHOLD=75m", "HUB_ALERTING_HOST_STALE_THRESHOLD=1h"},
			stale: 75 * time.Minute, down: 150 * time.Minute, hostStale: time.Hour, hostDown: 2 * time.Hour},
		{name: "stale from file, down from env", file: "alerting:\n  stale_threshold: 60m\n", env: []string{"HUB_ALERTING_DOWN_THRESHOLD=90m"},
			stale: time.Hour, down: 90 * time.Minute, hostStale: 30 * time.Minute, hostDown: time.Hour},
		{name: "down from file, stale from env", file: "alerting:\n  down_threshold: 5h\n", env: []string{"HUB_ALERTING_STALE_THRESHOLD=2h"},
			stale: 2 * time.Hour, down: 5 * time.Hour, hostStale: 30 * time.Minute, hostDown: time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(writeFile(t, tt.file), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			a := c.Alerting
			if a.StaleThreshold.D() != tt.stale || a.DownThreshold.D() != tt.down {
				t.Errorf("node thresholds %v / %v, want %v / %v", a.StaleThreshold.D(), a.DownThreshold.D(), tt.stale, tt.down)
			}
			if a.HostStaleThreshold.D() != tt.hostStale || a.HostDownThreshold.D() != tt.hostDown {
				t.Errorf("host thresholds %v / %v, want %v / %v", a.HostStaleThreshold.D(), a.HostDownThreshold.D(), tt.hostStale, tt.hostDown)
			}
		})
	}
}

// When both thresholds are given, a down threshold that is not longer
// than the stale one is still refused, naming the key.
func TestGivenDownThresholdNotAfterStale(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		env        []string
		wantKey    string
	}{
		{"equal in file", "alerting:\n  stale_threshold: 60m\n  down_threshold: 60m\n", nil, "alerting.down_threshold"},
		{"shorter in file", "alerting:\n  stale_threshold: 60m\n  down_threshold: 30m\n", nil, "alerting.down_threshold"},
		{"down only, under the default stale", "alerting:\n  down_threshold: 20m\n", nil, "alerting.down_threshold"},
		{"down from env under stale from file", "alerting:\n  stale_threshold: 60m\n", []string{"HUB_ALERTING_DOWN_THRESHOLD=45m"}, "alerting.down_threshold"},
		{"both from env", "", []string{"HUB_ALERTING_STALE_THRESHOLD=2h", "HUB_ALERTING_DOWN_THRESHOLD=2h"}, "alerting.down_threshold"},
		{"host equal", "alerting:\n  host_stale_threshold: 60m\n  host_down_threshold: 60m\n", nil, "alerting.host_down_threshold"},
		{"host from env", "", []string{"HUB_ALERTING_HOST_STALE_THRESHOLD=3h", "HUB_ALERTING_HOST_DOWN_THRESHOLD=1h"}, "alerting.host_down_threshold"},
		{"stale under a minute", "alerting:\n  stale_threshold: 30s\n", nil, "alerting.stale_threshold"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tt.file), tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("Load error %v, want one naming %s", err, tt.wantKey)
			}
		})
	}
}

// A huge stale threshold does not overflow into a negative down threshold.
func TestDerivedDownThresholdExtreme(t *testing.T) {
	c, err := config.Load(writeFile(t, "alerting:\n  stale_threshold: 2000000h\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerting.DownThreshold.D() <= c.Alerting.StaleThreshold.D() {
		t.Errorf("down %v not after stale %v", c.Alerting.DownThreshold.D(), c.Alerting.StaleThreshold.D())
	}
}

// Programmatic configs (Default, then fields set in Go) keep what they set.
func TestDefaultThresholdsUnchangedByValidate(t *testing.T) {
	c := config.Default()
	c.Alerting.StaleThreshold = config.Duration(45 * time.Minute)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Alerting.DownThreshold.D() != time.Hour {
		t.Errorf("down = %v, want the default 1h", c.Alerting.DownThreshold.D())
	}
}
