package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/controller"
	"github.com/felhom/hub/fleet"
)

// withFleet wires a fleet service that calls controllers (plain http and
// loopback allowed: the fake controller is an httptest server).
func (h *configsHub) withFleet(allowInsecure bool) {
	logger := slog.New(slog.DiscardHandler)
	h.api.Fleet = &fleet.Service{
		Customers: h.db, Reports: h.db, Audit: h.db, Versions: h.db, Alerts: h.db,
		Configs: configgen.NewTemplates(h.db, logger),
		Controllers: controller.New(controller.Options{
			Policy: controller.Policy{AllowInsecure: allowInsecure}, Timeout: 2 * time.Second,
		}),
		Now: h.api.Now, Logger: logger,
	}
	h.api.Audit, h.api.Versions = h.db, h.db
}

func TestAdminSteeringEndpoints(t *testing.T) {
	var received []string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received = append(received, r.Method+" "+r.URL.Path+" "+string(body))
		if r.URL.Path == "/api/config" {
			io.WriteString(w, "customer:\n  id: kovacs\n  name: Live name\n")
			return
		}
		io.WriteString(w, `{"status":"ok"}`)
	}))
	defer fake.Close()
	h := newConfigsHub(t)
	h.withFleet(true)
	key, _ := h.createCustomer(`{"customer_id":"kovacs","display_name":"Kovács"}`)
	h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: key,
		body: []byte(fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q,"controller_version":"0.7.0"}`, fake.URL))})
	h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: cfgGlobalKey,
		body: []byte(`{"customer_id":"manual-one","controller_url":"https://manual-one.felhom.eu","controller_version":"v0.8.1"}`)})
	h.db.SetLatestControllerVersion(t.Context(), &hub.ControllerVersion{Image: "x/y", Version: "0.8.1"})

	admin := func(method, path, body string) cfgResponse {
		return h.do(cfgRequest{method: method, path: "/api/v1/admin/customers/" + path, key: testAdminKey, body: []byte(body)})
	}
	if res := admin("POST", "kovacs/push", ""); res.status != 200 || !strings.Contains(string(res.body), `"controller_message":"ok"`) {
		t.Errorf("push: %d %s", res.status, res.body)
	}
	if res := admin("GET", "kovacs/diff", ""); res.status != 200 || !strings.Contains(string(res.body), `"key":"customer.name"`) {
		t.Errorf("diff: %d %s", res.status, res.body)
	}
	if res := admin("POST", "kovacs/update", `{"version":"v0.9.0"}`); res.status != 200 || !strings.Contains(string(res.body), `"version":"v0.9.0"`) {
		t.Errorf("update: %d %s", res.status, res.body)
	}
	if res := admin("POST", "kovacs/update", ""); res.status != 200 || !strings.Contains(string(res.body), `"version":"0.8.1"`) {
		t.Errorf("update to latest: %d %s", res.status, res.body)
	}
	if res := admin("POST", "kovacs/update", `{"version":"1"}`); res.status != 400 {
		t.Errorf("bad version: %d %s", res.status, res.body)
	}
	if res := admin("POST", "kovacs/update", `{"versoin":"1.0.0"}`); res.status != 400 || !strings.Contains(res.errorText(), "unknown field") {
		t.Errorf("typo: %d %s", res.status, res.body)
	}
	if res := admin("POST", "kovacs/pull", ""); res.status != 200 || !strings.Contains(string(res.body), `"display_name"`) {
		t.Errorf("pull: %d %s", res.status, res.body)
	}
	if v, _ := h.adminGet("kovacs"); v.DisplayName != "Live name" {
		t.Errorf("after pull display_name = %q", v.DisplayName)
	}
	res := admin("POST", "manual-one/create-config", "")
	if res.status != http.StatusCreated || !strings.Contains(string(res.body), `"domain":"manual-one.felhom.eu"`) {
		t.Errorf("create-config: %d %s", res.status, res.body)
	}
	if res := admin("POST", "nobody/push", ""); res.status != 404 {
		t.Errorf("unknown: %d %s", res.status, res.body)
	}
	if res := h.do(cfgRequest{method: "POST", path: "/api/v1/admin/customers/kovacs/push", key: key}); res.status != 401 {
		t.Errorf("customer key: %d", res.status)
	}

	// Audit log over the API.
	res = h.do(cfgRequest{method: "GET", path: "/api/v1/admin/audit?customer_id=kovacs&limit=3", key: testAdminKey})
	var audit struct{ Entries []hub.AuditEntry }
	if err := json.Unmarshal(res.body, &audit); err != nil || len(audit.Entries) != 3 || audit.Entries[0].Action != fleet.ActionPull {
		t.Errorf("audit: %d %s", res.status, res.body)
	}
	if res := h.do(cfgRequest{method: "GET", path: "/api/v1/admin/audit?limit=0", key: testAdminKey}); res.status != 400 {
		t.Errorf("bad limit: %d", res.status)
	}

	// The fleet list marks outdated controllers.
	res = h.do(cfgRequest{method: "GET", path: "/api/v1/customers", key: cfgGlobalKey})
	var list struct {
		Customers []struct {
			ID              string `json:"customer_id"`
			UpdateAvailable bool   `json:"update_available"`
		}
		Latest string `json:"latest_controller_version"`
	}
	json.Unmarshal(res.body, &list)
	got := map[string]bool{}
	for _, c := range list.Customers {
		got[c.ID] = c.UpdateAvailable
	}
	if list.Latest != "0.8.1" || !got["kovacs"] || got["manual-one"] {
		t.Errorf("list: %s", res.body)
	}
}

func TestAdminPushRefusedWithoutInsecure(t *testing.T) {
	reached := false
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	defer fake.Close()
	h := newConfigsHub(t)
	h.withFleet(false)
	key, _ := h.createCustomer(`{"customer_id":"kovacs"}`)
	h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: key,
		body: []byte(fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, strings.Replace(fake.URL, "http:", "https:", 1)))})
	res := h.do(cfgRequest{method: "POST", path: "/api/v1/admin/customers/kovacs/push", key: testAdminKey})
	if res.status != http.StatusForbidden || !strings.Contains(res.errorText(), "loopback") {
		t.Errorf("push to loopback: %d %s", res.status, res.body)
	}
	if reached {
		t.Error("the loopback controller was reached")
	}
}
