package config_test

import (
	"testing"

	"github.com/felhom/hub/config"
)

func TestIsProduction(t *testing.T) {
	for _, tt := range []struct {
		publicURL string
		want      bool
	}{
		{"", false},
		{"https://hub.felhom.eu", true},
		{"https://hub.felhom.eu/", true},
		{"https://HUB.FELHOM.EU.", true},
		{"http://203.0.113.7:8080", true},
		{"https://[2001:db8::1]", true},
		{"http://localhost:8080", false},
		{"http://LOCALHOST", false},
		{"http://127.0.0.1:8080", false},
		{"http://[::1]:8080", false},
		{"http://[::ffff:127.0.0.1]", false},
		{"http://0.0.0.0:8080", false},
		{"http://192.168.1.20:8080", false},
		{"http://10.0.0.5", false},
		{"http://169.254.1.1", false},
		{"http://hub.localhost", false},
		{"https://hub.lan", false},
		{"https://hub.test", false},
		{"https://staging.hub.internal", false},
		{"http://hubbox", false},
	} {
		s := config.Server{PublicURL: tt.publicURL}
		if got := s.IsProduction(); got != tt.want {
			t.Errorf("IsProduction(%q) = %v, want %v", tt.publicURL, got, tt.want)
		}
	}
}
