package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestConfigCreate(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.LoggedInClient()
	expectContains(t, c.Get("/configs/new").Body, `action="/configs"`, `name="customer_id"`, `placeholder="30m (hub default)"`)

	resp := c.Post("/configs", url.Values{
		"customer_id": {"kovacs-csalad"}, "display_name": {"Kovács család"}, "domain": {"kovacs-csalad.felhom.eu"},
		"status": {"active"}, "stale_threshold": {"45m"}, "down_threshold": {"2h"}, "monitoring_paused": {"on"},
	})
	expectStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/customers/kovacs-csalad" {
		t.Fatalf("redirect to %q", loc)
	}
	cfg, err := h.DB.FindCustomerConfig(t.Context(), "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DisplayName != "Kovács család" || cfg.Domain != "kovacs-csalad.felhom.eu" || cfg.StaleThreshold != 45*time.Minute ||
		cfg.DownThreshold != 2*time.Hour || !cfg.MonitoringPaused || cfg.APIKey == "" {
		t.Errorf("stored config %+v", cfg)
	}
	page := c.Get("/customers/kovacs-csalad")
	expectContains(t, page.Body, `id="flash"`, "Config for kovacs-csalad created.", cfg.APIKey, "45m", "2h", "paused by the operator")
	// The flash shows once.
	expectNotContains(t, c.Get("/customers/kovacs-csalad").Body, `id="flash"`)
	if !strings.Contains(h.Logs.String(), "customer config created") || strings.Contains(h.Logs.String(), cfg.APIKey) {
		t.Error("creation not logged, or logged with the key")
	}
}

