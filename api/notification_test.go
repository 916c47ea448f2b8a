package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	hub "github.com/felhom/hub"
)

func TestPreferences(t *testing.T) {
	e := newEnv(t)
	ownKey, _ := e.createCustomer("kovacs-csalad")
	e.do("POST", "/api/v1/report", globalKey, exampleReport(t)).mustStatus(t, http.StatusOK)

	example := `{"customer_id":"kovacs-csalad","email":"kovacs.anna@example.hu",
		"enabled_events":["backup_failed","disk_space_critical","node_down","expected_backup_missed","backup_failed"],
		"cooldown_hours":6}`
	r := e.do("POST", "/api/v1/preferences", ownKey, example).mustStatus(t, http.StatusOK)
	if r.json["status"] != "ok" || r.json["email"] != "kovacs.anna@example.hu" || r.json["cooldown_hours"] != 6.0 {
		t.Fatalf("response %s", r.body)
	}
	got, err := e.db.FindNotificationPrefs(context.Background(), "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.EnabledEvents, ",") != "backup_failed,disk_space_critical,node_down,expected_backup_missed" {
		t.Fatalf("enabled events %v (duplicates must go)", got.EnabledEvents)
	}

	tests := []struct {
		name, body, want string
	}{
		{"not an object", `[]`, "JSON object"},
		{"malformed", `{"customer_id":`, "malformed JSON"},
		{"no customer", `{"email":"a@example.hu"}`, "customer_id is required"},
		{"unknown customer", `{"customer_id":"nobody-here","email":"a@example.hu"}`, "customer nobody-here is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/api/v1/preferences", globalKey, tt.body).mustStatus(t, http.StatusBadRequest).errorContains(t, tt.want)
		})
	}
	// Nothing stored by any rejected body.
	after, _ := e.db.FindNotificationPrefs(context.Background(), "kovacs-csalad")
	if after.Email != got.Email || len(after.EnabledEvents) != len(got.EnabledEvents) || *after.CooldownHours != 6 {
		t.Fatalf("preferences changed by a rejected body: %+v", after)
	}

	// The tolerant reader (SPEC §2.2, §2.10): a field present but unreadable
	// keeps what the hub held (anna@example.hu, [backup_failed], 6 h), the
	// rest of the sync is stored, and the problem is named.
	const held = `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed"],"cooldown_hours":6}`
	tolerated := []struct {
		name, body, problem string
		email, events       string
		cooldown            int
		ignored             string
	}{
		{"bad email", `{"customer_id":"kovacs-csalad","email":"not-an-address","enabled_events":["tunnel_down"],"cooldown_hours":2}`, `"path":"email"`, "anna@example.hu", "tunnel_down", 2, ""},
		{"display name", `{"customer_id":"kovacs-csalad","email":"Bea <bea@example.hu>","enabled_events":["backup_failed"],"cooldown_hours":6}`, "its address part is used", "bea@example.hu", "backup_failed", 6, ""},
		{"two addresses", `{"customer_id":"kovacs-csalad","email":"a@example.hu,b@example.hu","enabled_events":["backup_failed"],"cooldown_hours":6}`, `"path":"email"`, "anna@example.hu", "backup_failed", 6, ""},
		{"header injection", `{"customer_id":"kovacs-csalad","email":"a@example.hu\r\nBcc: x@evil.com","enabled_events":["backup_failed"],"cooldown_hours":6}`, `"path":"email"`, "anna@example.hu", "backup_failed", 6, ""},
		{"no domain dot", `{"customer_id":"kovacs-csalad","email":"anna@localhost","enabled_events":["backup_failed"],"cooldown_hours":6}`, `"path":"email"`, "anna@example.hu", "backup_failed", 6, ""},
		{"email not a string", `{"customer_id":"kovacs-csalad","email":5,"enabled_events":["backup_failed"],"cooldown_hours":6}`, `"path":"email"`, "anna@example.hu", "backup_failed", 6, ""},
		{"unknown type", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed","coffee_ready"],"cooldown_hours":6}`, "", "anna@example.hu", "backup_failed", 6, "coffee_ready"},
		{"type in capitals", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["Tunnel_Down"],"cooldown_hours":6}`, "", "anna@example.hu", "tunnel_down", 6, ""},
		{"odd type", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["<script>","backup_failed"],"cooldown_hours":6}`, "enabled_events[0]", "anna@example.hu", "backup_failed", 6, ""},
		{"events not strings", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":[1],"cooldown_hours":6}`, "enabled_events[0]", "anna@example.hu", "", 6, ""},
		{"events not a list", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":"backup_failed","cooldown_hours":6}`, `"path":"enabled_events"`, "anna@example.hu", "backup_failed", 6, ""},
		{"negative cooldown", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed"],"cooldown_hours":-1}`, "cooldown_hours", "anna@example.hu", "backup_failed", 6, ""},
		{"cooldown too long", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed"],"cooldown_hours":169}`, "between 0 and 168", "anna@example.hu", "backup_failed", 6, ""},
		{"fractional cooldown", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed"],"cooldown_hours":1.5}`, "whole number", "anna@example.hu", "backup_failed", 6, ""},
		{"huge cooldown", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed"],"cooldown_hours":1e300}`, "between 0 and 168", "anna@example.hu", "backup_failed", 6, ""},
		{"cooldown as string", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed"],"cooldown_hours":"6"}`, "cooldown_hours", "anna@example.hu", "backup_failed", 6, ""},
	}
	for _, tt := range tolerated {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/api/v1/preferences", ownKey, held).mustStatus(t, http.StatusOK)
			r := e.do("POST", "/api/v1/preferences", ownKey, tt.body).mustStatus(t, http.StatusOK)
			problems, _ := json.Marshal(r.json["field_problems"])
			if tt.problem == "" && r.json["field_problems"] != nil || !strings.Contains(string(problems), tt.problem) {
				t.Fatalf("field problems %s, want %q", problems, tt.problem)
			}
			ignored, _ := json.Marshal(r.json["ignored_event_types"])
			if want, _ := json.Marshal(strings.Fields(tt.ignored)); string(ignored) != string(want) {
				t.Errorf("ignored_event_types %s, want %s", ignored, want)
			}
			p, err := e.db.FindNotificationPrefs(context.Background(), "kovacs-csalad")
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != tt.email || strings.Join(p.EnabledEvents, ",") != tt.events || p.CooldownHours == nil || *p.CooldownHours != tt.cooldown {
				t.Fatalf("stored %q %v %v, want %q %q %d", p.Email, p.EnabledEvents, p.CooldownHours, tt.email, tt.events, tt.cooldown)
			}
		})
	}
	// The edges are accepted; an empty address switches mail off.
	for _, body := range []string{
		`{"customer_id":"kovacs-csalad","email":"","enabled_events":[],"cooldown_hours":0}`,
		`{"customer_id":"kovacs-csalad","email":"a.b+c@sub.example.hu","enabled_events":["host_down"],"cooldown_hours":168}`,
		`{"customer_id":"kovacs-csalad","email":"a@example.hu","enabled_events":null}`,
	} {
		e.do("POST", "/api/v1/preferences", ownKey, body).mustStatus(t, http.StatusOK)
	}
}

func TestNotifyRelay(t *testing.T) {
	e := newEnv(t)
	ownKey, _ := e.createCustomer("kovacs-csalad")
	e.do("POST", "/api/v1/report", globalKey, exampleReport(t)).mustStatus(t, http.StatusOK)

	body := `{"customer_id":"kovacs-csalad","subject":"Mentés sikertelen","message":"restic exited with 1","severity":"error"}`
	r := e.do("POST", "/api/v1/notify", ownKey, body).mustStatus(t, http.StatusOK)
	if r.json["status"] != hub.NotificationQueued {
		t.Fatalf("response %s", r.body)
	}
	// The same subject again within the hour is held back.
	r = e.do("POST", "/api/v1/notify", ownKey, body).mustStatus(t, http.StatusOK)
	if r.json["status"] != hub.NotificationSkipped || r.json["reason"] != hub.SkipCooldown {
		t.Fatalf("second relay %s", r.body)
	}

	tests := []struct {
		name, body, want string
	}{
		{"bad customer", `{"customer_id":"Kovács","subject":"s","message":"m","severity":"error"}`, "customer_id must be"},
		{"unknown customer", `{"customer_id":"nobody-here","subject":"s","message":"m","severity":"error"}`, "customer nobody-here is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/api/v1/notify", globalKey, tt.body).mustStatus(t, http.StatusBadRequest).errorContains(t, tt.want)
		})
	}

	// Only the two accepted relays left rows; the list shows them.
	r = e.do("GET", "/api/v1/customers/kovacs-csalad/notifications", globalKey, nil).mustStatus(t, http.StatusOK)
	rows, _ := r.json["notifications"].([]any)
	if len(rows) != 2 {
		t.Fatalf("notifications %s", r.body)
	}
	first := rows[0].(map[string]any) // newest first
	if first["status"] != "skipped" || first["reason"] != "cooldown" || first["channel"] != "operator" || first["event_type"] != "notify" {
		t.Fatalf("row %v", first)
	}
	if outbox := r.json["outbox"].(map[string]any); outbox["pending"] != 1.0 {
		t.Fatalf("outbox %v", outbox)
	}
	e.do("GET", "/api/v1/customers/kovacs-csalad/notifications?limit=0", globalKey, nil).mustStatus(t, http.StatusBadRequest)
	e.do("GET", "/api/v1/customers/kovacs-csalad/notifications?status=lost", globalKey, nil).mustStatus(t, http.StatusBadRequest)
	e.do("GET", "/api/v1/customers/nobody-here/notifications", globalKey, nil).mustStatus(t, http.StatusNotFound)
}
