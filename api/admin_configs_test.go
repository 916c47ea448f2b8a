package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// adminView is the part of GET /api/v1/admin/customers/{id} the tests read.
type adminView struct {
	CustomerID            string `json:"customer_id"`
	DisplayName           string `json:"display_name"`
	Domain                string `json:"domain"`
	Status                string `json:"status"`
	MonitoringPaused      bool   `json:"monitoring_paused"`
	StaleThreshold        string `json:"stale_threshold"`
	DownThreshold         string `json:"down_threshold"`
	CloudflareTunnelToken string `json:"cloudflare_tunnel_token"`
	LegacyHeartbeatUUID   string `json:"legacy_heartbeat_uuid"`
	LegacyBackupUUID      string `json:"legacy_backup_uuid"`
	OverridesYAML         string `json:"overrides_yaml"`
	APIKey                string `json:"api_key"`
}

func (h *configsHub) adminGet(id string) (adminView, cfgResponse) {
	h.t.Helper()
	res := h.do(cfgRequest{method: "GET", path: "/api/v1/admin/customers/" + id, key: testAdminKey})
	var v adminView
	_ = json.Unmarshal(res.body, &v)
	return v, res
}

func TestAdminCreateWithConfigFields(t *testing.T) {
	h := newConfigsHub(t)
	h.createCustomer(`{"customer_id":"kovacs","display_name":"Kovács","domain":"kovacs.felhom.eu",
		"cloudflare_tunnel_token":"eyJ0dW5uZWwiOiJ4In0=","legacy_heartbeat_uuid":"8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33",
		"legacy_backup_uuid":"c7d9e1f2-3a4b-4c5d-8e6f-7a8b9c0d1e22","overrides_yaml":"updates:\n  channel: beta\n",
		"stale_threshold":"45m","down_threshold":"2h","monitoring_paused":true}`)
	v, res := h.adminGet("kovacs")
	if res.status != http.StatusOK {
		t.Fatalf("get: %d %s", res.status, res.body)
	}
	want := adminView{CustomerID: "kovacs", DisplayName: "Kovács", Domain: "kovacs.felhom.eu", Status: "active",
		MonitoringPaused: true, StaleThreshold: "45m0s", DownThreshold: "2h0m0s",
		CloudflareTunnelToken: "eyJ0dW5uZWwiOiJ4In0=", LegacyHeartbeatUUID: "8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33",
		LegacyBackupUUID: "c7d9e1f2-3a4b-4c5d-8e6f-7a8b9c0d1e22", OverridesYAML: "updates:\n  channel: beta\n", APIKey: v.APIKey}
	if v != want {
		t.Errorf("got  %+v\nwant %+v", v, want)
	}

	for _, tc := range []struct{ name, body, wantErr string }{
		{"bad uuid", `{"customer_id":"x1","legacy_heartbeat_uuid":"123"}`, "legacy_heartbeat_uuid must be a UUID"},
		{"token with spaces", `{"customer_id":"x2","cloudflare_tunnel_token":"a b"}`, "cloudflare_tunnel_token must be printable ASCII"},
		{"overrides not yaml", `{"customer_id":"x3","overrides_yaml":"a: [1"}`, "overrides_yaml is not valid YAML"},
		{"overrides a list", `{"customer_id":"x4","overrides_yaml":"- 1"}`, "overrides_yaml must be a YAML mapping"},
		{"overrides set a managed key", `{"customer_id":"x5","overrides_yaml":"hub:\n  api_key: mine\n"}`, "may not set hub.api_key"},
		{"unknown field", `{"customer_id":"x6","tunnel_token":"t"}`, `unknown field "tunnel_token"`},
	} {
		res := h.do(cfgRequest{method: "POST", path: "/api/v1/admin/customers", key: testAdminKey, body: []byte(tc.body)})
		if res.status != http.StatusBadRequest || !strings.Contains(res.errorText(), tc.wantErr) {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, res.status, res.body, tc.wantErr)
		}
	}
	for _, id := range []string{"x1", "x2", "x3", "x4", "x5", "x6"} {
		if _, res := h.adminGet(id); res.status != http.StatusNotFound {
			t.Errorf("rejected customer %s was stored: %d", id, res.status)
		}
	}
}

