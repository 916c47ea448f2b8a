package fleet_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/internal/clocktest"
)

// bearers returns the Bearer key of each request the controller received.
func bearers(e *env) []string {
	var out []string
	for _, r := range e.fake.received() {
		f := strings.Fields(r)
		out = append(out, f[3])
	}
	return out
}

// After a rotation the controller still knows the old key: push, pull and
// update authenticate with it while its grace holds and the node has not
// reported with the new one; the pushed config carries the new key.
func TestRotatedKeyControllerCallsUseTheKnownKey(t *testing.T) {
	e := newEnv(t, true)
	clock := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	e.db.Now, e.svc.Now, e.svc.KeyRotationGrace = clock.Now, clock.Now, 24*time.Hour
	cfg := e.managed(t, "kovacs", "-")
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, e.url))
	e.fake.live = "customer:\n  id: kovacs\n"
	k0 := cfg.APIKey
	if _, err := e.db.AuthenticateCustomerKey(e.ctx, k0); err != nil { // the node reports
		t.Fatal(err)
	}

	k1, err := e.svc.RotateKey(e.ctx, "operator", "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	if _, err := e.svc.Push(e.ctx, "operator", "kovacs"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Pull(e.ctx, "operator", "kovacs"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TriggerUpdate(e.ctx, "operator", "kovacs", "0.8.1"); err != nil {
		t.Fatal(err)
	}
	if got := bearers(e); len(got) != 3 || got[0] != k0 || got[1] != k0 || got[2] != k0 {
		t.Fatalf("during the grace the controller was called with the new key (or no key): %d calls, old key each: %v",
			len(got), len(got) == 3 && got[0] == k0 && got[1] == k0 && got[2] == k0)
	}
	if pushed := e.fake.received()[0]; !strings.Contains(pushed, "api_key: \""+k1+"\"") {
		t.Error("the pushed config does not carry the new key")
	}

	// The node reports with the new key: from then on calls use it.
	if _, err := e.db.AuthenticateCustomerKey(e.ctx, k1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Push(e.ctx, "operator", "kovacs"); err != nil {
		t.Fatal(err)
	}
	if got := bearers(e); got[len(got)-1] != k1 {
		t.Error("after the node reported with the new key, the push still used the old one")
	}

	// Rotated again, never reported with k2, grace over: the hub no longer
	// accepts k1 and calls with the current key.
	k2, err := e.svc.RotateKey(e.ctx, "operator", "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Push(e.ctx, "operator", "kovacs"); err != nil {
		t.Fatal(err)
	}
	if got := bearers(e); got[len(got)-1] != k1 {
		t.Error("the second rotation's push did not use the confirmed key k1")
	}
	clock.Add(25 * time.Hour)
	if _, err := e.svc.Push(e.ctx, "operator", "kovacs"); err != nil {
		t.Fatal(err)
	}
	if got := bearers(e); got[len(got)-1] != k2 {
		t.Error("after the grace the push did not use the current key")
	}
	if a := e.lastAudit(t); strings.Contains(a.Detail, k1) || strings.Contains(a.Detail, k2) {
		t.Error("a key reached the audit log")
	}
}

// A controller that echoes the previous key in an error does not get it
// into the operator's message.
func TestRotatedKeyRedactedFromControllerErrors(t *testing.T) {
	e := newEnv(t, true)
	e.svc.KeyRotationGrace = time.Hour
	cfg := e.managed(t, "kovacs", "-")
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, e.url))
	if _, err := e.svc.RotateKey(e.ctx, "operator", "kovacs"); err != nil {
		t.Fatal(err)
	}
	e.fake.echo = true
	_, err := e.svc.Push(e.ctx, "operator", "kovacs")
	if err == nil {
		t.Fatal("push to an erroring controller succeeded")
	}
	if strings.Contains(err.Error(), cfg.APIKey) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("the previous key is not redacted: %v", err)
	}
}
