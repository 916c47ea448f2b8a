package configgen_test

import (
	"bytes"
	"strings"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"go.yaml.in/yaml/v4"
)

func mustMerge(tb testing.TB, template, overrides string) string {
	tb.Helper()
	out, err := configgen.MergeYAML([]byte(template), []byte(overrides))
	if err != nil {
		tb.Fatalf("MergeYAML: %v", err)
	}
	return string(out)
}

func TestMergeSemantics(t *testing.T) {
	tests := []struct {
		name      string
		template  string
		overrides string
		want      string
	}{
		{
			name:      "nested maps merge recursively",
			template:  "a:\n  b:\n    c: 1\n    d: 2\n  e: 3\n",
			overrides: "a:\n  b:\n    c: 10\n",
			want:      "a:\n  b:\n    c: 10\n    d: 2\n  e: 3\n",
		},
		{
			name:      "new keys are appended in the overrides' order",
			template:  "a: 1\nb: 2\n",
			overrides: "z: 26\nc: 3\n",
			want:      "a: 1\nb: 2\nz: 26\nc: 3\n",
		},
		{
			name:      "template key order survives overriding",
			template:  "b: 1\na: 2\nc: 3\n",
			overrides: "c: 30\na: 20\n",
			want:      "b: 1\na: 20\nc: 30\n",
		},
		{
			name:      "lists replace, not append",
			template:  "l:\n  - 1\n  - 2\n  - 3\n",
			overrides: "l: [9]\n",
			want:      "l: [9]\n",
		},
		{
			name:      "null in the overrides sets null",
			template:  "a:\n  b: 1\nc: 2\n",
			overrides: "a: null\n",
			want:      "a: null\nc: 2\n",
		},
		{
			name:      "null in the template is replaced by a map",
			template:  "a: null\n",
			overrides: "a:\n  b: 1\n",
			want:      "a:\n  b: 1\n",
		},
		{
			name:      "type clash: scalar replaces a map",
			template:  "a:\n  b: 1\n",
			overrides: "a: off\n",
			want:      "a: off\n",
		},
		{
			name:      "type clash: map replaces a scalar",
			template:  "a: 1\n",
			overrides: "a:\n  b: 2\n",
			want:      "a:\n  b: 2\n",
		},
		{
			name:      "type clash: list replaces a map",
			template:  "a:\n  b: 1\n",
			overrides: "a: [1, 2]\n",
			want:      "a: [1, 2]\n",
		},
		{
			name:      "comments of the template are kept",
			template:  "# head\n\n# about a\na: 1 # line\n# about b\nb:\n  c: 2 # inner\n",
			overrides: "a: 5\nb:\n  c: 6\n",
			want:      "# head\n\n# about a\na: 5 # line\n# about b\nb:\n  c: 6 # inner\n",
		},
		{
			name:      "the template's quoting is kept for strings",
			template:  "a: \"\"\nb: 'x'\n",
			overrides: "a: hello\nb: world\n",
			want:      "a: \"hello\"\nb: 'world'\n",
		},
		{
			name:      "a string that looks like a number stays a string",
			template:  "a: \"\"\n",
			overrides: "a: \"123\"\n",
			want:      "a: \"123\"\n",
		},
		{
			name:      "a number replacing a quoted string is a number",
			template:  "a: \"\"\n",
			overrides: "a: 123\n",
			want:      "a: 123\n",
		},
		{
			name:      "empty overrides change nothing",
			template:  "a: 1\n",
			overrides: "",
			want:      "a: 1\n",
		},
		{
			name:      "comment-only overrides change nothing",
			template:  "a: 1\n",
			overrides: "# nothing here\n",
			want:      "a: 1\n",
		},
		{
			name:      "aliases in the overrides are expanded",
			template:  "a: 1\n",
			overrides: "x: &v\n  k: 1\ny: *v\n",
			want:      "a: 1\nx:\n  k: 1\n\ny:\n  k: 1\n",
		},
		{
			name:      "an empty null in a flow mapping stays null",
			template:  "a: {b: }\n",
			overrides: "",
			want:      "a: {b: null}\n",
		},
		{
			name:      "sections get a blank line between them",
			template:  "a:\n  b: 1\nc:\n  d: 2\ne: 3\n",
			overrides: "",
			want:      "a:\n  b: 1\n\nc:\n  d: 2\n\ne: 3\n",
		},
		{
			name:      "keep-chomped block scalars are not changed by spacing",
			template:  "a:\n  b: |+\n    text\n\nc: 1\n",
			overrides: "",
			want:      "a:\n  b: |+\n    text\n\nc: 1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustMerge(t, tt.template, tt.overrides)
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestMergeIsDeterministic(t *testing.T) {
	overrides := "backup:\n  keep_daily: 14\nextra:\n  z: 1\n  a: 2\n"
	first := mustMerge(t, string(configgen.DefaultTemplate), overrides)
	for range 20 {
		if got := mustMerge(t, string(configgen.DefaultTemplate), overrides); got != first {
			t.Fatalf("output differs between runs:\n%s\n---\n%s", first, got)
		}
	}
}

func TestParseMappingRejects(t *testing.T) {
	tests := []struct {
		name, input, wantErr string
	}{
		{"not yaml", "a: [1, 2\n", "is not valid YAML: line"},
		{"list at top", "- a\n- b\n", "must be a YAML mapping"},
		{"scalar at top", "hello\n", "must be a YAML mapping"},
		{"two documents", "a: 1\n---\nb: 2\n", "must be one YAML document"},
		{"duplicate keys", "a: 1\nb:\n  c: 1\n  c: 2\n", "duplicate key c at line 4"},
		{"tab indentation", "a:\n\tb: 1\n", "is not valid YAML"},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configgen.ParseMapping([]byte(tt.input), "template", false)
			if err == nil {
				t.Fatal("accepted")
			}
			if hub.ErrorCode(err) != hub.EINVALID || !strings.Contains(hub.ErrorMessage(err), tt.wantErr) {
				t.Errorf("error = %q (%s), want it to contain %q", hub.ErrorMessage(err), hub.ErrorCode(err), tt.wantErr)
			}
		})
	}
	if _, err := configgen.ParseMapping([]byte("  \n"), "template", false); err == nil {
		t.Error("empty template accepted")
	}
}

func TestParseOverrides(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantErr string
	}{
		{"empty", "", ""},
		{"free keys", "backup:\n  keep_daily: 14\nupdates:\n  channel: beta\n", ""},
		{"sibling of a managed key", "customer:\n  email: x@example.com\nmonitoring:\n  legacy:\n    other: 1\n", ""},
		{"managed key", "customer:\n  id: other\n", "may not set customer.id"},
		{"managed secret", "hub:\n  api_key: stolen\n", "may not set hub.api_key"},
		{"parent replaced by scalar", "session: off\n", "may not set session"},
		{"parent replaced by null", "cloudflare: null\n", "may not set cloudflare"},
		{"deep managed key", "monitoring:\n  legacy:\n    backup_uuid: x\n", "may not set monitoring.legacy.backup_uuid"},
		{"not a mapping", "[1, 2]", "must be a YAML mapping"},
		{"too large", "a: " + strings.Repeat("x", hub.MaxOverridesBytes) + "\n", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := configgen.ValidateOverrides(tt.text)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(hub.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func testConfig() *hub.CustomerConfig {
	return &hub.CustomerConfig{
		CustomerID:            "kovacs-csalad",
		DisplayName:           "Kovács család",
		Domain:                "kovacs-csalad.felhom.eu",
		Status:                hub.ConfigActive,
		APIKey:                "k3y",
		SessionSecret:         "s3cret",
		CloudflareTunnelToken: "eyJhIjoiYiJ9",
		LegacyHeartbeatUUID:   "8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33",
		OverridesYAML:         "backup:\n  keep_daily: 14 # two weeks\n",
	}
}

func TestGenerate(t *testing.T) {
	out, err := configgen.Generate(configgen.DefaultTemplate, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Customer struct{ ID, Name, Domain string }
		Hub      struct {
			URL    string
			APIKey string `yaml:"api_key"`
		}
		Session    struct{ Secret string }
		Cloudflare struct {
			TunnelToken string `yaml:"tunnel_token"`
		}
		Backup struct {
			KeepDaily int `yaml:"keep_daily"`
		}
		Monitoring struct {
			Legacy struct {
				Heartbeat string `yaml:"heartbeat_uuid"`
				Backup    string `yaml:"backup_uuid"`
			}
		}
	}
	if err := yaml.Load(out, &got); err != nil {
		t.Fatalf("generated config does not load: %v\n%s", err, out)
	}
	checks := []struct{ name, got, want string }{
		{"customer.id", got.Customer.ID, "kovacs-csalad"},
		{"customer.name", got.Customer.Name, "Kovács család"},
		{"customer.domain", got.Customer.Domain, "kovacs-csalad.felhom.eu"},
		{"hub.url (template)", got.Hub.URL, "https://hub.felhom.eu"},
		{"hub.api_key", got.Hub.APIKey, "k3y"},
		{"session.secret", got.Session.Secret, "s3cret"},
		{"cloudflare.tunnel_token", got.Cloudflare.TunnelToken, "eyJhIjoiYiJ9"},
		{"monitoring.legacy.heartbeat_uuid", got.Monitoring.Legacy.Heartbeat, "8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33"},
		{"monitoring.legacy.backup_uuid", got.Monitoring.Legacy.Backup, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if got.Backup.KeepDaily != 14 {
		t.Errorf("backup.keep_daily = %d, want the override 14", got.Backup.KeepDaily)
	}
	for _, want := range []string{
		"# felhom-controller configuration (template).",
		"# Deprecated: healthchecks ping UUIDs used before hub events existed.",
		`id: "kovacs-csalad" # set by the hub`,
		"keep_daily: 14 # two weeks",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	again, _ := configgen.Generate(configgen.DefaultTemplate, testConfig())
	if !bytes.Equal(out, again) {
		t.Error("Generate is not deterministic")
	}
}

func TestGenerateTemplateWithoutManagedSections(t *testing.T) {
	out, err := configgen.Generate([]byte("apps:\n  catalog_url: x\n"), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	if err := yaml.Load(out, &got); err != nil {
		t.Fatal(err)
	}
	if got["customer"]["id"] != "kovacs-csalad" || got["hub"]["api_key"] != "k3y" {
		t.Errorf("managed values missing from a template without their sections:\n%s", out)
	}
}

// FuzzMerge checks that merging never panics, that its output loads, that
// it is deterministic, and that merging the output again with the same
// overrides changes nothing (a merge is idempotent).
func FuzzMerge(f *testing.F) {
	f.Add(string(configgen.DefaultTemplate), "backup:\n  keep_daily: 14\n")
	f.Add("a:\n  b: 1\n", "a: null\n")
	f.Add("a: [1, 2]\n", "a:\n  b: {c: d}\n")
	f.Add("# c\na: &x 1\nb: *x\n", "b: 2\nc: [*x]\n")
	f.Add("a: |+\n  text\n\nb: 1\n", "b: |\n  x\n")
	f.Add("a: 'q'\n", "a: \"line\\nbreak\"\n")
	f.Fuzz(func(t *testing.T, template, overrides string) {
		out, err := configgen.MergeYAML([]byte(template), []byte(overrides))
		if err != nil {
			return
		}
		again, err := configgen.MergeYAML([]byte(template), []byte(overrides))
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("not deterministic: %v", err)
		}
		// The output is a template again, and merging the same overrides
		// into it changes no value (a merge is idempotent).
		twice, err := configgen.MergeYAML(out, []byte(overrides))
		if err != nil {
			t.Fatalf("output does not merge again: %v\n%s", err, out)
		}
		changes, err := configgen.Diff(out, twice, nil)
		if err != nil || len(changes) != 0 {
			t.Fatalf("merging twice changed values: %v %+v\n%s\n---\n%s", err, changes, out, twice)
		}
		// Every value the overrides set is in the output (an empty map
		// merges into the template's and leaves it as it was).
		changes, err = configgen.Diff([]byte(overrides), out, nil)
		if err != nil {
			t.Fatalf("overrides no longer parse: %v", err)
		}
		for _, c := range changes {
			if c.Type != configgen.Removed && c.Hub != "{}" {
				t.Fatalf("override %s %s (%q vs %q) in\n%s", c.Key, c.Type, c.Hub, c.Live, out)
			}
		}
	})
}
