package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReportCreateGlobalKeyMakesManualCustomer(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/report", globalKey, exampleReport(t)).mustStatus(t, http.StatusOK)
	if r.json["status"] != "ok" || r.json["customer_blocked"] != false {
		t.Errorf("response = %s", r.body)
	}
	list := e.do("GET", "/api/v1/customers", globalKey, nil).mustStatus(t, http.StatusOK)
	customers := list.json["customers"].([]any)
	if len(customers) != 1 {
		t.Fatalf("customers = %s", list.body)
	}
	c := customers[0].(map[string]any)
	if c["customer_id"] != "kovacs-csalad" || c["managed"] != false || c["status"] != "WARN" {
		t.Errorf("customer = %v", c)
	}
	latest := c["latest"].(map[string]any)
	if latest["disk_percent"] != 91.2 || latest["containers_running"] != 4.0 || latest["controller_version"] != "v1.4.2" {
		t.Errorf("latest = %v", latest)
	}
}

func TestReportCreateCustomerKey(t *testing.T) {
	e := newEnv(t)
	key, _ := e.createCustomer("kovacs-csalad")
	otherKey, _ := e.createCustomer("szabo-kft")

	e.do("POST", "/api/v1/report", key, exampleReport(t)).mustStatus(t, http.StatusOK)
	e.do("POST", "/api/v1/report", otherKey, exampleReport(t)).mustStatus(t, http.StatusForbidden).
		errorContains(t, "may not act for customer kovacs-csalad")
	// A customer key cannot create a manual customer either.
	e.do("POST", "/api/v1/report", key, `{"customer_id":"new-one"}`).mustStatus(t, http.StatusForbidden)
	e.do("GET", "/api/v1/customers/new-one", globalKey, nil).mustStatus(t, http.StatusNotFound)
}

func TestReportCreateBlocked(t *testing.T) {
	e := newEnv(t)
	key, _ := e.createCustomer("kovacs-csalad")
	e.do("POST", "/api/v1/admin/customers/kovacs-csalad/block", testAdminKey, nil).mustStatus(t, http.StatusOK)
	r := e.do("POST", "/api/v1/report", key, exampleReport(t)).mustStatus(t, http.StatusOK)
	if r.json["customer_blocked"] != true {
		t.Errorf("customer_blocked = %v", r.json["customer_blocked"])
	}
	// The report was stored all the same.
	e.do("GET", "/api/v1/customers/kovacs-csalad", globalKey, nil).mustStatus(t, http.StatusOK)
}

func TestReportCreateBadInput(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/report", globalKey, exampleReport(t)).mustStatus(t, http.StatusOK)
	before := e.do("GET", "/api/v1/customers/kovacs-csalad", globalKey, nil).mustStatus(t, http.StatusOK).body

	huge := append([]byte(`{"customer_id":"kovacs-csalad","pad":"`), bytes.Repeat([]byte("x"), 4<<20)...)
	huge = append(huge, `"}`...)
	tests := []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"malformed", `{"customer_id":`, 400, "malformed JSON"},
		{"not an object", `[1,2]`, 400, "JSON object"},
		{"empty", ``, 400, "empty"},
		{"missing id", `{"health":"ok"}`, 400, "customer_id is required"},
		{"bad id syntax", `{"customer_id":"Kovács"}`, 400, "customer_id must be"},
		{"oversize", huge, 413, "larger than 4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/api/v1/report", globalKey, tt.body).mustStatus(t, tt.status).errorContains(t, tt.want)
		})
	}
	after := e.do("GET", "/api/v1/customers/kovacs-csalad", globalKey, nil).mustStatus(t, http.StatusOK).body
	if !bytes.Equal(before, after) {
		t.Error("a rejected report changed what is stored")
	}
	list := e.do("GET", "/api/v1/customers", globalKey, nil).mustStatus(t, http.StatusOK)
	if n := len(list.json["customers"].([]any)); n != 1 {
		t.Errorf("rejected reports created customers: %d", n)
	}
}

