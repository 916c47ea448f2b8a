package api_test

import (
	"context"
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
		{"bad email", `{"customer_id":"kovacs-csalad","email":"not-an-address"}`, "email must be an email address"},
		{"display name", `{"customer_id":"kovacs-csalad","email":"Anna <anna@example.hu>"}`, "email must be an email address"},
		{"two addresses", `{"customer_id":"kovacs-csalad","email":"a@example.hu,b@example.hu"}`, "email must be an email address"},
		{"header injection", `{"customer_id":"kovacs-csalad","email":"a@example.hu\r\nBcc: x@evil.com"}`, "email must be an email address"},
		{"no domain dot", `{"customer_id":"kovacs-csalad","email":"anna@localhost"}`, "email must be an email address"},
		{"email not a string", `{"customer_id":"kovacs-csalad","email":5}`, "field email"},
		{"unknown type", `{"customer_id":"kovacs-csalad","enabled_events":["backup_failed","coffee_ready"]}`, `"coffee_ready" is not a known event type`},
		{"odd type", `{"customer_id":"kovacs-csalad","enabled_events":["<script>"]}`, "an entry is not a known event type"},
		{"events not strings", `{"customer_id":"kovacs-csalad","enabled_events":[1]}`, "field enabled_events"},
		{"negative cooldown", `{"customer_id":"kovacs-csalad","cooldown_hours":-1}`, "cooldown_hours must be a whole number between 0 and 168"},
		{"cooldown too long", `{"customer_id":"kovacs-csalad","cooldown_hours":169}`, "between 0 and 168"},
		{"fractional cooldown", `{"customer_id":"kovacs-csalad","cooldown_hours":1.5}`, "whole number"},
		{"huge cooldown", `{"customer_id":"kovacs-csalad","cooldown_hours":1e300}`, "between 0 and 168"},
		{"cooldown as string", `{"customer_id":"kovacs-csalad","cooldown_hours":"6"}`, "field cooldown_hours"},
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

	long := strings.Repeat("é", 2001)
	tests := []struct {
		name, body, want string
	}{
		{"no subject", `{"customer_id":"kovacs-csalad","message":"m","severity":"error"}`, "subject is required"},
		{"long subject", `{"customer_id":"kovacs-csalad","subject":"` + strings.Repeat("s", 201) + `","message":"m","severity":"error"}`, "subject is longer than 200"},
		{"subject with newline", `{"customer_id":"kovacs-csalad","subject":"a\nBcc: x@evil.com","message":"m","severity":"error"}`, "one line"},
		{"no message", `{"customer_id":"kovacs-csalad","subject":"s","severity":"error"}`, "message is required"},
		{"long message", `{"customer_id":"kovacs-csalad","subject":"s","message":"` + long + `","severity":"error"}`, "message is longer than 2000"},
		{"no severity", `{"customer_id":"kovacs-csalad","subject":"s","message":"m"}`, "severity is required"},
		{"bad severity", `{"customer_id":"kovacs-csalad","subject":"s","message":"m","severity":"critical"}`, "severity must be info, warning or error"},
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
