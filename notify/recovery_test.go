package notify_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/notify"
	"github.com/felhom/hub/store"
)

// The customer's notice of a recovery download is Hungarian, says when,
// and tells them to call if it was not them; it goes through the outbox,
// at most once an hour, to no blocked customer.
func TestRecoveryRetrievedNotice(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 44, 0, 0, time.UTC)
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = func() time.Time { return now }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := &hub.CustomerConfig{CustomerID: "kovacs-csalad", DisplayName: "Kovács család", Status: hub.ConfigActive}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: "kovacs-csalad", Email: "anna@example.hu", EnabledEvents: []string{}}); err != nil {
		t.Fatal(err)
	}
	d, err := notify.NewDispatcher(db, notify.Policy{CustomerEnabled: true, OperatorEnabled: true, OperatorEmail: "ops@felhom.eu"},
		mustTemplates(t), "https://hub.felhom.eu")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.NotifyRecoveryRetrieved(ctx, "kovacs-csalad", now); err != nil {
		t.Fatal(err)
	}
	mails, err := db.ClaimOutbox(ctx, "test", 10, time.Minute)
	if err != nil || len(mails) != 1 {
		t.Fatalf("%d mails queued, %v", len(mails), err)
	}
	m := mails[0]
	if m.To != "anna@example.hu" || m.Channel != hub.ChannelCustomer {
		t.Errorf("mail to %s on %s", m.To, m.Channel)
	}
	if m.Subject != "Felhom: Letöltötték a helyreállítási adatait" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{
		"Tisztelt Ügyfelünk!",
		"Felhom-szervere helyreállítási adatait 2026. november 22. 10:44-kor letöltötték.",
		"Ha ezt nem Ön kérte, és nem is egyeztettünk róla, kérjük, azonnal hívjon minket.",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "kovacs-csalad") || strings.Contains(m.HTML, cfg.RetrievalPassword) {
		t.Errorf("the notice shows the customer id or a secret:\n%s", m.Text)
	}
	// Within the hour: skipped for the cooldown; blocked: skipped.
	if err := d.NotifyRecoveryRetrieved(ctx, "kovacs-csalad", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	log, err := db.FindNotifications(ctx, hub.NotificationFilter{CustomerID: "kovacs-csalad"})
	if err != nil || len(log) != 2 || log[0].Status != hub.NotificationSkipped || log[0].Reason != hub.SkipCooldown {
		t.Fatalf("second notice within the hour: %+v, %v", log, err)
	}
	if err := db.SetCustomerBlocked(ctx, "kovacs-csalad", true); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if err := d.NotifyRecoveryRetrieved(ctx, "kovacs-csalad", now); err != nil {
		t.Fatal(err)
	}
	log, _ = db.FindNotifications(ctx, hub.NotificationFilter{CustomerID: "kovacs-csalad"})
	if log[0].Reason != hub.SkipBlocked {
		t.Errorf("a blocked customer's notice: %+v", log[0])
	}
}

// DR events go to the operator only, whatever the customer enabled.
func TestDREventsOperatorOnly(t *testing.T) {
	p := notify.Policy{OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour, CustomerEnabled: true}
	st := &hub.NotificationState{Now: time.Now(), Customer: &hub.Customer{ID: "c1"},
		Prefs: &hub.NotificationPrefs{Email: "anna@example.hu", EnabledEvents: []string{hub.EventDRBundleStale}}}
	decisions := p.Decide(hub.EventDRBundleStale, hub.SeverityWarning, st)
	for _, d := range decisions {
		want := hub.NotificationSkipped
		if d.Channel == hub.ChannelOperator {
			want = hub.NotificationQueued
		}
		if d.Status != want {
			t.Errorf("%s: %s (%s), want %s", d.Channel, d.Status, d.Reason, want)
		}
	}
}
