package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// TestUnknownEventTypesGoToTheOperatorOnly: a well-formed type the hub does
// not know is stored and mailed to the operator by its severity, never to
// the customer, even when the customer's preferences name it (SPEC §2.4).
func TestUnknownEventTypesGoToTheOperatorOnly(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.db.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: "kovacs-csalad",
		Email: "kovacs.anna@example.hu", EnabledEvents: []string{"smart_prefail", "smart_info"}}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"customer_id":"kovacs-csalad","event_type":"smart_prefail","severity":"error","message":"sda reallocated sectors"}`,
		`{"customer_id":"kovacs-csalad","event_type":"smart_info","severity":"info","message":"sda checked"}`,
	} {
		e, err := hub.ParseEvent([]byte(body), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if e.Known() {
			t.Fatalf("%s is known", e.Type)
		}
		if err := h.db.CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.events.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := h.db.FindNotifications(ctx, hub.NotificationFilter{CustomerID: "kovacs-csalad"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range rows {
		got[n.Channel+"/"+n.EventType] = n.Status + " " + n.Reason
	}
	want := map[string]string{
		"operator/smart_prefail": "queued ",
		"customer/smart_prefail": "skipped not_enabled",
		"operator/smart_info":    "skipped not_enabled",
		"customer/smart_info":    "skipped not_enabled",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// TestUnknownEventTypesShareOneCooldown: a node posting ever new type names
// gets the operator one mail per cooldown, not one per name.
func TestUnknownEventTypesShareOneCooldown(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for i := range 20 {
		e, err := hub.ParseEvent([]byte(fmt.Sprintf(`{"customer_id":"kovacs-csalad","event_type":"made_up_%d","severity":"error","message":"x"}`, i)), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := h.db.CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.events.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := h.db.FindNotifications(ctx, hub.NotificationFilter{CustomerID: "kovacs-csalad", Status: hub.NotificationQueued})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Channel != hub.ChannelOperator {
		t.Fatalf("%d mails queued for 20 unknown types, want 1 to the operator: %+v", len(rows), rows)
	}
	// A known type keeps its own cooldown.
	h.postEvents("backup_failed")
	rows, _ = h.db.FindNotifications(ctx, hub.NotificationFilter{CustomerID: "kovacs-csalad", Status: hub.NotificationQueued})
	if len(rows) != 3 { // + the operator's and the customer's backup_failed mails
		t.Fatalf("%d mails queued, want 3", len(rows))
	}
}
