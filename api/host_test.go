package api_test

import (
	"context"
	"encoding/json"
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
	status, body := h.do("POST", "/api/v1/admin/hosts", testAdminKey, []byte(`{"customer_id":"`+customerID+`"}`))
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
		{"customer key", customerKey, `{"customer_id":"kovacs-csalad"}`, 401, "admin token"},
		{"global key", globalKey, `{"customer_id":"kovacs-csalad"}`, 401, "admin token"},
		{"no key", "", `{"customer_id":"kovacs-csalad"}`, 401, "Authorization"},
		{"unknown customer", testAdminKey, `{"customer_id":"nobody"}`, 400, "customer nobody is unknown"},
		{"bad customer id", testAdminKey, `{"customer_id":"No Body"}`, 400, "customer_id must be"},
		{"missing customer id", testAdminKey, `{}`, 400, "customer_id is required"},
		{"unknown field", testAdminKey, `{"customer_id":"kovacs-csalad","hostname":"x"}`, 400, "unknown field"},
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
		if status, body := h.do("POST", "/api/v1/admin/customers/kovacs-csalad/block", testAdminKey, nil); status != 200 {
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

	// The tolerant reader (SPEC §2.2, §2.6): a malformed field or guest is
	// left out with a problem, and the heartbeat is stored all the same.
	tolerated := []struct {
		name, body, problem string
		guests              int
	}{
		{"bad vmid", `{"host_id":"` + hostID + `","guests":[{"vmid":0},{"vmid":102,"status":"running"}]}`, "guests[0].vmid", 1},
		{"duplicate vmid", `{"host_id":"` + hostID + `","guests":[{"vmid":101},{"vmid":101}]}`, "appears twice", 1},
		{"guest not an object", `{"host_id":"` + hostID + `","guests":["101",{"vmid":101}]}`, `"path":"guests[0]"`, 1},
		{"negative memory", `{"host_id":"` + hostID + `","host":{"mem_used_bytes":-1}}`, "host.mem_used_bytes", 0},
		{"bad reported_at", `{"host_id":"` + hostID + `","reported_at":"now"}`, "reported_at", 0},
		{"guests not an array", `{"host_id":"` + hostID + `","guests":{}}`, `"path":"guests"`, 0},
	}
	for _, tt := range tolerated {
		t.Run(tt.name, func(t *testing.T) {
			before := countHostReports(t, h)
			status, body := h.do("POST", "/api/v1/host-report", hostKey, []byte(tt.body))
			if status != 200 || body["status"] != "ok" {
				t.Fatalf("status %d %v, want 200 ok", status, body)
			}
			problems, _ := json.Marshal(body["field_problems"])
			if !strings.Contains(string(problems), tt.problem) {
				t.Fatalf("field problems %s, want them to mention %q", problems, tt.problem)
			}
			if got := countHostReports(t, h); got != before+1 {
				t.Fatalf("%d host reports, want %d", got, before+1)
			}
			hosts, err := h.db.FindHosts(context.Background(), "kovacs-csalad")
			if err != nil || len(hosts) != 1 || hosts[0].Latest == nil {
				t.Fatalf("hosts %v %v", hosts, err)
			}
			if got := hosts[0].Latest.GuestTotal; got != tt.guests {
				t.Errorf("guest_total %d, want %d (malformed guests dropped)", got, tt.guests)
			}
			if len(hosts[0].Latest.Problems) == 0 {
				t.Error("the latest host report keeps no field problems")
			}
		})
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
		{"unknown customer", testAdminKey, "nobody", 404},
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
