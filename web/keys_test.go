package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/web"
)

// keysHarness is a dashboard whose fleet keeps rotated-out keys for a day
// and whose customer page counts refused reports.
func keysHarness(t *testing.T, grace time.Duration) *Harness {
	t.Helper()
	return mustHarness(t, func(s *web.Server, h *Harness) {
		h.Fleet.KeyRotationGrace, h.Fleet.Now = grace, h.Clock.Now
		s.KeyRotationGrace = grace
	})
}

func TestCustomerPageShowsKeyRotationState(t *testing.T) {
	h := keysHarness(t, 24*time.Hour)
	cfg := h.Config("kovacs", "Kovács", nil)
	h.Report("kovacs", epoch, nil)
	if _, err := h.DB.AuthenticateCustomerKey(context.Background(), cfg.APIKey); err != nil {
		t.Fatal(err)
	}
	c := h.LoggedInClient()
	page := c.Get("/customers/kovacs")
	expectContains(t, page.Body, "The key the node uses now stays valid for 24h, or until the node reports with the new key")
	expectNotContains(t, page.Body, `id="key-state"`)

	expectStatus(t, c.Post("/customers/kovacs/rotate-key", nil), http.StatusSeeOther)
	page = c.Get("/customers/kovacs")
	// The flash and the callout tell the truth: the old key still works,
	// and a push goes out with it.
	expectContains(t, page.Body,
		"The key the node has stays valid until 2026-11-23 09:45 UTC, or until the node reports with the new one: push the config now (it is sent with the key the controller knows)",
		`id="key-grace"`,
		"API key rotated 2026-11-22 09:45 UTC: the previous key is valid until 2026-11-23 09:45 UTC; the node has not yet reported with the new key.",
		"Push Config now gives the controller the new key, authenticated with the previous one")
	expectNotContains(t, page.Body, "The old key no longer works", cfg.APIKey)

	// The grace runs out before the node catches up.
	h.Clock.Add(25 * time.Hour)
	page = c.Get("/customers/kovacs")
	expectContains(t, page.Body, `id="key-grace-over"`, "The previous API key expired 2026-11-23 09:45 UTC; the node has not reported with the new key")
	expectNotContains(t, page.Body, `id="key-grace"`)

	// The node reports with the new key: nothing left to say.
	now, _ := h.DB.FindCustomerConfig(context.Background(), "kovacs")
	if _, err := h.DB.AuthenticateCustomerKey(context.Background(), now.APIKey); err != nil {
		t.Fatal(err)
	}
	expectNotContains(t, c.Get("/customers/kovacs").Body, `id="key-state"`)
}

func TestRotateKeyWithoutGraceSaysSo(t *testing.T) {
	h := keysHarness(t, 0)
	orig := h.Config("kovacs", "Kovács", nil)
	c := h.LoggedInClient()
	expectContains(t, c.Get("/customers/kovacs").Body, "The old key stops working at once")
	expectStatus(t, c.Post("/customers/kovacs/rotate-key", nil), http.StatusSeeOther)
	page := c.Get("/customers/kovacs")
	expectContains(t, page.Body, "The old key no longer works: give the controller the new one (Credentials); Push Config cannot reach a controller that does not have it.")
	expectNotContains(t, page.Body, `id="key-grace"`, orig.APIKey)
}

func TestCustomerPageShowsRefusedReports(t *testing.T) {
	h := keysHarness(t, 24*time.Hour)
	h.Config("kovacs", "Kovács", nil)
	h.Report("kovacs", epoch, nil)
	hour := epoch.Truncate(time.Hour)
	add := func(at time.Time, n int64, reason string) {
		t.Helper()
		if err := h.DB.AddRefusedReports(context.Background(), []hub.RefusedReportCount{
			{CustomerID: "kovacs", Hour: at.Truncate(time.Hour), Refused: n, LastAt: at, LastReason: reason}}, hour.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	c := h.LoggedInClient()
	expectNotContains(t, c.Get("/customers/kovacs").Body, "refused in the last 24 h")
	add(epoch.Add(-30*time.Hour), 50, hub.RefusedNoKey) // older than the window
	add(epoch.Add(-3*time.Hour), 5, hub.RefusedUnknownKey)
	add(epoch.Add(-10*time.Minute), 1, hub.RefusedOtherCustomer+" (<b>nagy</b>)")
	page := c.Get("/customers/kovacs")
	expectContains(t, page.Body, `id="refused-reports"`,
		"6 reports refused in the last 24 h</strong>, last at 2026-11-22 09:35 UTC (10 min ago), reason: API key of another customer (&lt;b&gt;nagy&lt;/b&gt;).")
	expectNotContains(t, page.Body, "<b>nagy</b>", `id="key-grace"`)
	if strings.Contains(page.Body, "56 reports") {
		t.Error("refusals older than 24 h are counted")
	}
}
