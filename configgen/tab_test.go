package configgen_test

import (
	"strings"
	"testing"

	"github.com/felhom/hub/configgen"
)

func TestOverridesTabExplainsItself(t *testing.T) {
	err := configgen.ValidateOverrides("backup:\n\tkeep_daily: 14\n")
	if err == nil || !strings.Contains(err.Error(), "indented with a tab: YAML allows only spaces") {
		t.Fatalf("error %v, want it to name the tab", err)
	}
	if err := configgen.ValidateOverrides("backup: [\n"); err == nil || strings.Contains(err.Error(), "tab") {
		t.Errorf("a syntax error without a tab blames a tab: %v", err)
	}
}