func TestAdminCustomerUpdate(t *testing.T) {
	h := newConfigsHub(t)
	key, _ := h.createCustomer(`{"customer_id":"kovacs","display_name":"Kovács"}`)
	patch := func(id, body, k string) cfgResponse {
		return h.do(cfgRequest{method: "PATCH", path: "/api/v1/admin/customers/" + id, key: k, body: []byte(body)})
	}

	res := patch("kovacs", `{"display_name":"Kovács család","cloudflare_tunnel_token":"tok-1",
		"legacy_backup_uuid":"c7d9e1f2-3a4b-4c5d-8e6f-7a8b9c0d1e22","overrides_yaml":"backup:\n  keep_daily: 3\n",
		"stale_threshold":"40m","monitoring_paused":true}`, testAdminKey)
	if res.status != http.StatusOK {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	v, _ := h.adminGet("kovacs")
	if v.DisplayName != "Kovács család" || v.CloudflareTunnelToken != "tok-1" || v.OverridesYAML != "backup:\n  keep_daily: 3\n" ||
		v.StaleThreshold != "40m0s" || !v.MonitoringPaused || v.LegacyBackupUUID != "c7d9e1f2-3a4b-4c5d-8e6f-7a8b9c0d1e22" || v.APIKey != key {
		t.Fatalf("after patch: %+v", v)
	}
	// Clearing a field with "" works; absent fields stay.
	if res := patch("kovacs", `{"cloudflare_tunnel_token":""}`, testAdminKey); res.status != http.StatusOK {
		t.Fatalf("clear: %d %s", res.status, res.body)
	}
	if v, _ := h.adminGet("kovacs"); v.CloudflareTunnelToken != "" || v.DisplayName != "Kovács család" {
		t.Fatalf("after clear: %+v", v)
	}

	before, _ := h.adminGet("kovacs")
	tests := []struct {
		name, id, body, key string
		status              int
		wantErr             string
	}{
		{"unknown field", "kovacs", `{"display_name":"x","api_key":"mine"}`, testAdminKey, 400, `unknown field "api_key"`},
		{"customer_id not editable", "kovacs", `{"customer_id":"other"}`, testAdminKey, 400, `unknown field "customer_id"`},
		{"empty patch", "kovacs", `{}`, testAdminKey, 400, "sets no field"},
		{"not json", "kovacs", `display_name=x`, testAdminKey, 400, "must be a JSON object"},
		{"wrong type", "kovacs", `{"monitoring_paused":"yes"}`, testAdminKey, 400, "monitoring_paused"},
		{"bad status", "kovacs", `{"display_name":"x","status":"gone"}`, testAdminKey, 400, "status must be active or blocked"},
		{"bad threshold", "kovacs", `{"display_name":"x","down_threshold":"soon"}`, testAdminKey, 400, "down_threshold must be a duration"},
		{"down before stale", "kovacs", `{"display_name":"x","down_threshold":"30m"}`, testAdminKey, 400, "down_threshold must be longer"},
		{"bad domain", "kovacs", `{"display_name":"x","domain":"not a domain"}`, testAdminKey, 400, "domain must be a DNS name"},
		{"bad uuid", "kovacs", `{"display_name":"x","legacy_heartbeat_uuid":"nope"}`, testAdminKey, 400, "legacy_heartbeat_uuid must be a UUID"},
		{"bad overrides", "kovacs", `{"display_name":"x","overrides_yaml":"a:\n\tb: 1"}`, testAdminKey, 400, "overrides_yaml is not valid YAML"},
		{"managed overrides", "kovacs", `{"display_name":"x","overrides_yaml":"customer:\n  id: evil\n"}`, testAdminKey, 400, "may not set customer.id"},
		{"customer key", "kovacs", `{"display_name":"x"}`, key, 401, "admin token"},
		{"global key", "kovacs", `{"display_name":"x"}`, cfgGlobalKey, 401, "admin token"},
		{"no key", "kovacs", `{"display_name":"x"}`, "", 401, "missing Authorization"},
		{"unknown customer", "nobody", `{"display_name":"x"}`, testAdminKey, 404, "nobody has no config"},
		{"bad id", "Bad_Id", `{"display_name":"x"}`, testAdminKey, 400, "customer_id must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := patch(tt.id, tt.body, tt.key)
			if res.status != tt.status || !strings.Contains(res.errorText(), tt.wantErr) {
				t.Fatalf("got %d %s, want %d %q", res.status, res.body, tt.status, tt.wantErr)
			}
			if after, _ := h.adminGet("kovacs"); after != before {
				t.Fatalf("a rejected patch changed the config:\n%+v\n%+v", before, after)
			}
		})
	}
}
