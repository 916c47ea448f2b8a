package api_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// hostFixture returns the example host report for a host id.
func hostFixture(t *testing.T, hostID string) []byte {
	t.Helper()
	body, err := os.ReadFile("testdata/host-report.json")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.Replace(string(body), "kovacs-csalad-3fa2c1", hostID, 1))
}

// mintHost registers a host through the admin API and returns id and key.
func (h *testHub) mintHost(customerID string) (string, string) {
	h.t.Helper()
	status, body := h.do("POST", "/api/v1/admin/hosts", globalKey, []byte(`{"customer_id":"`+customerID+`"}`))
	if status != 201 {
		h.t.Fatalf("mint: %d %v", status, body)
	}
	return body["host_id"].(string), body["api_key"].(string)
}

func TestAdminHostCreate(t *testing.T) {
	h := newTestHub(t)
	customerKey := h.customer("kovacs-csalad")
	tests := []struct {
		name    string
		key     string
		body    string
		status  int
		errPart string
	}{
		{"customer key", customerKey, `{"customer_id":"kovacs-csalad"}`, 403, "global API key"},
		{"no key", "", `{"customer_id":"kovacs-csalad"}`, 401, "Authorization"},
		{"unknown customer", globalKey, `{"customer_id":"nobody"}`, 400, "customer nobody is unknown"},
		{"bad customer id", globalKey, `{"customer_id":"No Body"}`, 400, "customer_id must be"},
		{"missing customer id", globalKey, `{}`, 400, "customer_id is required"},
		{"unknown field", globalKey, `{"customer_id":"kovacs-csalad","hostname":"x"}`, 400, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.do("POST", "/api/v1/admin/hosts", tt.key, []byte(tt.body))
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
			if msg, _ := body["error"].(string); !strings.Contains(msg, tt.errPart) {
				t.Fatalf("error %q, want it to mention %q", msg, tt.errPart)
			}
		})
	}

	t.Run("success", func(t *testing.T) {
		hostID, key := h.mintHost("kovacs-csalad")
		if !regexp.MustCompile(`^kovacs-csalad-[0-9a-f]{6}$`).MatchString(hostID) {
			t.Fatalf("host_id %q", hostID)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
			t.Fatalf("api_key is not 64 hex characters")
		}
		// The key works at once on /host-report and nowhere else.
		if status, body := h.do("POST", "/api/v1/host-report", key, hostFixture(t, hostID)); status != 200 {
			t.Fatalf("host-report with the minted key: %d %v", status, body)
		}
		if status, _ := h.do("GET", "/api/v1/customers/kovacs-csalad", key, nil); status != 401 {
			t.Fatalf("host key on a controller endpoint: %d, want 401", status)
		}
		// The plain key is not stored.
		var n int
		if err := rawDB(t, h).QueryRow(`SELECT COUNT(*) FROM hosts WHERE api_key_hash = ?`, key).Scan(&n); err != nil || n != 0 {
			t.Fatalf("plain key stored (%d, %v)", n, err)
		}
	})
}

func TestHostReportAuth(t *testing.T) {
	h := newTestHub(t)
	customerKey := h.customer("kovacs-csalad")
	hostID, hostKey := h.mintHost("kovacs-csalad")
	otherID, _ := h.mintHost("kovacs-csalad")
	tests := []struct {
		name   string
		key    string
		hostID string
		status int
	}{
		{"global key, known host", globalKey, hostID, 200},
		{"per-host key, own host", hostKey, hostID, 200},
		{"per-host key, other host", hostKey, otherID, 403},
		{"global key, unknown host", globalKey, "kovacs-csalad-000000", 400},
		{"customer key", customerKey, hostID, 401},
		{"unknown key", "0123456789abcdef0123456789abcdef", hostID, 401},
		{"no key", "", hostID, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.do("POST", "/api/v1/host-report", tt.key, hostFixture(t, tt.hostID))
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
			if status != 200 && body["error"] == nil {
				t.Fatalf("no error message: %v", body)
			}
		})
	}
}

