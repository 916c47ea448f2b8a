package configgen_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/felhom/hub/configgen"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		hub      string
		live     string
		volatile []string
		want     []configgen.Change
	}{
		{
			name: "identical",
			hub:  "a: 1\nb:\n  c: x\n",
			live: "a: 1\nb:\n  c: x\n",
			want: []configgen.Change{},
		},
		{
			name: "key order, quoting, comments and number forms are ignored",
			hub:  "a: 1\nb:\n  c: 'x'\n  d: 1.0\n  e: true\n",
			live: "# live\nb:\n  e: true # yes\n  d: 1\n  c: \"x\"\na: 0x1\n",
			want: []configgen.Change{},
		},
		{
			name: "added, removed, changed",
			hub:  "a: 1\nb:\n  c: 2\n  new: n\n",
			live: "a: 2\nb:\n  c: 2\n  old: o\n",
			want: []configgen.Change{
				{Key: "a", Type: configgen.Changed, Hub: "1", Live: "2"},
				{Key: "b.new", Type: configgen.Added, Hub: "n"},
				{Key: "b.old", Type: configgen.Removed, Live: "o"},
			},
		},
		{
			name: "a string is not a number",
			hub:  "port: \"8080\"\n",
			live: "port: 8080\n",
			want: []configgen.Change{{Key: "port", Type: configgen.Changed, Hub: "8080", Live: "8080"}},
		},
		{
			name: "lists compare per item",
			hub:  "l: [a, b]\n",
			live: "l:\n  - a\n  - c\n  - d\n",
			want: []configgen.Change{
				{Key: "l[1]", Type: configgen.Changed, Hub: "b", Live: "c"},
				{Key: "l[2]", Type: configgen.Removed, Live: "d"},
			},
		},
		{
			name: "null and empty collections are values",
			hub:  "a: null\nb: {}\nc: []\n",
			live: "a: ~\nb: {}\nc: [1]\n",
			want: []configgen.Change{
				{Key: "c", Type: configgen.Added, Hub: "[]"},
				{Key: "c[0]", Type: configgen.Removed, Live: "1"},
			},
		},
		{
			name: "secrets are masked",
			hub:  "hub:\n  api_key: hub-key\nsession:\n  secret: s1\ncloudflare:\n  tunnel_token: t1\nsmtp:\n  password: p\n",
			live: "hub:\n  api_key: live-key\nsession:\n  secret: s1\ncloudflare:\n  tunnel_token: t2\n",
			want: []configgen.Change{
				{Key: "cloudflare.tunnel_token", Type: configgen.Changed, Hub: configgen.Mask, Live: configgen.Mask, Secret: true},
				{Key: "hub.api_key", Type: configgen.Changed, Hub: configgen.Mask, Live: configgen.Mask, Secret: true},
				{Key: "smtp.password", Type: configgen.Added, Hub: configgen.Mask, Secret: true},
			},
		},
		{
			name:     "volatile keys are ignored",
			hub:      "a: 1\nstate:\n  x: 1\nstacks:\n  - app: n\n    status: up\n",
			live:     "a: 1\nstate:\n  x: 2\n  y: 3\nstacks:\n  - app: n\n    status: down\nlast_seen: now\n",
			volatile: []string{"state", "stacks.status", "last_seen"},
			want:     []configgen.Change{},
		},
		{
			name:     "wildcard volatile segment",
			hub:      "apps:\n  a:\n    version: 1\n    port: 1\n",
			live:     "apps:\n  a:\n    version: 2\n    port: 2\n",
			volatile: []string{"apps.*.version"},
			want:     []configgen.Change{{Key: "apps.a.port", Type: configgen.Changed, Hub: "1", Live: "2"}},
		},
		{
			name: "a map against a scalar",
			hub:  "a:\n  b: 1\n",
			live: "a: off\n",
			want: []configgen.Change{
				{Key: "a", Type: configgen.Removed, Live: "off"},
				{Key: "a.b", Type: configgen.Added, Hub: "1"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configgen.Diff([]byte(tt.hub), []byte(tt.live), tt.volatile)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := configgen.Diff([]byte("a: 1\n"), []byte("<html>"), nil); err == nil || !strings.Contains(err.Error(), "live config") {
		t.Errorf("a live answer that is not YAML: %v", err)
	}
}

func TestDiffNeverShowsSecrets(t *testing.T) {
	cfg := testConfig()
	hubYAML, err := configgen.Generate(configgen.DefaultTemplate, cfg)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := configgen.Diff(hubYAML, []byte("customer:\n  id: kovacs-csalad\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		for _, s := range []string{cfg.APIKey, cfg.SessionSecret, cfg.CloudflareTunnelToken} {
			if c.Hub == s || c.Live == s {
				t.Errorf("%s shows a secret", c.Key)
			}
		}
	}
}

func TestExtract(t *testing.T) {
	template := []byte("customer:\n  id: \"\"\n  name: \"\"\n  domain: \"\"\nhub:\n  url: https://hub\n  api_key: \"\"\n" +
		"session:\n  secret: \"\"\nbackup:\n  keep_daily: 7\n  keep_weekly: 4\nupdates:\n  channel: stable\n")
	live := []byte("customer:\n  id: kovacs\n  name: Kovács\n  domain: kovacs.felhom.eu\n  email: k@example.com\n" +
		"hub:\n  url: https://hub\n  api_key: live-key\nsession:\n  secret: live-secret\n" +
		"cloudflare:\n  tunnel_token: tok\nbackup:\n  keep_daily: 14 # more\n  keep_weekly: 4\n" +
		"updates:\n  channel: stable\nruntime:\n  last_boot: x\nextra: [1, 2]\n")
	ex, err := configgen.Extract(template, live, []string{"runtime"})
	if err != nil {
		t.Fatal(err)
	}
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	for _, c := range []struct{ name, got, want string }{
		{"id", str(ex.CustomerID), "kovacs"},
		{"name", str(ex.DisplayName), "Kovács"},
		{"domain", str(ex.Domain), "kovacs.felhom.eu"},
		{"tunnel", str(ex.TunnelToken), "tok"},
		{"api key", str(ex.APIKey), "live-key"},
		{"session", str(ex.SessionSecret), "live-secret"},
		{"heartbeat", str(ex.LegacyHeartbeatUUID), "<nil>"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	want := "customer:\n  email: k@example.com\n\nbackup:\n  keep_daily: 14 # more\n\nextra: [1, 2]\n"
	if ex.OverridesYAML != want {
		t.Errorf("overrides:\n%s\nwant:\n%s", ex.OverridesYAML, want)
	}
	if err := configgen.ValidateOverrides(ex.OverridesYAML); err != nil {
		t.Errorf("extracted overrides are not acceptable: %v", err)
	}
	// Merged over the template, the overrides give back the live values.
	cfg := testConfig()
	cfg.OverridesYAML = ex.OverridesYAML
	cfg.CustomerID, cfg.DisplayName, cfg.Domain = "kovacs", "Kovács", "kovacs.felhom.eu"
	cfg.APIKey, cfg.SessionSecret, cfg.CloudflareTunnelToken, cfg.LegacyHeartbeatUUID = "live-key", "live-secret", "tok", ""
	regenerated, err := configgen.Generate(template, cfg)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := configgen.Diff(regenerated, live, []string{"runtime", "monitoring"})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("after a pull the hub's config still differs: %+v", changes)
	}
}

// FuzzDiff checks that Diff never panics, that a document equals itself,
// and that swapping the sides swaps added and removed.
func FuzzDiff(f *testing.F) {
	f.Add("a: 1\nb: [x, y]\n", "a: 2\nc: {d: e}\n")
	f.Add(string(configgen.DefaultTemplate), "customer:\n  id: x\nhub:\n  api_key: k\n")
	f.Add("a: &x {b: 1}\nc: *x\n", "a: null\n")
	f.Add("a: 1.0\nb: '1'\n", "a: 1\nb: 1\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, err := configgen.Diff([]byte(a), []byte(b), []string{"v"})
		if err != nil {
			return
		}
		self, err := configgen.Diff([]byte(a), []byte(a), nil)
		if err != nil || len(self) != 0 {
			t.Fatalf("a document differs from itself: %v %+v", err, self)
		}
		ba, err := configgen.Diff([]byte(b), []byte(a), []string{"v"})
		if err != nil {
			t.Fatalf("one direction fails: %v", err)
		}
		if len(ab) != len(ba) {
			t.Fatalf("asymmetric: %d vs %d changes", len(ab), len(ba))
		}
		mirror := map[string]string{configgen.Added: configgen.Removed, configgen.Removed: configgen.Added, configgen.Changed: configgen.Changed}
		for i := range ab {
			if ab[i].Key != ba[i].Key || mirror[ab[i].Type] != ba[i].Type {
				t.Fatalf("not mirrored: %+v vs %+v", ab[i], ba[i])
			}
		}
	})
}
