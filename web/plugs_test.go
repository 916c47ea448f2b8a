package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/web"
)

// The plug points: with no provider their sections and routes do not exist.
func TestPlugSectionsAbsentWithoutProviders(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	dash := c.Get("/").Body
	expectNotContains(t, dash, "Events 24 h", "update available")
	for id := range fleetStates {
		body := c.Get("/customers/" + id).Body
		for _, section := range []string{"events", "hosts", "notifications", "yaml", "controller"} {
			if strings.Contains(body, `id="`+section+`"`) {
				t.Errorf("%s: section %q rendered without its provider", id, section)
			}
		}
		expectNotContains(t, body, "push-config", "pull-config", "/diff", "Trigger update", "X-Retrieval-Password", "update available")
	}
	for _, r := range []struct{ method, path string }{
		{"POST", "/customers/ok-node/push-config"}, {"POST", "/customers/ok-node/pull-config"},
		{"GET", "/customers/ok-node/diff"}, {"POST", "/customers/ok-node/update"},
	} {
		resp := c.Do(r.method, r.path, url.Values{}, nil)
		expectStatus(t, resp, http.StatusNotFound)
	}
}

// stubPlugs are test providers that record their calls.
type stubPlugs struct {
	calls   []string
	fail    bool
	version string
}

func (s *stubPlugs) CountRecentEvents(ctx context.Context, since time.Time) (map[string]web.EventCounts, error) {
	s.calls = append(s.calls, "count "+since.Format(time.RFC3339))
	if s.fail {
		return nil, errors.New("events table is on fire")
	}
	return map[string]web.EventCounts{"down-node": {Errors: 3, Warnings: 2}}, nil
}

func (s *stubPlugs) FindRecentEvents(ctx context.Context, id, severity string, limit int) ([]web.EventRow, error) {
	s.calls = append(s.calls, "events "+id+" "+severity)
	return []web.EventRow{{OccurredAt: epoch.Add(-time.Hour), Type: "backup_failed", Severity: "error", Source: "controller", Message: scriptPayload}}, nil
}

func (s *stubPlugs) FindCustomerHosts(ctx context.Context, id string) ([]web.HostRow, error) {
	return []web.HostRow{{ID: id + "-ab12", Hostname: "pve", AgentVersion: "0.7.0",
		Guests: []web.GuestRow{{VMID: 101, Name: "controller", Status: "running", ControllerVersion: "v1.4.2"}}}}, nil
}

func (s *stubPlugs) FindCustomerNotifications(ctx context.Context, id string, limit int) ([]web.NotificationRow, error) {
	return []web.NotificationRow{{At: epoch, Channel: "customer", EventType: "backup_failed", Outcome: "skipped", Detail: "cooldown"}}, nil
}

func (s *stubPlugs) GenerateControllerYAML(ctx context.Context, id string) ([]byte, error) {
	return []byte("customer:\n  id: " + id + "\n  name: " + imgPayload + "\n"), nil
}

func (s *stubPlugs) PushConfig(ctx context.Context, id string) error {
	s.calls = append(s.calls, "push "+id)
	if s.fail {
		return hub.Errorf(hub.EUNAVAILABLE, "the controller did not answer")
	}
	return nil
}

func (s *stubPlugs) PullConfig(ctx context.Context, id string) error {
	s.calls = append(s.calls, "pull "+id)
	return nil
}

func (s *stubPlugs) DiffConfig(ctx context.Context, id string) ([]web.ConfigDiff, error) {
	return []web.ConfigDiff{{Key: "hub.url", Hub: "https://hub.felhom.eu", Controller: "https://old.example"},
		{Key: "backup.keep_daily", Hub: "7", MissingController: true}}, nil
}

func (s *stubPlugs) TriggerUpdate(ctx context.Context, id string) (string, error) {
	s.calls = append(s.calls, "update "+id)
	return s.version, nil
}

func (s *stubPlugs) LatestControllerVersion() (string, bool) { return s.version, true }

func withStubs(stub *stubPlugs) func(*web.Server) {
	return func(s *web.Server) {
		s.Plugs = web.Plugs{Events: stub, Hosts: stub, Notifications: stub, ConfigPreview: stub, Controller: stub, Versions: stub}
	}
}

func TestPlugSectionsWithProviders(t *testing.T) {
	stub := &stubPlugs{version: "v1.5.0"}
	h := MustHarness(t, withStubs(stub))
	h.SeedFleet()
	c := h.LoggedInClient()

	dash := c.Get("/").Body
	expectContains(t, dash, "Events 24 h")
	expectContains(t, rowOf(dash, "down-node"), "3 err", "2 warn", "update available")
	expectContains(t, rowOf(dash, "ok-node"), `<span class="muted">0</span>`)
	if stub.calls[0] != "count "+epoch.Add(-24*time.Hour).Format(time.RFC3339) {
		t.Errorf("counted since %v, want 24 h", stub.calls[0])
	}

	page := c.Get("/customers/ok-node?severity=error").Body
	for _, section := range []string{"events", "hosts", "notifications", "yaml", "controller"} {
		expectContains(t, page, `id="`+section+`"`)
	}
	expectContains(t, page, "backup_failed", "&lt;script&gt;", "ok-node-ab12", "cooldown",
		"id: ok-node", "&lt;img src=x", "X-Retrieval-Password", "http://hub.test/api/v1/config/ok-node",
		`action="/customers/ok-node/push-config"`, `href="/customers/ok-node/diff"`, "update itself to v1.5.0",
		`aria-current="true">Errors</a>`)
	if stub.calls[len(stub.calls)-1] != "events ok-node error" {
		t.Errorf("severity filter not passed: %v", stub.calls)
	}
	expectStatus(t, c.Get("/customers/ok-node?severity=loud"), http.StatusBadRequest)

	// Manual customers have no config to preview or push.
	manual := c.Get("/customers/manual-node").Body
	expectNotContains(t, manual, `id="yaml"`, `id="controller"`)
	expectContains(t, manual, `id="events"`)
	// A managed customer without a report has no controller URL to call.
	expectContains(t, c.Get("/customers/pending-node").Body, "has not reported its URL yet")

	resp := c.Post("/customers/ok-node/push-config", nil)
	expectStatus(t, resp, http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, "Config pushed to the controller of ok-node.")
	expectStatus(t, c.Post("/customers/ok-node/pull-config", nil), http.StatusSeeOther)
	expectStatus(t, c.Post("/customers/ok-node/update", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, "asked to update to v1.5.0")
	diff := c.Get("/customers/ok-node/diff")
	expectStatus(t, diff, http.StatusOK)
	expectContains(t, diff.Body, "hub.url", "https://old.example", "(absent)")

	stub.fail = true
	expectStatus(t, c.Post("/customers/ok-node/push-config", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, `flash-error`, "Push config failed: the controller did not answer")
	// A failing event source leaves the dashboard up, without the column.
	dash = c.Get("/").Body
	expectContains(t, dash, "Event counts are unavailable")
	expectNotContains(t, dash, "Events 24 h")
	if !strings.Contains(h.Logs.String(), "events table is on fire") {
		t.Error("the plug's failure was not logged")
	}
}