func TestHostReportIngest(t *testing.T) {
	h := newTestHub(t)
	h.customer("kovacs-csalad")
	hostID, hostKey := h.mintHost("kovacs-csalad")

	status, body := h.do("POST", "/api/v1/host-report", hostKey, hostFixture(t, hostID))
	if status != 200 {
		t.Fatalf("status %d %v", status, body)
	}
	want := map[string]any{"status": "ok", "poll_interval_seconds": 900.0, "blocked": false,
		"desired_generation": 0.0, "has_signed_ops": false}
	if len(body) != len(want) {
		t.Fatalf("envelope %v, want %v", body, want)
	}
	for k, v := range want {
		if body[k] != v {
			t.Fatalf("envelope %v, want %v", body, want)
		}
	}

	status, body = h.do("GET", "/api/v1/customers/kovacs-csalad/hosts", globalKey, nil)
	if status != 200 {
		t.Fatalf("hosts: %d %v", status, body)
	}
	hosts := body["hosts"].([]any)
	if len(hosts) != 1 {
		t.Fatalf("hosts %v", hosts)
	}
	host := hosts[0].(map[string]any)
	latest := host["latest"].(map[string]any)
	for k, v := range map[string]any{"guest_total": 2.0, "guest_running": 1.0, "cpu_percent": 11.3,
		"mem_percent": 56.3, "disk_percent": 30.0, "cloudflared_status": "running"} {
		if latest[k] != v {
			t.Errorf("latest.%s = %v, want %v", k, latest[k], v)
		}
	}
	if host["status"] != "OK" || host["monitor_state"] != "up" || host["hostname"] != "pve-kovacs" {
		t.Errorf("host %v", host)
	}
	guests := host["guests"].([]any)
	if len(guests) != 2 || guests[0].(map[string]any)["guest_id"] != hostID+"/101" {
		t.Fatalf("guests %v", guests)
	}
	for _, k := range []string{"api_key", "api_key_hash", "desired_json", "desired_spec_json"} {
		if _, ok := host[k]; ok {
			t.Errorf("host view shows %s", k)
		}
	}

	t.Run("blocked customer", func(t *testing.T) {
		if status, body := h.do("POST", "/api/v1/admin/customers/kovacs-csalad/block", globalKey, nil); status != 200 {
			t.Fatalf("block: %d %v", status, body)
		}
		status, body := h.do("POST", "/api/v1/host-report", hostKey, hostFixture(t, hostID))
		if status != 200 || body["blocked"] != true {
			t.Fatalf("status %d %v, want blocked:true", status, body)
		}
	})

	rejects := []struct {
		name    string
		body    []byte
		status  int
		errPart string
	}{
		{"oversize", []byte(`{"host_id":"` + hostID + `","audit_tail":["` + strings.Repeat("a", 4<<20) + `"]}`), 413, "larger than 4 MiB"},
		{"not JSON", []byte(`host`), 400, "JSON object"},
		{"no host_id", []byte(`{"agent_version":"0.2.0"}`), 400, "host_id is required"},
		{"bad vmid", []byte(`{"host_id":"` + hostID + `","guests":[{"vmid":0}]}`), 400, "guests[0].vmid"},
		{"duplicate vmid", []byte(`{"host_id":"` + hostID + `","guests":[{"vmid":101},{"vmid":101}]}`), 400, "appears twice"},
		{"negative memory", []byte(`{"host_id":"` + hostID + `","host":{"mem_used_bytes":-1}}`), 400, "host.mem_used_bytes"},
		{"bad reported_at", []byte(`{"host_id":"` + hostID + `","reported_at":"now"}`), 400, "reported_at"},
		{"guests not an array", []byte(`{"host_id":"` + hostID + `","guests":{}}`), 400, "field guests"},
	}
	before := countHostReports(t, h)
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.do("POST", "/api/v1/host-report", hostKey, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
			if msg, _ := body["error"].(string); !strings.Contains(msg, tt.errPart) {
				t.Fatalf("error %q, want it to mention %q", msg, tt.errPart)
			}
		})
	}
	if got := countHostReports(t, h); got != before {
		t.Fatalf("rejected bodies stored: %d host reports, want %d", got, before)
	}

	// A minimal heartbeat, with the optional sections absent, is fine.
	if status, body := h.do("POST", "/api/v1/host-report", hostKey, []byte(`{"host_id":"`+hostID+`"}`)); status != 200 {
		t.Fatalf("minimal heartbeat: %d %v", status, body)
	}
}

func TestCustomerHostListAuth(t *testing.T) {
	h := newTestHub(t)
	key := h.customer("kovacs-csalad")
	otherKey := h.customer("other-node")
	_, hostKey := h.mintHost("kovacs-csalad")
	for _, tt := range []struct {
		name, key, id string
		status        int
	}{
		{"own key", key, "kovacs-csalad", 200},
		{"global key", globalKey, "kovacs-csalad", 200},
		{"other customer's key", otherKey, "kovacs-csalad", 403},
		{"host key", hostKey, "kovacs-csalad", 401},
		{"unknown customer", globalKey, "nobody", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := h.do("GET", "/api/v1/customers/"+tt.id+"/hosts", tt.key, nil); status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
		})
	}
}

func countHostReports(t *testing.T, h *testHub) int {
	t.Helper()
	var n int
	if err := rawDB(t, h).QueryRow(`SELECT COUNT(*) FROM host_reports`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
