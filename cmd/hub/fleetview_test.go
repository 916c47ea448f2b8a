package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/internal/pgtest"
)

// Both fleet reads, the dashboard's / and GET /api/v1/customers, show every
// change at once: a report, a block (status), an event, a rotated key, a
// deleted config. On SQLite and, with HUB_TEST_POSTGRES_DSN, on PostgreSQL.
func TestFleetReadsShowEveryChange(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { fleetReadsShowEveryChange(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Schema(t)
		fleetReadsShowEveryChange(t, func(c *config.Config) {
			c.Database.DSN = dsn
			c.API.ReportAPIKey = "fleet-view-test-global-key-0123456789"
		})
	})
}

func fleetReadsShowEveryChange(t *testing.T, mutate func(*config.Config)) {
	m := MustRunMain(t, mutate)
	base := "http://" + m.Addr()
	call := func(method, path, key string, body any) []byte {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return out
	}
	type apiRow struct {
		ID          string `json:"customer_id"`
		Managed     bool   `json:"managed"`
		Blocked     bool   `json:"blocked"`
		Status      string `json:"status"`
		Errors24h   int    `json:"errors_24h"`
		Warnings24h int    `json:"warnings_24h"`
	}
	// reads returns the customer's row in both reads; "" and nil when absent.
	reads := func(id string) (string, *apiRow) {
		t.Helper()
		page := string(call("GET", "/", "", nil))
		row := regexp.MustCompile(`(?s)<tr id="row-` + regexp.QuoteMeta(id) + `"[^>]*>.*?</tr>`).FindString(page)
		var list struct {
			Customers []apiRow `json:"customers"`
		}
		if err := json.Unmarshal(call("GET", "/api/v1/customers", m.GlobalKey, nil), &list); err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Customers {
			if c.ID == id {
				return row, &c
			}
		}
		return row, nil
	}
	report := func(id, key, health string) {
		t.Helper()
		call("POST", "/api/v1/report", key, map[string]any{"customer_id": id, "health": health, "controller_version": "v1.0.0"})
	}

	var created struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(call("POST", "/api/v1/admin/customers", testAdminKey, map[string]any{"customer_id": "fleet-node", "display_name": "Flotta"}), &created); err != nil {
		t.Fatal(err)
	}
	if row, c := reads("fleet-node"); !strings.Contains(row, `data-status="pending"`) || c == nil || c.Status != "PENDING" || !c.Managed {
		t.Fatalf("a new config: page %q, api %+v", row, c)
	}

	report("fleet-node", created.APIKey, "ok")
	if row, c := reads("fleet-node"); !strings.Contains(row, `data-status="ok"`) || c.Status != "OK" {
		t.Errorf("after a report: page %q, api %+v", row, c)
	}

	call("POST", "/api/v1/admin/customers/fleet-node/block", testAdminKey, nil)
	if row, c := reads("fleet-node"); row != "" || c.Status != "BLOCKED" || !c.Blocked {
		t.Errorf("after a block: page %q (blocked customers are not in the table), api %+v", row, c)
	}
	call("POST", "/api/v1/admin/customers/fleet-node/unblock", testAdminKey, nil)

	for i, sev := range []string{"error", "warning", "warning", "info"} {
		call("POST", "/api/v1/event", created.APIKey, map[string]any{"customer_id": "fleet-node", "event_type": "disk_space_warning",
			"severity": sev, "message": fmt.Sprintf("event %d", i)})
	}
	if row, c := reads("fleet-node"); !strings.Contains(row, "1 err") || !strings.Contains(row, "2 warn") || c.Errors24h != 1 || c.Warnings24h != 2 || c.Status != "OK" {
		t.Errorf("after events: page %q, api %+v", row, c)
	}

	var rotated struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(call("POST", "/api/v1/admin/customers/fleet-node/rotate-key", testAdminKey, nil), &rotated); err != nil || rotated.APIKey == "" {
		t.Fatalf("rotate: %v %+v", err, rotated)
	}
	report("fleet-node", rotated.APIKey, "warn")
	if row, c := reads("fleet-node"); !strings.Contains(row, `data-status="warn"`) || c.Status != "WARN" || !c.Managed {
		t.Errorf("after a rotated key and its first report: page %q, api %+v", row, c)
	}

	call("DELETE", "/api/v1/admin/customers/fleet-node", testAdminKey, nil)
	if row, c := reads("fleet-node"); row == "" || strings.Contains(row, "Flotta") || c == nil || c.Managed || c.Status != "WARN" {
		t.Errorf("after its config was deleted the customer is manual: page %q, api %+v", row, c)
	}
	call("POST", "/api/v1/admin/customers", testAdminKey, map[string]any{"customer_id": "gone-node"})
	if row, c := reads("gone-node"); row == "" || c == nil {
		t.Errorf("a second config: page %q, api %+v", row, c)
	}
	call("DELETE", "/api/v1/admin/customers/gone-node", testAdminKey, nil)
	if row, c := reads("gone-node"); row != "" || c != nil {
		t.Errorf("a customer that never reported is gone: page %q, api %+v", row, c)
	}
}
