package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

// keyOwner returns who key authenticates as, or "" when it is refused.
func keyOwner(t *testing.T, db interface {
	FindCustomerIDByKey(context.Context, string) (string, error)
}, key string) string {
	t.Helper()
	id, err := db.FindCustomerIDByKey(context.Background(), key)
	if hub.ErrorCode(err) == hub.EUNAUTHORIZED {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestKeyRotationGrace(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	cfg := mustCreateConfig(t, db, "kovacs-csalad")
	other := mustCreateConfig(t, db, "nagy-bt")
	k0 := cfg.APIKey
	// The node uses its key: confirmed.
	if id, err := db.AuthenticateCustomerKey(ctx, k0); err != nil || id != "kovacs-csalad" {
		t.Fatalf("authenticate k0: %q %v", id, err)
	}

	clock.Add(time.Minute)
	k1 := hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k1, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindCustomerConfig(ctx, "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	rot := got.Rotation
	if got.APIKey != k1 || rot.PreviousAPIKey != k0 || !rot.PreviousValidUntil.Equal(epoch.Add(time.Minute+24*time.Hour)) ||
		!rot.RotatedAt.Equal(epoch.Add(time.Minute)) || !rot.ConfirmedAt.IsZero() {
		t.Fatalf("after rotation: key %v, rotation %+v", got.APIKey == k1, rot)
	}
	if got.ControllerKey(clock.Now()) != k0 {
		t.Error("the controller is to be called with the new key while the node knows only the old one")
	}
	for key, want := range map[string]string{k0: "kovacs-csalad", k1: "kovacs-csalad", other.APIKey: "nagy-bt", "nope": ""} {
		if got := keyOwner(t, db, key); got != want {
			t.Errorf("during grace a key authenticates as %q, want %q", got, want)
		}
	}
	// Reports with the old key do not end the grace.
	if _, err := db.AuthenticateCustomerKey(ctx, k0); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindCustomerConfig(ctx, "kovacs-csalad"); got.Rotation.PreviousAPIKey != k0 {
		t.Error("a report with the previous key ended its grace")
	}

	// After the grace the old key is refused; the state says it expired.
	clock.Add(24 * time.Hour)
	if keyOwner(t, db, k0) != "" {
		t.Error("the previous key still works when its grace is over")
	}
	got, _ = db.FindCustomerConfig(ctx, "kovacs-csalad")
	if !got.Rotation.PreviousExpired(clock.Now()) || got.ControllerKey(clock.Now()) != k1 {
		t.Errorf("after the grace: %+v", got.Rotation)
	}
}

func TestKeyRotationEndsOnFirstUseOfNewKey(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	cfg := mustCreateConfig(t, db, "kovacs-csalad")
	k0, k1 := cfg.APIKey, hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k1, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	// Looking the key up (as the admin API's callers do) is not the node.
	if keyOwner(t, db, k1) == "" || keyOwner(t, db, k0) == "" {
		t.Fatal("both keys must work during the grace")
	}
	clock.Add(time.Hour)
	if id, err := db.AuthenticateCustomerKey(ctx, k1); err != nil || id != "kovacs-csalad" {
		t.Fatalf("authenticate k1: %q %v", id, err)
	}
	if keyOwner(t, db, k0) != "" {
		t.Error("the previous key still works after the node reported with the new one")
	}
	got, _ := db.FindCustomerConfig(ctx, "kovacs-csalad")
	if got.Rotation.PreviousAPIKey != "" || !got.Rotation.ConfirmedAt.Equal(epoch.Add(time.Hour)) || got.ControllerKey(clock.Now()) != k1 {
		t.Errorf("after first use of the new key: %+v", got.Rotation)
	}
	// The next rotation keeps the confirmed key as the previous one.
	k2 := hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k2, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindCustomerConfig(ctx, "kovacs-csalad")
	if got.Rotation.PreviousAPIKey != k1 || keyOwner(t, db, k1) == "" || keyOwner(t, db, k0) != "" {
		t.Errorf("second rotation after confirmation: previous is k1 %v", got.Rotation.PreviousAPIKey == k1)
	}
}

// Rotating twice before the node has used the second key: the node still
// knows only the first, so that stays the previous key (with a fresh
// grace), and the never-used second key is dropped.
func TestKeyRotationTwiceWithinGrace(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	cfg := mustCreateConfig(t, db, "kovacs-csalad")
	k0, k1, k2 := cfg.APIKey, hub.NewAPIKey(), hub.NewAPIKey()
	if _, err := db.AuthenticateCustomerKey(ctx, k0); err != nil {
		t.Fatal(err)
	}
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k1, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Add(20 * time.Hour)
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k2, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, _ := db.FindCustomerConfig(ctx, "kovacs-csalad")
	if got.Rotation.PreviousAPIKey != k0 || got.ControllerKey(clock.Now()) != k0 {
		t.Fatalf("the previous key is not the one the node was last seen using")
	}
	if want := epoch.Add(44 * time.Hour); !got.Rotation.PreviousValidUntil.Equal(want) {
		t.Errorf("previous valid until %v, want %v", got.Rotation.PreviousValidUntil, want)
	}
	for key, want := range map[string]string{k0: "kovacs-csalad", k1: "", k2: "kovacs-csalad"} {
		if got := keyOwner(t, db, key); got != want {
			t.Errorf("a key authenticates as %q, want %q", got, want)
		}
	}
	// Past the first grace's end, within the second's, k0 still works.
	clock.Add(10 * time.Hour)
	if keyOwner(t, db, k0) == "" {
		t.Error("the previous key's grace did not start again at the second rotation")
	}

	// When the previous grace has already ended, a rotation does not bring
	// an expired key back: the unconfirmed current key becomes previous.
	clock.Add(24 * time.Hour)
	k3 := hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k3, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindCustomerConfig(ctx, "kovacs-csalad")
	if got.Rotation.PreviousAPIKey != k2 || keyOwner(t, db, k0) != "" {
		t.Errorf("rotation after an expired grace revived the old key or dropped the current one")
	}
}

func TestKeyRotationWithoutGrace(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	cfg := mustCreateConfig(t, db, "kovacs-csalad")
	k1 := hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k1, 0); err != nil {
		t.Fatal(err)
	}
	got, _ := db.FindCustomerConfig(ctx, "kovacs-csalad")
	if got.Rotation.PreviousAPIKey != "" || keyOwner(t, db, cfg.APIKey) != "" || keyOwner(t, db, k1) == "" {
		t.Errorf("grace 0: %+v", got.Rotation)
	}
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", hub.NewAPIKey(), -time.Second); err == nil {
		t.Error("a negative grace was accepted")
	}
}

// A rotation that happens between a request's key lookup and its
// confirmation is not undone: the confirmation names the key's hash.
func TestKeyConfirmationAfterConcurrentRotation(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	cfg := mustCreateConfig(t, db, "kovacs-csalad")
	k1 := hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k1, time.Hour); err != nil {
		t.Fatal(err)
	}
	k2 := hub.NewAPIKey()
	if err := db.RotateCustomerKey(ctx, "kovacs-csalad", k2, time.Hour); err != nil {
		t.Fatal(err)
	}
	// k1 was never used, so it is gone; the original key is previous.
	if _, err := db.AuthenticateCustomerKey(ctx, k1); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Errorf("a skipped key authenticates: %v", err)
	}
	if _, err := db.AuthenticateCustomerKey(ctx, cfg.APIKey); err != nil {
		t.Fatal(err)
	}
	got, _ := db.FindCustomerConfig(ctx, "kovacs-csalad")
	if got.Rotation.PreviousAPIKey != cfg.APIKey || !got.Rotation.ConfirmedAt.IsZero() {
		t.Errorf("a report with the previous key confirmed the current one: %+v", got.Rotation)
	}
}