func TestConfigFormShowsErrorsAndKeepsInput(t *testing.T) {
	h := MustHarness(t, nil)
	h.Config("taken", "Taken", nil)
	c := h.LoggedInClient()
	tests := []struct {
		name   string
		form   url.Values
		errors []string // field ids with an error
	}{
		{"bad everything", url.Values{"customer_id": {"Bad ID!"}, "display_name": {strings.Repeat("x", 201)},
			"domain": {"-bad-.example"}, "status": {"weird"}, "stale_threshold": {"soon"}, "down_threshold": {"10s"}},
			[]string{"customer_id", "display_name", "domain", "status", "stale_threshold", "down_threshold"}},
		{"down not after stale", url.Values{"customer_id": {"fine"}, "status": {"active"}, "stale_threshold": {"2h"}},
			[]string{"down_threshold"}},
		{"taken id", url.Values{"customer_id": {"taken"}, "status": {"active"}}, []string{"customer_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.Post("/configs", tt.form)
			expectStatus(t, resp, http.StatusUnprocessableEntity)
			expectContains(t, resp.Body, `id="form-errors"`)
			for _, field := range []string{"customer_id", "display_name", "domain", "status", "stale_threshold", "down_threshold"} {
				has := strings.Contains(resp.Body, `id="`+field+`-error"`)
				want := false
				for _, e := range tt.errors {
					want = want || e == field
				}
				if has != want {
					t.Errorf("error next to %s: %v, want %v", field, has, want)
				}
			}
			// What was typed comes back (escaped).
			for _, field := range []string{"customer_id", "domain", "stale_threshold"} {
				if v := tt.form.Get(field); v != "" {
					expectContains(t, resp.Body, `value="`+htmlEscape(v)+`"`)
				}
			}
		})
	}
	if _, err := h.DB.FindCustomerByID(t.Context(), "fine"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Error("an invalid form created a customer")
	}
	resp := c.Post("/configs", tests[1].form)
	expectContains(t, resp.Body, "Must be longer than the stale threshold (2h).")
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

func TestConfigEdit(t *testing.T) {
	h := MustHarness(t, nil)
	orig := h.Config("kovacs", "Kovács", func(c *hub.CustomerConfig) { c.StaleThreshold = 45 * time.Minute })
	c := h.LoggedInClient()
	form := c.Get("/configs/kovacs/edit")
	expectStatus(t, form, http.StatusOK)
	expectContains(t, form.Body, `action="/configs/kovacs"`, `value="Kovács"`, `value="45m"`, "readonly")

	// An invalid edit comes back with the input kept and nothing saved.
	resp := c.Post("/configs/kovacs", url.Values{"display_name": {"Új név"}, "domain": {"bad domain"}, "status": {"active"}})
	expectStatus(t, resp, http.StatusUnprocessableEntity)
	expectContains(t, resp.Body, `value="Új név"`, `value="bad domain"`, `id="domain-error"`)
	if cfg, _ := h.DB.FindCustomerConfig(t.Context(), "kovacs"); cfg.DisplayName != "Kovács" {
		t.Error("an invalid edit was saved")
	}

	resp = c.Post("/configs/kovacs", url.Values{"customer_id": {"hijack"}, "display_name": {"Kovács család"},
		"domain": {"kovacs.felhom.eu"}, "status": {"blocked"}, "down_threshold": {"3h"}})
	expectStatus(t, resp, http.StatusSeeOther)
	cfg, err := h.DB.FindCustomerConfig(t.Context(), "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DisplayName != "Kovács család" || cfg.Status != hub.ConfigBlocked || cfg.StaleThreshold != 0 || cfg.DownThreshold != 3*time.Hour {
		t.Errorf("after edit: %+v", cfg)
	}
	if cfg.APIKey != orig.APIKey || cfg.RetrievalPassword != orig.RetrievalPassword {
		t.Error("the edit changed the credentials")
	}
	if _, err := h.DB.FindCustomerByID(t.Context(), "hijack"); err == nil {
		t.Error("the posted customer_id was used")
	}
	expectContains(t, c.Get("/customers/kovacs").Body, "Config of kovacs saved.")
	expectStatus(t, c.Post("/configs/nobody", url.Values{"status": {"active"}}), http.StatusNotFound)
}

func TestBlockHidesFromDashboardAndUnblockBringsBack(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	resp := c.Post("/customers/ok-node/block", nil)
	expectStatus(t, resp, http.StatusSeeOther)
	if resp.Header.Get("Location") != "/customers/ok-node" {
		t.Errorf("redirect to %q", resp.Header.Get("Location"))
	}
	page := c.Get("/customers/ok-node")
	expectContains(t, page.Body, "ok-node is blocked", `id="blocked-banner"`, "badge-blocked")
	if rowOf(c.Get("/").Body, "ok-node") != "" {
		t.Error("blocked customer still on the dashboard")
	}
	expectContains(t, rowOf(c.Get("/configs").Body, "ok-node"), `class="blocked"`, "BLOCKED")

	expectStatus(t, c.Post("/customers/ok-node/unblock", nil), http.StatusSeeOther)
	expectContains(t, rowOf(c.Get("/").Body, "ok-node"), "badge-ok")

	expectStatus(t, c.Post("/customers/manual-node/block", nil), http.StatusNotFound)
	expectStatus(t, c.Post("/customers/nobody/block", nil), http.StatusNotFound)
}

func TestRotateKey(t *testing.T) {
	h := MustHarness(t, nil)
	orig := h.Config("kovacs", "Kovács", nil)
	c := h.LoggedInClient()
	page := c.Get("/customers/kovacs")
	expectContains(t, page.Body, `<details class="confirm" id="confirm-rotate">`, `action="/customers/kovacs/rotate-key"`)
	expectStatus(t, c.Post("/customers/kovacs/rotate-key", nil), http.StatusSeeOther)
	cfg, _ := h.DB.FindCustomerConfig(t.Context(), "kovacs")
	if cfg.APIKey == orig.APIKey || len(cfg.APIKey) != 64 {
		t.Fatalf("key not rotated: %q", cfg.APIKey)
	}
	page = c.Get("/customers/kovacs")
	expectContains(t, page.Body, "New API key for kovacs.", cfg.APIKey)
	expectNotContains(t, page.Body, orig.APIKey)
	if strings.Contains(h.Logs.String(), cfg.APIKey) {
		t.Error("the new key is in the log")
	}
}

func TestDeleteConfig(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	expectContains(t, c.Get("/customers/ok-node").Body, `<details class="confirm" id="confirm-delete">`)
	resp := c.Post("/customers/ok-node/delete", nil)
	expectStatus(t, resp, http.StatusSeeOther)
	if resp.Header.Get("Location") != "/configs" {
		t.Errorf("redirect to %q", resp.Header.Get("Location"))
	}
	list := c.Get("/configs")
	expectContains(t, list.Body, "Config of ok-node deleted.")
	// It has reported, so it stays as a manual customer.
	expectContains(t, rowOf(list.Body, "ok-node"), "MANUAL")
	expectContains(t, c.Get("/customers/ok-node").Body, `id="create-config"`)

	// A customer that never reported is gone.
	expectStatus(t, c.Post("/customers/pending-node/delete", nil), http.StatusSeeOther)
	expectStatus(t, c.Get("/customers/pending-node"), http.StatusNotFound)
	expectStatus(t, c.Post("/customers/pending-node/delete", nil), http.StatusNotFound)
}

func TestCreateConfigFromManualCustomer(t *testing.T) {
	h := MustHarness(t, nil)
	h.Report("szabo", h.Clock.Now(), map[string]any{"controller_url": "https://szabo-bt.felhom.eu:8443/"})
	c := h.LoggedInClient()
	resp := c.Post("/customers/szabo/create-config", nil)
	expectStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/configs/szabo/edit" {
		t.Fatalf("redirect to %q", loc)
	}
	cfg, err := h.DB.FindCustomerConfig(t.Context(), "szabo")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Domain != "szabo-bt.felhom.eu" || cfg.DisplayName != "felhom-szabo" || cfg.Status != hub.ConfigActive || cfg.APIKey == "" {
		t.Errorf("config from report: %+v", cfg)
	}
	expectContains(t, c.Get("/configs/szabo/edit").Body, "created from its latest report", `value="szabo-bt.felhom.eu"`)
	expectStatus(t, c.Post("/customers/szabo/create-config", nil), http.StatusConflict)
}

