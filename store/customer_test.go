package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

func TestCustomerConfigLifecycle(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	cfg := newConfig("kovacs-csalad")
	cfg.StaleThreshold = 45 * time.Minute
	cfg.DownThreshold = 2 * time.Hour
	cfg.MonitoringPaused = true
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCustomerConfig(ctx, newConfig("kovacs-csalad")); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Fatalf("second create: %v, want ECONFLICT", err)
	}

	got, err := db.FindCustomerConfig(ctx, "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if got.APIKey != cfg.APIKey || got.RetrievalPassword != cfg.RetrievalPassword || got.SessionSecret != cfg.SessionSecret {
		t.Error("credentials did not survive the round trip")
	}
	if got.StaleThreshold != 45*time.Minute || got.DownThreshold != 2*time.Hour || !got.MonitoringPaused {
		t.Errorf("overrides = %v %v %v", got.StaleThreshold, got.DownThreshold, got.MonitoringPaused)
	}

	c, err := db.FindCustomerByID(ctx, "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Managed || c.Latest != nil || c.Status(epoch, hub.DefaultThresholds) != hub.StatusPending {
		t.Errorf("customer = %+v", c)
	}
	if c.Thresholds.Stale != 45*time.Minute {
		t.Errorf("customer thresholds = %+v", c.Thresholds)
	}

	id, err := db.FindCustomerIDByKey(ctx, cfg.APIKey)
	if err != nil || id != "kovacs-csalad" {
		t.Fatalf("FindCustomerIDByKey = %q, %v", id, err)
	}
	if _, err := db.FindCustomerIDByKey(ctx, "wrong"); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Errorf("unknown key: %v, want EUNAUTHORIZED", err)
	}

	newKey := hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", newKey, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindCustomerIDByKey(ctx, cfg.APIKey); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Error("old key still works after rotation")
	}
	if id, err := db.FindCustomerIDByKey(ctx, newKey); err != nil || id != "kovacs-csalad" {
		t.Errorf("new key: %q, %v", id, err)
	}

	if err := db.SetCustomerBlocked(ctx, "kovacs-csalad", true); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.FindCustomerByID(ctx, "kovacs-csalad"); !c.Blocked {
		t.Error("customer not blocked")
	}
	if err := db.SetCustomerBlocked(ctx, "kovacs-csalad", false); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.FindCustomerByID(ctx, "kovacs-csalad"); c.Blocked {
		t.Error("customer still blocked")
	}
}

func TestCustomerConfigNotFound(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	for name, err := range map[string]error{
		"find":   func() error { _, err := db.FindCustomerConfig(ctx, "nobody"); return err }(),
		"block":  db.SetCustomerBlocked(ctx, "nobody", true),
		"rotate": db.RotateCustomerKey(ctx, "nobody", "k", time.Hour),
		"delete": db.DeleteCustomerConfig(ctx, "nobody"),
	} {
		if hub.ErrorCode(err) != hub.ENOTFOUND {
			t.Errorf("%s: %v, want ENOTFOUND", name, err)
		}
	}
	if _, err := db.FindCustomerByID(ctx, "nobody"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("FindCustomerByID: %v", err)
	}
}

func TestDeleteConfig(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	// Never reported: the customer disappears with its config.
	if err := db.CreateCustomerConfig(ctx, newConfig("waiting")); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCustomerConfig(ctx, "waiting"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindCustomerByID(ctx, "waiting"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("deleted waiting customer still exists: %v", err)
	}
	// Reporting: the customer stays, as manual, with its reports.
	cfg := newConfig("reporting")
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateReport(ctx, mustParseReport(t, `{"customer_id":"reporting"}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCustomerConfig(ctx, "reporting"); err != nil {
		t.Fatal(err)
	}
	c, err := db.FindCustomerByID(ctx, "reporting")
	if err != nil {
		t.Fatal(err)
	}
	if c.Managed || c.Latest == nil {
		t.Errorf("after delete: managed %v latest %v; want manual with its report", c.Managed, c.Latest)
	}
	if _, err := db.FindCustomerIDByKey(ctx, cfg.APIKey); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Error("deleted customer's key still authenticates")
	}
	// A config can be created again for the manual customer.
	if err := db.CreateCustomerConfig(ctx, newConfig("reporting")); err != nil {
		t.Errorf("re-create config: %v", err)
	}
}

func TestFindCustomersMixed(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	if err := db.CreateCustomerConfig(ctx, newConfig("managed-one")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"manual-two", "managed-one"} {
		if _, err := db.CreateReport(ctx, mustParseReport(t, `{"customer_id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateCustomerConfig(ctx, newConfig("pending-three")); err != nil {
		t.Fatal(err)
	}
	cs, err := db.FindCustomers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("got %d customers", len(cs))
	}
	want := []struct {
		id        string
		managed   bool
		hasReport bool
	}{{"managed-one", true, true}, {"manual-two", false, true}, {"pending-three", true, false}}
	for i, w := range want {
		if cs[i].ID != w.id || cs[i].Managed != w.managed || (cs[i].Latest != nil) != w.hasReport {
			t.Errorf("customer %d = %s managed %v report %v; want %+v", i, cs[i].ID, cs[i].Managed, cs[i].Latest != nil, w)
		}
	}
}
