package hub_test

import (
	"testing"

	hub "github.com/felhom/hub"
)

func TestParseSemver(t *testing.T) {
	tests := []struct {
		in   string
		want hub.Semver
		ok   bool
	}{
		{"0.8.1", hub.Semver{0, 8, 1, ""}, true},
		{"v1.2.3", hub.Semver{1, 2, 3, ""}, true},
		{"1.2.3-rc.1", hub.Semver{1, 2, 3, "rc.1"}, true},
		{"1.2.3+build.7", hub.Semver{1, 2, 3, ""}, true},
		{"latest", hub.Semver{}, false},
		{"1.2", hub.Semver{}, false},
		{"01.2.3", hub.Semver{}, false},
		{"1.2.x", hub.Semver{}, false},
		{"", hub.Semver{}, false},
		{"vv1.2.3", hub.Semver{}, false},
	}
	for _, tt := range tests {
		got, ok := hub.ParseSemver(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseSemver(%q) = %+v %v, want %+v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUpdateAvailable(t *testing.T) {
	tests := []struct {
		current, latest string
		want            bool
	}{
		{"0.7.0", "0.8.1", true},
		{"v0.8.1", "0.8.1", false},
		{"0.8.1", "v0.8.0", false},
		{"0.9.0", "0.10.0", true},
		{"1.0.0-rc.1", "1.0.0", true},
		{"1.0.0", "1.0.0-rc.1", false},
		{"", "1.0.0", false},
		{"dev", "1.0.0", false},
		{"1.0.0", "", false},
	}
	for _, tt := range tests {
		if got := hub.UpdateAvailable(tt.current, tt.latest); got != tt.want {
			t.Errorf("UpdateAvailable(%q, %q) = %v", tt.current, tt.latest, got)
		}
	}
}
