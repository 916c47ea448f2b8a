package config_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/felhom/hub/config"
)

// The README's configuration block is a valid hub.yaml that states the
// defaults: its volatile keys are DefaultVolatileKeys.
func TestREADMEConfigBlock(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```yaml\nauth:")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README has no ```yaml block starting with auth:")
	}
	c, err := config.Load(writeFile(t, "auth:"+block), nil)
	if err != nil {
		t.Fatalf("README's hub.yaml: %v", err)
	}
	if !slices.Equal(c.Controllers.VolatileKeys, config.DefaultVolatileKeys) {
		t.Errorf("README's volatile_keys %q, the default is %q", c.Controllers.VolatileKeys, config.DefaultVolatileKeys)
	}
	d := config.Default()
	if c.Alerting.StaleThreshold != d.Alerting.StaleThreshold || c.Alerting.DownThreshold != d.Alerting.DownThreshold {
		t.Errorf("README's thresholds %v/%v differ from the defaults", c.Alerting.StaleThreshold, c.Alerting.DownThreshold)
	}
}