func TestFormBodyLimit(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.LoggedInClient()
	resp := c.Post("/configs", url.Values{"display_name": {strings.Repeat("x", 300<<10)}})
	expectStatus(t, resp, http.StatusBadRequest)
}

func TestConfigFormTunnelToken(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.LoggedInClient()
	const token = "eyJhIjoiNDJmZDAiLCJ0IjoiYWJjIn0"
	form := c.Get("/configs/new").Body
	expectContains(t, form, `type="password" id="cloudflare_tunnel_token" name="cloudflare_tunnel_token" value=""`, "not set")
	expectNotContains(t, form, "clear_cloudflare_tunnel_token")

	// A form with errors never sends a typed token back.
	resp := c.Post("/configs", url.Values{"customer_id": {"Bad!"}, "status": {"active"}, "cloudflare_tunnel_token": {token}})
	expectStatus(t, resp, http.StatusUnprocessableEntity)
	expectNotContains(t, resp.Body, token)
	expectContains(t, resp.Body, `id="tunnel-token-retype"`)
	// A bad token is named without being shown.
	resp = c.Post("/configs", url.Values{"customer_id": {"kovacs"}, "status": {"active"}, "cloudflare_tunnel_token": {"has space"}})
	expectStatus(t, resp, http.StatusUnprocessableEntity)
	expectContains(t, resp.Body, `id="cloudflare_tunnel_token-error"`, "printable ASCII without spaces")
	expectNotContains(t, resp.Body, "has space")

	expectStatus(t, c.Post("/configs", url.Values{"customer_id": {"kovacs"}, "status": {"active"},
		"cloudflare_tunnel_token": {" " + token + "\n"}}), http.StatusSeeOther)
	stored := func() string {
		cfg, err := h.DB.FindCustomerConfig(t.Context(), "kovacs")
		if err != nil {
			t.Fatal(err)
		}
		return cfg.CloudflareTunnelToken
	}
	if got := stored(); got != token {
		t.Fatalf("stored token %q", got)
	}
	for _, path := range []string{"/configs/kovacs/edit", "/customers/kovacs"} {
		body := c.Get(path).Body
		expectNotContains(t, body, token)
		expectContains(t, body, `<span class="tag tag-set">set</span>`)
	}
	edit := c.Get("/configs/kovacs/edit").Body
	expectContains(t, edit, `name="clear_cloudflare_tunnel_token"`, "leave empty to keep the stored token")

	base := url.Values{"display_name": {"Kovács"}, "status": {"active"}}
	with := func(extra url.Values) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	// An empty field keeps the token.
	expectStatus(t, c.Post("/configs/kovacs", with(nil)), http.StatusSeeOther)
	if stored() != token {
		t.Error("an edit without a token lost the stored one")
	}
	// Replace and clear at once is refused.
	resp = c.Post("/configs/kovacs", with(url.Values{"cloudflare_tunnel_token": {"new-token"}, "clear_cloudflare_tunnel_token": {"on"}}))
	expectStatus(t, resp, http.StatusUnprocessableEntity)
	expectContains(t, resp.Body, "Enter a new token or remove the stored one, not both.")
	expectNotContains(t, resp.Body, "new-token", token)
	// Replace.
	expectStatus(t, c.Post("/configs/kovacs", with(url.Values{"cloudflare_tunnel_token": {"new-token"}})), http.StatusSeeOther)
	if stored() != "new-token" {
		t.Error("the token was not replaced")
	}
	// Clear.
	expectStatus(t, c.Post("/configs/kovacs", with(url.Values{"clear_cloudflare_tunnel_token": {"on"}})), http.StatusSeeOther)
	if stored() != "" {
		t.Error("the token was not cleared")
	}
	expectContains(t, c.Get("/customers/kovacs").Body, `<span class="tag tag-unset">not set</span>`)
	if strings.Contains(h.Logs.String(), token) || strings.Contains(h.Logs.String(), "new-token") {
		t.Error("a token is in the log")
	}
}