func TestRefusedReports(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	if err := db.CreateCustomerConfig(ctx, newConfig("kovacs-csalad")); err != nil {
		t.Fatal(err)
	}
	hour := epoch.Truncate(time.Hour)
	if none, err := db.FindRefusedReports(ctx, "kovacs-csalad", hour.Add(-23*time.Hour)); err != nil || none.Refused != 0 {
		t.Fatalf("no refusals yet: %+v %v", none, err)
	}
	// Two replicas add their counts to one hour; a third count is older.
	add := func(counts ...hub.RefusedReportCount) {
		t.Helper()
		if err := db.AddRefusedReports(ctx, counts, hour.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	add(hub.RefusedReportCount{CustomerID: "kovacs-csalad", Hour: hour, Refused: 3, LastAt: epoch, LastReason: hub.RefusedUnknownKey})
	add(hub.RefusedReportCount{CustomerID: "kovacs-csalad", Hour: hour, Refused: 2, LastAt: epoch.Add(time.Second), LastReason: hub.RefusedOtherCustomer},
		hub.RefusedReportCount{CustomerID: "kovacs-csalad", Hour: hour.Add(-2 * time.Hour), Refused: 10, LastAt: epoch.Add(-2 * time.Hour), LastReason: hub.RefusedNoKey})
	// A late count from the first replica does not make an older reason the latest.
	add(hub.RefusedReportCount{CustomerID: "kovacs-csalad", Hour: hour, Refused: 1, LastAt: epoch.Add(-time.Second), LastReason: hub.RefusedNoKey})
	got, err := db.FindRefusedReports(ctx, "kovacs-csalad", hour.Add(-23*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := hub.RefusedReports{Refused: 16, LastAt: epoch.Add(time.Second), LastReason: hub.RefusedOtherCustomer}
	if got.Refused != want.Refused || !got.LastAt.Equal(want.LastAt) || got.LastReason != want.LastReason {
		t.Errorf("refused = %+v, want %+v", got, want)
	}
	if got, _ := db.FindRefusedReports(ctx, "kovacs-csalad", hour); got.Refused != 6 {
		t.Errorf("this hour: %d, want 6", got.Refused)
	}
	// A day later the old hours are forgotten when new counts come.
	later := hour.Add(26 * time.Hour)
	if err := db.AddRefusedReports(ctx, []hub.RefusedReportCount{{CustomerID: "kovacs-csalad", Hour: later, Refused: 1, LastAt: later, LastReason: hub.RefusedUnknownKey}}, later.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindRefusedReports(ctx, "kovacs-csalad", time.Time{}); got.Refused != 1 {
		t.Errorf("after a day: %d rows' worth, want only the new hour", got.Refused)
	}
	// A deleted customer's counts go with it.
	if err := db.DeleteCustomerConfig(ctx, "kovacs-csalad"); err != nil {
		t.Fatal(err)
	}
	ids, err := db.FindCustomerIDs(ctx)
	if err != nil || len(ids) != 0 {
		t.Errorf("ids after delete: %v %v", ids, err)
	}
	if got, _ := db.FindRefusedReports(ctx, "kovacs-csalad", time.Time{}); got.Refused != 0 {
		t.Errorf("a deleted customer keeps %d refused reports", got.Refused)
	}
}
