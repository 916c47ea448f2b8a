package api_test

import (
	"net/http"
	"regexp"
	"testing"
)

func TestAdminCustomerLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/admin/customers", testAdminKey, map[string]any{
		"customer_id": "kovacs-csalad", "display_name": "Kovács család", "domain": "kovacs-csalad.felhom.eu",
		"stale_threshold": "45m", "down_threshold": "2h",
	}).mustStatus(t, http.StatusCreated)
	key, _ := r.json["api_key"].(string)
	pw, _ := r.json["retrieval_password"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) || pw == "" || r.json["customer_id"] != "kovacs-csalad" {
		t.Fatalf("create response = %s", r.body)
	}
	e.do("POST", "/api/v1/admin/customers", testAdminKey, map[string]any{"customer_id": "kovacs-csalad"}).
		mustStatus(t, http.StatusConflict)

	g := e.do("GET", "/api/v1/admin/customers/kovacs-csalad", testAdminKey, nil).mustStatus(t, http.StatusOK)
	if g.json["display_name"] != "Kovács család" || g.json["api_key"] != key || g.json["retrieval_password"] != pw ||
		g.json["status"] != "active" || g.json["customer_status"] != "PENDING" || g.json["stale_threshold"] != "45m0s" {
		t.Errorf("get = %s", g.body)
	}

	e.do("POST", "/api/v1/admin/customers/kovacs-csalad/block", testAdminKey, nil).mustStatus(t, http.StatusOK)
	g = e.do("GET", "/api/v1/admin/customers/kovacs-csalad", testAdminKey, nil).mustStatus(t, http.StatusOK)
	if g.json["status"] != "blocked" || g.json["customer_status"] != "BLOCKED" {
		t.Errorf("after block: %s", g.body)
	}
	e.do("POST", "/api/v1/admin/customers/kovacs-csalad/unblock", testAdminKey, nil).mustStatus(t, http.StatusOK)

	rot := e.do("POST", "/api/v1/admin/customers/kovacs-csalad/rotate-key", testAdminKey, nil).mustStatus(t, http.StatusOK)
	newKey := rot.json["api_key"].(string)
	if newKey == key {
		t.Fatal("rotate returned the old key")
	}
	e.do("POST", "/api/v1/report", key, exampleReport(t)).mustStatus(t, http.StatusUnauthorized)
	e.do("POST", "/api/v1/report", newKey, exampleReport(t)).mustStatus(t, http.StatusOK)

	e.do("DELETE", "/api/v1/admin/customers/kovacs-csalad", testAdminKey, nil).mustStatus(t, http.StatusOK)
	e.do("GET", "/api/v1/admin/customers/kovacs-csalad", testAdminKey, nil).mustStatus(t, http.StatusNotFound)
	// It reported, so it stays as a manual customer.
	c := e.do("GET", "/api/v1/customers", globalKey, nil).mustStatus(t, http.StatusOK)
	list := c.json["customers"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["managed"] != false {
		t.Errorf("after delete: %s", c.body)
	}
	e.do("POST", "/api/v1/report", newKey, exampleReport(t)).mustStatus(t, http.StatusUnauthorized)
	e.do("DELETE", "/api/v1/admin/customers/kovacs-csalad", testAdminKey, nil).mustStatus(t, http.StatusNotFound)
}

func TestAdminCustomerCreateBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		body any
		want string
	}{
		{"malformed", `{"customer_id":`, "malformed JSON"},
		{"missing id", `{}`, "customer_id is required"},
		{"bad id", `{"customer_id":"a b"}`, "customer_id must be"},
		{"unknown field", `{"customer_id":"ab","dispaly_name":"x"}`, `unknown field "dispaly_name"`},
		{"bad domain", `{"customer_id":"ab","domain":"http://x"}`, "domain"},
		{"bad status", `{"customer_id":"ab","status":"paused"}`, "status"},
		{"bad threshold", `{"customer_id":"ab","stale_threshold":"soon"}`, "stale_threshold"},
		{"down before stale", `{"customer_id":"ab","stale_threshold":"2h","down_threshold":"1h"}`, "down_threshold"},
		{"wrong type", `{"customer_id":"ab","monitoring_paused":"yes"}`, "monitoring_paused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/api/v1/admin/customers", testAdminKey, tt.body).mustStatus(t, http.StatusBadRequest).errorContains(t, tt.want)
		})
	}
	list := e.do("GET", "/api/v1/customers", globalKey, nil).mustStatus(t, http.StatusOK)
	if n := len(list.json["customers"].([]any)); n != 0 {
		t.Errorf("rejected bodies created %d customers", n)
	}
	for _, path := range []string{"/block", "/unblock", "/rotate-key"} {
		e.do("POST", "/api/v1/admin/customers/nobody"+path, testAdminKey, nil).mustStatus(t, http.StatusNotFound)
	}
	e.do("POST", "/api/v1/admin/customers/NOT_VALID/block", testAdminKey, nil).mustStatus(t, http.StatusBadRequest)
}
