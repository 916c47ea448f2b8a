package config_test

import (
	"strings"
	"testing"

	"github.com/felhom/hub/config"
)

func TestTrustedProxies(t *testing.T) {
	c := config.Default()
	c.Server.TrustedProxies = []string{"10.42.0.0/16", "192.0.2.7", "fd00::/8"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	prefixes, _ := c.Server.TrustedProxyPrefixes()
	if len(prefixes) != 3 || prefixes[1].String() != "192.0.2.7/32" {
		t.Errorf("prefixes %v", prefixes)
	}
	c.Server.TrustedProxies = []string{"10.42.0.0/16", "ingress"}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "server.trusted_proxies[1]") {
		t.Errorf("err = %v", err)
	}
	c = config.Default()
	if err := c.ApplyEnv([]string{"HUB_SERVER_TRUSTED_PROXIES=10.0.0.0/8, 192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if len(c.Server.TrustedProxies) != 2 || c.Validate() != nil {
		t.Errorf("from env: %v", c.Server.TrustedProxies)
	}
}