func TestConfigFormOverridesAndLegacy(t *testing.T) {
	h := MustHarness(t, nil)
	h.Config("kovacs", "Kovács", nil)
	c := h.LoggedInClient()
	edit := c.Get("/configs/kovacs/edit").Body
	// The legacy section is collapsed and marked deprecated; the overrides
	// hint names the keys the hub manages.
	expectContains(t, edit, `<details class="legacy" id="legacy">`, "deprecated", `name="legacy_heartbeat_uuid"`,
		`<textarea id="overrides_yaml" name="overrides_yaml"`, "<code>customer.id</code>", "<code>hub.api_key</code>")

	tests := []struct {
		name      string
		overrides string
		errField  string
		errText   string
	}{
		{"invalid YAML", "backup:\n  keep_daily: [7\n", "overrides_yaml", "overrides_yaml is not valid YAML: line"},
		{"not a mapping", "- a\n- b\n", "overrides_yaml", "must be a YAML mapping"},
		{"hub-managed key", "hub:\n  api_key: stolen\n", "overrides_yaml", "overrides_yaml may not set hub.api_key"},
		{"hub-managed parent", "customer: somebody\n", "overrides_yaml", "may not set customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.Post("/configs/kovacs", url.Values{"display_name": {"Kovács"}, "status": {"active"},
				"overrides_yaml": {tt.overrides}, "legacy_heartbeat_uuid": {"not-a-uuid"}})
			expectStatus(t, resp, http.StatusUnprocessableEntity)
			expectContains(t, resp.Body, `id="`+tt.errField+`-error"`, htmlEscape(tt.errText),
				// The input comes back as typed.
				`>`+htmlEscape(tt.overrides)+`</textarea>`, `value="not-a-uuid"`,
				// The legacy section opens to show its error.
				`<details class="legacy" id="legacy" open>`, `id="legacy_heartbeat_uuid-error"`)
		})
	}
	if cfg, _ := h.DB.FindCustomerConfig(t.Context(), "kovacs"); cfg.OverridesYAML != "" || cfg.LegacyHeartbeatUUID != "" {
		t.Error("an invalid form was saved")
	}

	// Valid input is stored with the textarea's CRLF line ends made LF.
	const uuid = "8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33"
	expectStatus(t, c.Post("/configs/kovacs", url.Values{"display_name": {"Kovács"}, "status": {"active"},
		"overrides_yaml": {"backup:\r\n  keep_daily: 14\r\n"}, "legacy_backup_uuid": {uuid}}), http.StatusSeeOther)
	cfg, _ := h.DB.FindCustomerConfig(t.Context(), "kovacs")
	if cfg.OverridesYAML != "backup:\n  keep_daily: 14\n" || cfg.LegacyBackupUUID != uuid {
		t.Errorf("stored overrides %q, legacy %q", cfg.OverridesYAML, cfg.LegacyBackupUUID)
	}
	page := c.Get("/customers/kovacs").Body
	expectContains(t, page, "keep_daily: 14", "backup "+uuid, "tag-deprecated")
	edit = c.Get("/configs/kovacs/edit").Body
	expectContains(t, edit, ">backup:\n  keep_daily: 14\n</textarea>", `value="`+uuid+`"`)
	// A blank textarea clears the overrides.
	expectStatus(t, c.Post("/configs/kovacs", url.Values{"display_name": {"Kovács"}, "status": {"active"},
		"overrides_yaml": {"  \r\n"}}), http.StatusSeeOther)
	if cfg, _ := h.DB.FindCustomerConfig(t.Context(), "kovacs"); cfg.OverridesYAML != "" || cfg.LegacyBackupUUID != "" {
		t.Errorf("after clearing: %q %q", cfg.OverridesYAML, cfg.LegacyBackupUUID)
	}
}
