package configgen_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/configgen"
)

// runtimeState is what a controller writes into its own controller.yaml
// while it runs: none of it is configuration.
const runtimeState = `
last_seen: "2026-06-08T10:00:00Z"
monitoring:
  last_check: "2026-06-08T10:15:00Z"
  status: ok
  disk:
    last_alert: "2026-06-07T22:10:00Z"
backup:
  last_run: "2026-06-08T02:00:04Z"
  last_success: "2026-06-08T02:07:31Z"
updates:
  last_check: "2026-06-08T09:00:00Z"
  status: up-to-date
controller:
  instance_id: 6f1c2b1e-8d1a-4c62-9a3e-2f0d7c4b5a10
  generated_at: "2026-06-01T08:00:00Z"
`

// liveWithRuntime is the hub's generated config with the runtime state of
// a controller merged in.
func liveWithRuntime(t *testing.T, generated []byte) []byte {
	t.Helper()
	doc, err := configgen.ParseMapping(generated, "generated", false)
	if err != nil {
		t.Fatal(err)
	}
	state, err := configgen.ParseMapping([]byte(runtimeState), "state", false)
	if err != nil {
		t.Fatal(err)
	}
	configgen.Merge(doc.Content[0], state.Content[0])
	out, err := configgen.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// With the default volatile keys, a live config that differs from the
// hub's only in runtime state shows no difference and a pull stores none
// of it; a real difference beside it still shows and is pulled.
func TestDefaultVolatileKeys(t *testing.T) {
	volatile := config.Default().Controllers.VolatileKeys
	cfg := testConfig()
	generated, err := configgen.Generate(configgen.DefaultTemplate, cfg)
	if err != nil {
		t.Fatal(err)
	}
	live := liveWithRuntime(t, generated)

	changes, err := configgen.Diff(generated, live, volatile)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("runtime state shows as differences: %+v", changes)
	}
	// Without the list every runtime key is a difference: the test can fail.
	if changes, _ := configgen.Diff(generated, live, nil); len(changes) < 10 {
		t.Errorf("without volatile keys only %d differences: %+v", len(changes), changes)
	}

	ex, err := configgen.Extract(configgen.DefaultTemplate, live, volatile)
	if err != nil {
		t.Fatal(err)
	}
	if ex.OverridesYAML != strings.TrimSpace(cfg.OverridesYAML)+"\n" && ex.OverridesYAML != cfg.OverridesYAML {
		t.Errorf("pull stores more than the customer's overrides:\n%s\nwant\n%s", ex.OverridesYAML, cfg.OverridesYAML)
	}
	for _, runtime := range []string{"last_", "status", "instance_id", "generated_at"} {
		if strings.Contains(ex.OverridesYAML, runtime) {
			t.Errorf("pull stores runtime state %q:\n%s", runtime, ex.OverridesYAML)
		}
	}

	// A real change beside the runtime state.
	changed := strings.Replace(string(live), "keep_weekly: 4", "keep_weekly: 9", 1)
	changes, err = configgen.Diff(generated, []byte(changed), volatile)
	if err != nil {
		t.Fatal(err)
	}
	want := []configgen.Change{{Key: "backup.keep_weekly", Type: configgen.Changed, Hub: "4", Live: "9"}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes %+v, want %+v", changes, want)
	}
	ex, err = configgen.Extract(configgen.DefaultTemplate, []byte(changed), volatile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ex.OverridesYAML, "keep_weekly: 9") || strings.Contains(ex.OverridesYAML, "last_run") {
		t.Errorf("pull overrides:\n%s", ex.OverridesYAML)
	}
}

func TestVolatilePatternSegments(t *testing.T) {
	for _, tt := range []struct {
		pattern, key string
		want         bool
	}{
		{"*.last_*", "monitoring.last_check", true},
		{"*.last_*", "backup.last_run", true},
		{"*.last_*", "backup.last_run.started", true}, // under a match
		{"*.last_*", "backup.keep_last", false},
		{"*.last_*", "last_check", false},
		{"last_*", "last_check", true},
		{"*.*.last_*", "backup.targets[0].last_run", true},
		{"*.status", "stacks[3].status", true},
		{"*.status", "monitoring.status_page", false},
		{"*_at", "generated_at", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "a-c-b", false},
		{"a*a", "a", false},
		{"*", "anything", true},
		{"monitoring.last_check", "monitoring.last_check", true},
		{"monitoring.last_check", "monitoring.last_checked", false},
	} {
		if got := configgen.MatchKey(tt.pattern, tt.key); got != tt.want {
			t.Errorf("pattern %q key %q: volatile %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}
