package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// Bad silences, acks and fleet event queries are 400s naming the problem;
// good ones are stored and listed.
func TestAlertingAPIValidation(t *testing.T) {
	e := newEnv(t)
	if r := e.do("POST", "/api/v1/report", globalKey, `{"customer_id":"kovacs","health":"ok"}`); r.status != 200 {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	bad := []struct{ method, path, body, names string }{
		{"POST", "/api/v1/admin/silences", `{"ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "scope is empty"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"kovacs","ends_at":"2026-12-23T12:00:00Z","reason":"x"}`, "30 days"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"kovacs","ends_at":"2026-11-22T12:00:00Z"}`, "reason is required"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"kovacs","reason":"x"}`, "ends_at is required"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"kovacs","ends_at":"2026-11-22T12:00:00Z","reason":"a\u0007b"}`, "control characters"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[0],"start":"22:00","duration":"2h"}}`, "recurrence.weekdays"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1],"start":"22:60","duration":"2h"}}`, "recurrence.start"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1],"start":"22:00","duration":"-2h"}}`, "recurrence.duration"},
		{"POST", "/api/v1/admin/silences", `{"customer_id":"nobody","ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "unknown"},
		{"POST", "/api/v1/admin/silences", `"silence"`, "JSON object"},
		{"GET", "/api/v1/admin/silences?state=forever", "", "state"},
		{"DELETE", "/api/v1/admin/silences/abc", "", "silence id"},
		{"DELETE", "/api/v1/admin/silences/-1", "", "silence id"},
		{"POST", "/api/v1/admin/customers/kovacs/ack", `{"note":"a\u0000b"}`, "note"},
		{"POST", "/api/v1/admin/customers/kovacs/ack", `{"note":"x","by":"me"}`, "unknown field"},
		{"GET", "/api/v1/events?type=Node%20Down", "", "type"},
		{"GET", "/api/v1/events?severity=fatal", "", "severity"},
		{"GET", "/api/v1/events?since=yesterday", "", "since"},
		{"GET", "/api/v1/events?limit=0", "", "limit"},
		{"GET", "/api/v1/events?limit=99999999999999999999", "", "limit"},
		{"GET", "/api/v1/events?customer=kovacs", "", "unknown parameter"},
	}
	for _, b := range bad {
		var body any
		if b.body != "" {
			body = b.body
		}
		r := e.do(b.method, b.path, testAdminKey, body)
		msg, _ := r.json["error"].(string)
		if r.status != http.StatusBadRequest || !strings.Contains(msg, b.names) {
			t.Errorf("%s %s %s: %d %q, want 400 naming %q", b.method, b.path, b.body, r.status, msg, b.names)
		}
	}
	if r := e.do("DELETE", "/api/v1/admin/silences/42", testAdminKey, nil); r.status != http.StatusNotFound {
		t.Errorf("end an unknown silence: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/admin/customers/kovacs/ack", testAdminKey, `{"note":"on it"}`); r.status != http.StatusConflict {
		t.Errorf("ack with nothing open: %d %s", r.status, r.body)
	}
	r := e.do("POST", "/api/v1/admin/silences", testAdminKey,
		`{"customer_id":"kovacs","event_types":["node_down"],"ends_at":"2026-11-29T12:00:00Z","reason":"weekly reboot","recurrence":{"weekdays":[6,7],"start":"03:00","duration":"1h"}}`)
	if r.status != http.StatusCreated || r.json["id"] != float64(1) || r.json["author"] != "admin-api" || r.json["state"] != "upcoming" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/admin/silences?state=upcoming", testAdminKey, nil); r.status != 200 || !strings.Contains(string(r.body), "weekly reboot") {
		t.Errorf("list upcoming: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/admin/silences/1", testAdminKey, nil); r.status != 200 || r.json["state"] != "expired" {
		t.Errorf("end: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/admin/silences/1", testAdminKey, nil); r.status != http.StatusConflict {
		t.Errorf("end twice: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/events?type=node_down,backup_failed&severity=error&since=24h&limit=5", globalKey, nil); r.status != 200 {
		t.Errorf("fleet events: %d %s", r.status, r.body)
	}
}
