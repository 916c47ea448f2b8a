package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/configgen"
	"go.yaml.in/yaml/v4"
)

func TestConfigureTemplates(t *testing.T) {
	const derived = "https://gitea.dooplex.hu/admin/felhom-controller/raw/branch/main/controller.yaml.example"
	for _, tt := range []struct {
		name                 string
		mutate               func(*config.Config)
		url, token, user, pw string
		hubURL               string
	}{
		{name: "derived from the image, with the registry's credentials",
			mutate: func(c *config.Config) { c.Registry.Username, c.Registry.Token = "admin", "pat" },
			url:    derived, user: "admin", pw: "pat"},
		{name: "derived, the template token wins",
			mutate: func(c *config.Config) {
				c.Registry.Username, c.Registry.Token, c.Registry.TemplateToken = "admin", "pat", "tt"
			},
			url: derived, token: "tt"},
		{name: "an explicit URL on the registry's host gets its credentials",
			mutate: func(c *config.Config) {
				c.Registry.Username, c.Registry.Token = "admin", "pat"
				c.Registry.TemplateURL = "https://GITEA.dooplex.hu/admin/other/raw/branch/dev/controller.yaml.example"
			},
			url: "https://GITEA.dooplex.hu/admin/other/raw/branch/dev/controller.yaml.example", user: "admin", pw: "pat"},
		{name: "an explicit URL elsewhere never gets the registry's credentials",
			mutate: func(c *config.Config) {
				c.Registry.Username, c.Registry.Token = "admin", "pat"
				c.Registry.TemplateURL = "https://templates.example.com/controller.yaml.example"
			},
			url: "https://templates.example.com/controller.yaml.example"},
		{name: "no image: nothing to fetch", mutate: func(c *config.Config) { c.Registry.Image = "" }},
		{name: "public URL", mutate: func(c *config.Config) { c.Server.PublicURL = "https://staging.felhom.eu/" },
			url: derived, hubURL: "https://staging.felhom.eu"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.mutate(cfg)
			tm := configgen.NewTemplates(nil, slog.New(slog.DiscardHandler))
			configureTemplates(tm, cfg, slog.New(slog.DiscardHandler))
			if tm.URL != tt.url || tm.Token != tt.token || tm.Username != tt.user || tm.Password != tt.pw || tm.HubURL != tt.hubURL {
				t.Errorf("url %q token %q user %q password %q hub %q", tm.URL, tm.Token, tm.Username, tm.Password, tm.HubURL)
			}
			if tm.Interval != cfg.Registry.TemplateInterval.D() {
				t.Errorf("interval %v", tm.Interval)
			}
		})
	}
}

// A hub published as staging generates configs that report to staging,
// and, having only the built-in template, says so on the dashboard.
func TestMainStagingHubURLAndTemplateBanner(t *testing.T) {
	templateHost := httptest.NewServer(http.NotFoundHandler())
	defer templateHost.Close()
	m := MustRunMain(t, func(c *config.Config) {
		c.Server.PublicURL = "https://staging-hub.felhom.eu"
		c.Registry.TemplateURL = templateHost.URL + "/admin/felhom-controller/raw/branch/main/controller.yaml.example"
	})
	base := "http://" + m.Addr()
	do := func(method, path string, headers map[string]string, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return out
	}
	var creds struct {
		RetrievalPassword string `json:"retrieval_password"`
	}
	created := do("POST", "/api/v1/admin/customers", map[string]string{"Authorization": "Bearer " + testAdminKey},
		`{"customer_id":"kovacs-csalad","display_name":"Kovács család","domain":"kovacs-csalad.felhom.eu"}`)
	if err := json.Unmarshal(created, &creds); err != nil || creds.RetrievalPassword == "" {
		t.Fatalf("create: %s", created)
	}
	generated := do("GET", "/api/v1/config/kovacs-csalad", map[string]string{"X-Retrieval-Password": creds.RetrievalPassword}, "")
	var got struct{ Hub struct{ URL string } }
	if err := yaml.Unmarshal(generated, &got); err != nil {
		t.Fatal(err)
	}
	if got.Hub.URL != "https://staging-hub.felhom.eu" {
		t.Errorf("hub.url = %q, want the staging hub's public URL", got.Hub.URL)
	}

	page := do("GET", "/", nil, "")
	for _, want := range []string{`id="template-banner"`, `id="template-status"`, "<strong>built-in</strong>", templateHost.URL} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}
