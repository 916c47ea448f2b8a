package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// extremeValues are what a broken or hostile node might put where the hub
// expects a number: huge, tiny, negative, beyond float64, and other types.
var extremeValues = []string{
	`1e300`, `-1e300`, `1.7976931348623157e308`, `-0`, `5e-324`, `9007199254740993`,
	`1e400`, `-1e400`, `123456789012345678901234567890`, `"NaN"`, `"Infinity"`, `"1e300"`,
	`true`, `null`, `[]`, `{}`,
}

// TestExtremeNumbersNeverBreakAReader is the regression test of the 1e300
// fault (issue 16): one customer's key put used_bytes: 1e300 into a report,
// and GET /api/v1/customers answered 500 for the whole fleet, as did that
// customer's history at every period, even after it reported normally
// again. Every numeric field of every stream gets every extreme value; the
// bodies are stored, and then every endpoint and page answers 200 with
// valid JSON, before and after the rollups and after a normal report.
func TestExtremeNumbersNeverBreakAReader(t *testing.T) {
	m := MustRunMain(t, nil)
	c := &apiClient{t: t, base: "http://" + m.Addr(), key: m.GlobalKey}

	created := c.mustJSON("POST", "/api/v1/admin/customers", `{"customer_id":"kovacs","display_name":"Kovács","domain":"kovacs.felhom.eu"}`, http.StatusCreated)
	customerKey, password := created["api_key"].(string), created["retrieval_password"].(string)
	host := c.mustJSON("POST", "/api/v1/admin/hosts", `{"customer_id":"kovacs"}`, http.StatusCreated)
	hostID, hostKey := host["host_id"].(string), host["api_key"].(string)
	c.mustJSON("POST", "/api/v1/report", `{"customer_id":"szabo","health":"ok"}`, http.StatusOK) // an honest neighbour

	for _, v := range extremeValues {
		report := fmt.Sprintf(`{"customer_id":"kovacs","reported_at":"2026-11-22T09:45:03Z","health":"ok",
			"system":{"uptime_seconds":%[1]s,"cpu_percent":%[1]s,"load1":%[1]s,"mem_total_bytes":%[1]s,"mem_used_bytes":%[1]s},
			"storage":[{"mount":"/","total_bytes":%[1]s,"used_bytes":%[1]s},{"mount":"/data","total_bytes":1000,"used_bytes":%[1]s}],
			"containers":[{"name":"x","state":"running"}],
			"backups":{"last_backup_at":"2026-11-22T02:00:00Z","repository_bytes":%[1]s}}`, v)
		c.withKey(customerKey).mustJSON("POST", "/api/v1/report", report, http.StatusOK)

		hostReport := fmt.Sprintf(`{"host_id":%[2]q,"agent_version":"0.2.0",
			"host":{"uptime_seconds":%[1]s,"cpu_percent":%[1]s,"mem_total_bytes":%[1]s,"mem_used_bytes":%[1]s,"disk_total_bytes":%[1]s,"disk_used_bytes":%[1]s},
			"guests":[{"vmid":%[1]s,"name":"ct","status":"running"},{"vmid":101,"name":"ok","status":"running","spec":{"cores":%[1]s}}]}`, v, hostID)
		c.withKey(hostKey).mustJSON("POST", "/api/v1/host-report", hostReport, http.StatusOK)

		event := fmt.Sprintf(`{"customer_id":"kovacs","event_type":"disk_space_warning","severity":"warning",
			"message":%[1]q,"details":{"percent":%[1]s},"occurred_at":%[1]s}`, v)
		c.withKey(customerKey).mustJSON("POST", "/api/v1/event", event, http.StatusCreated)

		prefs := fmt.Sprintf(`{"customer_id":"kovacs","email":"anna@example.hu","enabled_events":["backup_failed",%[1]s],"cooldown_hours":%[1]s}`, v)
		c.withKey(customerKey).mustJSON("POST", "/api/v1/preferences", prefs, http.StatusOK)

		relay := fmt.Sprintf(`{"customer_id":"kovacs","subject":"s","message":"m","severity":%[1]s}`, v)
		c.withKey(customerKey).mustJSON("POST", "/api/v1/notify", relay, http.StatusOK)

		backup := fmt.Sprintf(`{"customer_id":"kovacs","created_at":%[1]s,"controller_yaml":"Y3VzdG9tZXI6IHt9Cg==",
			"settings_json":"e30=","disks":[{"uuid":%[1]s,"mount_point":"/mnt/a"}],"restic":{"primary_password":"pw"}}`, v)
		c.withKey(customerKey).mustJSON("POST", "/api/v1/infra-backup", backup, http.StatusCreated)
	}

	readEverything := func(stage string) {
		t.Helper()
		paths := []string{
			"/healthz", "/metrics",
			"/api/v1/customers", "/api/v1/customers/kovacs", "/api/v1/customers/szabo",
			"/api/v1/customers/kovacs/events?limit=1000", "/api/v1/customers/kovacs/hosts",
			"/api/v1/customers/kovacs/notifications", "/api/v1/infra-backup/kovacs",
			"/api/v1/admin/customers/kovacs", "/api/v1/admin/audit",
			"/", "/fleet", "/configs", "/customers/kovacs", "/customers/szabo", "/customers/kovacs/events",
			"/customers/kovacs/events?severity=warning",
		}
		for _, period := range []string{"1h", "24h", "7d", "30d", "90d"} {
			paths = append(paths, "/api/v1/customers/kovacs/history?period="+period,
				"/api/v1/customers/kovacs/hosts/"+hostID+"/history?period="+period)
		}
		for _, period := range []string{"24h", "7d", "30d"} {
			paths = append(paths, "/customers/kovacs/history?period="+period)
		}
		for _, p := range paths {
			status, body := c.do("GET", p, "")
			if status != http.StatusOK {
				t.Errorf("%s: GET %s = %d: %.300s", stage, p, status, body)
				continue
			}
			if strings.HasPrefix(p, "/api/") && !json.Valid(body) {
				t.Errorf("%s: GET %s is not valid JSON: %.300s", stage, p, body)
			}
		}
		req, _ := http.NewRequest("GET", c.base+"/api/v1/recovery/kovacs", nil)
		req.Header.Set("X-Retrieval-Password", password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !json.Valid(body) {
			t.Errorf("%s: recovery = %d: %.300s", stage, resp.StatusCode, body)
		}
	}
	readEverything("stored")

	// The rollups fold what was stored; they must not carry an overflow.
	ctx := context.Background()
	for range 10 {
		if n, err := m.DB.RollUpHistory(ctx, 1000); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	if _, err := m.DB.CompactHistory(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	readEverything("rolled up")

	// Every stored percentage is within 0..100.
	for _, p := range []string{"/api/v1/customers/kovacs/history?period=24h", "/api/v1/customers/kovacs/history?period=30d", "/api/v1/customers/kovacs/history?period=90d"} {
		var h struct {
			Points []map[string]any `json:"points"`
		}
		if err := json.Unmarshal(c.mustBody("GET", p, http.StatusOK), &h); err != nil {
			t.Fatal(err)
		}
		if len(h.Points) == 0 {
			t.Errorf("%s has no points", p)
		}
		for _, pt := range h.Points {
			for _, k := range []string{"cpu_avg", "cpu_max", "mem_avg", "mem_max", "disk_avg", "disk_max"} {
				if v, _ := pt[k].(float64); v < 0 || v > 100 {
					t.Errorf("%s: %s = %v", p, k, pt[k])
				}
			}
		}
	}

	// A normal report afterwards: everything still reads.
	c.withKey(customerKey).mustJSON("POST", "/api/v1/report", `{"customer_id":"kovacs","health":"ok","system":{"cpu_percent":5}}`, http.StatusOK)
	readEverything("after a normal report")
}

// apiClient calls a running hub in tests.
type apiClient struct {
	t    *testing.T
	base string
	key  string
}

func (c *apiClient) withKey(key string) *apiClient {
	return &apiClient{t: c.t, base: c.base, key: key}
}

func (c *apiClient) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	key := c.key
	if strings.HasPrefix(path, "/api/v1/admin/") {
		key = testAdminKey // the admin API takes an admin token
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, out
}

func (c *apiClient) mustBody(method, path string, want int) []byte {
	c.t.Helper()
	status, body := c.do(method, path, "")
	if status != want {
		c.t.Fatalf("%s %s = %d, want %d: %.500s", method, path, status, want, body)
	}
	return body
}

func (c *apiClient) mustJSON(method, path, body string, want int) map[string]any {
	c.t.Helper()
	status, out := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s = %d, want %d: %.500s\nbody: %.500s", method, path, status, want, out, body)
	}
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&m); err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return m
}

// TestFieldProblemsOnMetrics: the problems of stored bodies are counted on
// /metrics by stream and field, list indices folded.
func TestFieldProblemsOnMetrics(t *testing.T) {
	m := MustRunMain(t, nil)
	c := &apiClient{t: t, base: "http://" + m.Addr(), key: m.GlobalKey}
	c.mustJSON("POST", "/api/v1/report", `{"customer_id":"kovacs","health":"sick","storage":[{"used_bytes":-1,"total_bytes":5},{"used_bytes":-1,"total_bytes":5}]}`, http.StatusOK)
	c.mustJSON("POST", "/api/v1/event", `{"customer_id":"kovacs","event_type":"backup_failed","message":"x"}`, http.StatusCreated)
	metrics := string(c.mustBody("GET", "/metrics", http.StatusOK))
	for _, want := range []string{
		`hub_ingest_field_problems_total{field="health",stream="report"} 1`,
		`hub_ingest_field_problems_total{field="storage[].used_bytes",stream="report"} 2`,
		`hub_ingest_field_problems_total{field="severity",stream="event"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
