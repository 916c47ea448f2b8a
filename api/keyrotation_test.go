package api_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/api"
	"github.com/felhom/hub/fleet"
)

// rotationEnv is an API whose fleet service keeps rotated-out keys for a
// day and which counts refused reports.
func rotationEnv(t *testing.T) (*testHub, *api.RefusedReports) {
	t.Helper()
	var refused *api.RefusedReports
	e := newEnvWith(t, func(s *api.Server, e *env, logger *slog.Logger) {
		s.Fleet = &fleet.Service{Customers: e.db, Reports: e.db, Audit: e.db, Logger: logger, KeyRotationGrace: 24 * time.Hour, Now: e.clock.Now}
		refused = api.NewRefusedReports(e.db, logger)
		refused.Now = e.clock.Now
		s.Refused = refused
	})
	return &testHub{e}, refused
}

func (h *testHub) rotate(id string) string {
	h.t.Helper()
	status, body := h.do("POST", "/api/v1/admin/customers/"+id+"/rotate-key", testAdminKey, nil)
	key, _ := body["api_key"].(string)
	if status != http.StatusOK || key == "" {
		h.t.Fatalf("rotate-key: %d %v", status, body)
	}
	return key
}

func (h *testHub) reportStatus(key, id string) int {
	h.t.Helper()
	status, _ := h.do("POST", "/api/v1/report", key, []byte(`{"customer_id":"`+id+`","health":"ok"}`))
	return status
}

func TestRotatedKeyGraceOverTheAPI(t *testing.T) {
	h, _ := rotationEnv(t)
	k0 := h.customer("kovacs")
	if got := h.reportStatus(k0, "kovacs"); got != http.StatusOK {
		t.Fatalf("report with the first key: %d", got)
	}
	status, body := h.do("POST", "/api/v1/admin/customers/kovacs/rotate-key", testAdminKey, nil)
	k1, _ := body["api_key"].(string)
	if status != http.StatusOK || k1 == "" || body["previous_key_valid_until"] != epoch.Add(24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("rotate-key: %d %v", status, body)
	}

	// Within the grace the old key still reports, as long as it likes.
	h.clock.Add(23 * time.Hour)
	for range 3 {
		if got := h.reportStatus(k0, "kovacs"); got != http.StatusOK {
			t.Fatalf("old key during the grace: %d", got)
		}
	}
	// The old key is still only the customer's own.
	h.customer("nagy")
	if got := h.reportStatus(k0, "nagy"); got != http.StatusForbidden {
		t.Errorf("old key for another customer: %d, want 403", got)
	}
	// After the grace: 401.
	h.clock.Add(time.Hour)
	if got := h.reportStatus(k0, "kovacs"); got != http.StatusUnauthorized {
		t.Errorf("old key after the grace: %d, want 401", got)
	}
	if got := h.reportStatus(k1, "kovacs"); got != http.StatusOK {
		t.Errorf("new key: %d", got)
	}
}

func TestRotatedKeyGraceEndsAtFirstReportWithNewKey(t *testing.T) {
	h, _ := rotationEnv(t)
	k0 := h.customer("kovacs")
	k1 := h.rotate("kovacs")
	if got := h.reportStatus(k0, "kovacs"); got != http.StatusOK {
		t.Fatalf("old key right after rotation: %d", got)
	}
	h.clock.Add(time.Minute)
	if got := h.reportStatus(k1, "kovacs"); got != http.StatusOK {
		t.Fatalf("new key: %d", got)
	}
	if got := h.reportStatus(k0, "kovacs"); got != http.StatusUnauthorized {
		t.Errorf("old key after the node reported with the new one: %d, want 401", got)
	}
	status, body := h.do("GET", "/api/v1/admin/customers/kovacs", testAdminKey, nil)
	rot, _ := body["key_rotation"].(map[string]any)
	if status != http.StatusOK || rot["api_key_confirmed_at"] != epoch.Add(time.Minute).Format(time.RFC3339) || rot["previous_key_valid_until"] != nil {
		t.Errorf("admin view after confirmation: %d %v", status, body["key_rotation"])
	}
	if strings.Contains(string(h.env.do("GET", "/api/v1/admin/customers/kovacs", testAdminKey, nil).body), k0) {
		t.Error("the previous key is in the admin view")
	}
}