func TestCustomerGetAndHistory(t *testing.T) {
	e := newEnv(t)
	key, _ := e.createCustomer("kovacs-csalad")
	e.createCustomer("szabo-kft")

	e.do("GET", "/api/v1/customers/kovacs-csalad", key, nil).mustStatus(t, http.StatusNotFound).errorContains(t, "has no report")

	for i := range 3 {
		body := strings.Replace(string(exampleReport(t)), `"cpu_percent": 7.4`, `"cpu_percent": `+string(rune('1'+i)), 1)
		e.do("POST", "/api/v1/report", key, body).mustStatus(t, http.StatusOK)
		e.clock.Add(10 * time.Hour)
	}
	r := e.do("GET", "/api/v1/customers/kovacs-csalad", key, nil).mustStatus(t, http.StatusOK)
	// SPEC §2.3: the latest report as received, at the top level, plus
	// received_at and status.
	if r.json["apps_extra"] == nil || r.json["controller_version"] != "v1.4.2" || r.json["customer_id"] != "kovacs-csalad" {
		t.Errorf("the report is not served as received: %s", r.body)
	}
	if _, nested := r.json["report"]; nested {
		t.Error("the report is nested under a key")
	}
	if _, ok := r.json["field_problems"]; ok {
		t.Error("field_problems shown for a report without problems")
	}
	if r.json["received_at"] != epoch.Add(20*time.Hour).Format(time.RFC3339) {
		t.Errorf("received_at = %v", r.json["received_at"])
	}
	if r.json["status"] != "DOWN" { // 10 h since the last report
		t.Errorf("status = %v", r.json["status"])
	}

	h := e.do("GET", "/api/v1/customers/kovacs-csalad/history", key, nil).mustStatus(t, http.StatusOK)
	if h.json["period"] != "24h" || h.json["resolution"] != "raw" {
		t.Errorf("history meta = %v %v", h.json["period"], h.json["resolution"])
	}
	if n := len(h.json["points"].([]any)); n != 2 { // 10 h and 20 h ago; 30 h ago is outside
		t.Errorf("24h points = %d, want 2", n)
	}
	h = e.do("GET", "/api/v1/customers/kovacs-csalad/history?period=7d", globalKey, nil).mustStatus(t, http.StatusOK)
	points := h.json["points"].([]any)
	if len(points) != 3 || points[0].(map[string]any)["cpu_avg"] != 1.0 {
		t.Errorf("7d points = %v", points)
	}
	for _, bad := range []string{"0h", "91d", "1w", "abc", "-1d"} {
		e.do("GET", "/api/v1/customers/kovacs-csalad/history?period="+bad, key, nil).
			mustStatus(t, http.StatusBadRequest).errorContains(t, "period")
	}
	e.do("GET", "/api/v1/customers/nobody-here/history", globalKey, nil).mustStatus(t, http.StatusNotFound)
	e.do("GET", "/api/v1/customers/BAD_ID", globalKey, nil).mustStatus(t, http.StatusBadRequest)
	h = e.do("GET", "/api/v1/customers/szabo-kft/history", globalKey, nil).mustStatus(t, http.StatusOK)
	if pts, ok := h.json["points"].([]any); !ok || len(pts) != 0 {
		t.Errorf("pending customer's history = %s, want empty points", h.body)
	}
}

func TestUnknownEndpointIsJSON404(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/api/v1/nothing", globalKey, nil).mustStatus(t, http.StatusNotFound).errorContains(t, "no such endpoint")
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/healthz", "", nil).mustStatus(t, http.StatusOK)
	if r.json["version"] != "test" || r.json["status"] != "ok" {
		t.Errorf("healthz = %s", r.body)
	}
	e.db.Close()
	r = e.do("GET", "/healthz", "", nil).mustStatus(t, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

func TestRequestLogsHaveNoSecrets(t *testing.T) {
	e := newEnv(t)
	key, pw := e.createCustomer("kovacs-csalad")
	e.do("POST", "/api/v1/report", key, exampleReport(t)).mustStatus(t, http.StatusOK)
	e.do("POST", "/api/v1/admin/customers/kovacs-csalad/rotate-key", testAdminKey, nil).mustStatus(t, http.StatusOK)
	e.do("GET", "/api/v1/customers", "wrong-key", nil).mustStatus(t, http.StatusUnauthorized)
	logs := e.logs.String()
	if !strings.Contains(logs, "path=/api/v1/report") {
		t.Fatalf("no request line logged:\n%s", logs)
	}
	for _, secret := range []string{globalKey, key, pw, "wrong-key"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain a secret %q", secret)
		}
	}
}
