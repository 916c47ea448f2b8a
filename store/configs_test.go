package store_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

func mustCreateConfig(tb testing.TB, db interface {
	CreateCustomerConfig(context.Context, *hub.CustomerConfig) error
}, id string) *hub.CustomerConfig {
	tb.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, DisplayName: "Teszt " + id, Status: hub.ConfigActive}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(context.Background(), cfg); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// infraBackupBody returns a valid infra-backup body whose restic password
// carries n, so that versions can be told apart.
func infraBackupBody(id string, n int) []byte {
	b, _ := json.Marshal(map[string]any{
		"customer_id":     id,
		"created_at":      time.Date(2026, 11, 22, 3, n%60, 0, 0, time.UTC).Format(time.RFC3339),
		"controller_yaml": base64.StdEncoding.EncodeToString([]byte("customer:\n  id: " + id + "\n")),
		"settings_json":   base64.StdEncoding.EncodeToString([]byte(`{"backup":{"hour":2}}`)),
		"disks":           []any{map[string]any{"uuid": "u1", "mount_point": "/mnt/hdd1"}},
		"restic":          map[string]any{"primary_password": fmt.Sprintf("restic-primary-%d", n), "cross_drive_password": "x"},
		"future_field":    "kept",
	})
	return b
}

func mustParseInfraBackup(tb testing.TB, body []byte) *hub.InfraBackup {
	tb.Helper()
	b, err := hub.ParseInfraBackup(body, time.Now(), func([]byte) bool { return true })
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestInfraBackupRetention(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	mustCreateConfig(t, db, "kovacs")
	mustCreateConfig(t, db, "other")
	if _, err := db.CreateInfraBackup(ctx, mustParseInfraBackup(t, infraBackupBody("other", 0))); err != nil {
		t.Fatal(err)
	}
	const posted = hub.InfraBackupVersionsKept + 5
	for n := range posted {
		clock.Add(time.Minute)
		if _, err := db.CreateInfraBackup(ctx, mustParseInfraBackup(t, infraBackupBody("kovacs", n))); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.FindInfraBackups(ctx, "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != hub.InfraBackupVersionsKept {
		t.Fatalf("kept %d versions, want %d", len(all), hub.InfraBackupVersionsKept)
	}
	for i, b := range all {
		want := string(infraBackupBody("kovacs", posted-1-i))
		if string(b.Body) != want {
			t.Errorf("version %d = %s, want %s", i, b.Body, want)
		}
	}
	latest, err := db.FindLatestInfraBackup(ctx, "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	if string(latest.Body) != string(infraBackupBody("kovacs", posted-1)) || !latest.ReceivedAt.Equal(clock.Now()) {
		t.Errorf("latest = %s at %v", latest.Body, latest.ReceivedAt)
	}
	if others, _ := db.FindInfraBackups(ctx, "other"); len(others) != 1 {
		t.Errorf("another customer's backups were pruned: %d left", len(others))
	}
}

func TestInfraBackupUnknownCustomer(t *testing.T) {
	db := MustOpenDB(t, nil)
	_, err := db.CreateInfraBackup(context.Background(), mustParseInfraBackup(t, infraBackupBody("nobody", 1)))
	if hub.ErrorCode(err) != hub.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	if _, err := db.FindLatestInfraBackup(context.Background(), "nobody"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("find: %v, want ENOTFOUND", err)
	}
}

func TestDeleteConfigAndInfraBackups(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	mustCreateConfig(t, db, "silent")
	mustCreateConfig(t, db, "talker")
	for _, id := range []string{"silent", "talker"} {
		if _, err := db.CreateInfraBackup(ctx, mustParseInfraBackup(t, infraBackupBody(id, 1))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateReport(ctx, &hub.Report{CustomerID: "talker", Raw: json.RawMessage(`{"customer_id":"talker"}`)}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"silent", "talker"} {
		if err := db.DeleteCustomerConfig(ctx, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	if _, err := db.FindCustomerByID(ctx, "silent"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("never-reported customer still there: %v", err)
	}
	if _, err := db.FindLatestInfraBackup(ctx, "silent"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("never-reported customer's backups still there: %v", err)
	}
	c, err := db.FindCustomerByID(ctx, "talker")
	if err != nil || c.Managed {
		t.Fatalf("reporting customer should stay as manual: %+v %v", c, err)
	}
	if _, err := db.FindLatestInfraBackup(ctx, "talker"); err != nil {
		t.Errorf("reporting customer lost its backups: %v", err)
	}
}

func TestUpdateCustomerConfig(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	orig := mustCreateConfig(t, db, "kovacs")
	clock.Add(time.Hour)
	got, err := db.UpdateCustomerConfig(ctx, "kovacs", func(c *hub.CustomerConfig) error {
		c.DisplayName = "Kovács"
		c.CloudflareTunnelToken = "tunnel-token-1"
		c.LegacyBackupUUID = "c7d9e1f2-3a4b-4c5d-8e6f-7a8b9c0d1e22"
		c.OverridesYAML = "backup:\n  keep_daily: 3\n"
		c.StaleThreshold = 40 * time.Minute
		c.APIKey = "attempt to change" // ignored
		c.CustomerID = "someone-else"  // ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reread, err := db.FindCustomerConfig(ctx, "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*hub.CustomerConfig{got, reread} {
		if c.DisplayName != "Kovács" || c.CloudflareTunnelToken != "tunnel-token-1" ||
			c.LegacyBackupUUID != "c7d9e1f2-3a4b-4c5d-8e6f-7a8b9c0d1e22" ||
			c.OverridesYAML != "backup:\n  keep_daily: 3\n" || c.StaleThreshold != 40*time.Minute {
			t.Errorf("fields not updated: %+v", c)
		}
		if c.APIKey != orig.APIKey || c.CustomerID != "kovacs" || c.RetrievalPassword != orig.RetrievalPassword {
			t.Errorf("credentials or id changed: %+v", c)
		}
		if !c.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("updated_at = %v", c.UpdatedAt)
		}
	}

	// A failing update or an invalid result stores nothing.
	for name, update := range map[string]func(*hub.CustomerConfig) error{
		"update error": func(c *hub.CustomerConfig) error {
			c.DisplayName = "changed"
			return hub.Errorf(hub.EINVALID, "no")
		},
		"invalid uuid": func(c *hub.CustomerConfig) error {
			c.DisplayName = "changed"
			c.LegacyHeartbeatUUID = "not-a-uuid"
			return nil
		},
	} {
		if _, err := db.UpdateCustomerConfig(ctx, "kovacs", update); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if c, _ := db.FindCustomerConfig(ctx, "kovacs"); c.DisplayName != "Kovács" {
		t.Errorf("rejected update was stored: %q", c.DisplayName)
	}
	if _, err := db.UpdateCustomerConfig(ctx, "nobody", func(*hub.CustomerConfig) error { return nil }); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("unknown: %v", err)
	}
}

func TestAuthenticateRetrieval(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	cfg := mustCreateConfig(t, db, "kovacs")
	if err := db.AuthenticateRetrieval(ctx, "kovacs", cfg.RetrievalPassword); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for name, tc := range map[string][2]string{
		"wrong password":   {"kovacs", "wrong"},
		"empty password":   {"kovacs", ""},
		"unknown customer": {"nobody", cfg.RetrievalPassword},
	} {
		err := db.AuthenticateRetrieval(ctx, tc[0], tc[1])
		if err != hub.ErrRetrievalDenied {
			t.Errorf("%s: err = %v, want the one denial", name, err)
		}
	}
}

func TestTemplateStore(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	if _, err := db.FindTemplate(ctx); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("empty: %v", err)
	}
	for _, body := range []string{"a: 1\n", "b: 2\n"} {
		if err := db.SaveTemplate(ctx, &hub.Template{Body: []byte(body), SourceURL: "https://git.example/raw", FetchedAt: epoch}); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTemplate(ctx)
		if err != nil || string(got.Body) != body || !got.FetchedAt.Equal(epoch) || got.SourceURL != "https://git.example/raw" {
			t.Fatalf("got %+v %v", got, err)
		}
	}
}

// TestInfraBackupRetentionKeepsTheNewestComplete: a broken controller that
// posts incomplete backups (the tolerant reader stores them) never pushes
// the customer's newest complete one out.
func TestInfraBackupRetentionKeepsTheNewestComplete(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	mustCreateConfig(t, db, "kovacs")
	good, err := db.CreateInfraBackup(ctx, mustParseInfraBackup(t, infraBackupBody("kovacs", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for range hub.InfraBackupVersionsKept + 5 {
		clock.Add(time.Minute)
		broken := mustParseInfraBackup(t, []byte(`{"customer_id":"kovacs"}`))
		if broken.Complete() {
			t.Fatal("a bare backup reads as complete")
		}
		if _, err := db.CreateInfraBackup(ctx, broken); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.FindInfraBackups(ctx, "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != hub.InfraBackupVersionsKept+1 {
		t.Fatalf("kept %d versions, want the %d newest and the complete one", len(all), hub.InfraBackupVersionsKept)
	}
	last := all[len(all)-1]
	if last.ID != good.ID || len(last.Problems) != 0 || string(last.Body) != string(infraBackupBody("kovacs", 1)) {
		t.Fatalf("oldest kept %d %v, want the complete backup %d", last.ID, last.Problems, good.ID)
	}
	if len(all[0].Problems) == 0 {
		t.Error("the newest backup lost its problems")
	}
	// A newer complete backup takes over: the old one may go.
	clock.Add(time.Minute)
	if _, err := db.CreateInfraBackup(ctx, mustParseInfraBackup(t, infraBackupBody("kovacs", 2))); err != nil {
		t.Fatal(err)
	}
	if all, _ = db.FindInfraBackups(ctx, "kovacs"); len(all) != hub.InfraBackupVersionsKept {
		t.Fatalf("kept %d versions after a new complete one, want %d", len(all), hub.InfraBackupVersionsKept)
	}
}
