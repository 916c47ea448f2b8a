package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/web"
)

// Every non-OK fleet row says why, and since when.
func TestFleetRowsSayWhy(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet()
	now := h.Clock.Now()
	h.Config("silent-node", "Csendes Kft.", nil)
	h.Report("silent-node", now.Add(-(2*time.Hour + 14*time.Minute)), nil)
	h.Config("fail-node", "Hibás Bt.", nil)
	h.Report("fail-node", now.Add(-time.Minute), map[string]any{"health": "fail",
		"checks": []map[string]any{{"name": "disk_space", "status": "fail", "message": "/ 97% full"}}})
	h.Config("warn2-node", "Két figyelmeztetés", nil)
	h.Report("warn2-node", now.Add(-time.Minute), map[string]any{"health": "warn",
		"checks": []map[string]any{{"name": "disk_space", "status": "warn"}, {"name": "containers", "status": "warning"}}})
	body := h.LoggedInClient().Get("/").Body

	for id, want := range map[string]string{
		"silent-node": "DOWN 2 h 14 m — silent since 07:31",
		"fail-node":   "DOWN — health fail: disk_space (97 %)",
		"warn2-node":  "WARN — 2 checks warn: disk_space, containers",
		"warn-node":   "WARN 40 m — silent since 09:05",
		"down-node":   "DOWN — health fail", // no check failed by name
	} {
		row := rowOf(body, id)
		if !strings.Contains(row, `<span class="reason" id="reason-`+id+`">`+want) {
			t.Errorf("row %s lacks reason %q\n%s", id, want, row)
		}
	}
	if row := rowOf(body, "ok-node"); strings.Contains(row, `class="reason"`) {
		t.Errorf("an OK row has a reason:\n%s", row)
	}
}

// A silent node's metrics are greyed with their age; a fresh one's are not.
func TestFleetStaleMetrics(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet()
	body := h.LoggedInClient().Get("/").Body
	warn := rowOf(body, "warn-node") // silent 40 min, stale after 30
	expectContains(t, warn, `class="opt num stale"`, `<span class="stale-age">40 m old</span>`, "the node is silent")
	if ok := rowOf(body, "ok-node"); strings.Contains(ok, "stale") {
		t.Errorf("a fresh row is stale:\n%s", ok)
	}
}

// A metric the report did not give readably is "–" in the fleet, as on the
// customer page, never "0.0%".
func TestFleetUnreadMetricsShowDash(t *testing.T) {
	h := MustPluggedHarness(t)
	h.Config("blind-node", "Vak", nil)
	h.Report("blind-node", h.Clock.Now().Add(-time.Minute), map[string]any{
		"system": map[string]any{"hostname": "x", "cpu_percent": "n/a"}, "storage": nil})
	row := rowOf(h.LoggedInClient().Get("/").Body, "blind-node")
	if n := strings.Count(row, `>–</td>`); n != 3 {
		t.Errorf("%d metric cells show –, want 3 (cpu, memory, disk)\n%s", n, row)
	}
	expectNotContains(t, row, "0.0%")
}

// CPU and memory are coloured like disk, at the controller's thresholds.
func TestFleetUsageColours(t *testing.T) {
	h := MustPluggedHarness(t)
	h.Config("busy-node", "Foglalt", nil)
	h.Report("busy-node", h.Clock.Now().Add(-time.Minute), map[string]any{
		"system":  map[string]any{"hostname": "x", "cpu_percent": 96, "mem_total_bytes": 100, "mem_used_bytes": 91},
		"storage": []map[string]any{{"mount": "/", "total_bytes": 100, "used_bytes": 89}}})
	row := rowOf(h.LoggedInClient().Get("/").Body, "busy-node")
	expectContains(t, row, `<td class="opt num level-crit">96.0%</td>`, `<td class="opt num level-warn">91.0%</td>`,
		`<td class="opt num">89.0%</td>`)
}

// The customer page opens with the reason; a DOWN node whose last report
// said health ok gets a banner explaining the difference.
func TestCustomerPageReasonAndHealthOKBanner(t *testing.T) {
	h := MustPluggedHarness(t)
	h.Config("silent-node", "Csendes Kft.", nil)
	h.Report("silent-node", h.Clock.Now().Add(-(2*time.Hour + 14*time.Minute)), nil)
	c := h.LoggedInClient()
	body := c.Get("/customers/silent-node").Body
	expectContains(t, body, `id="status-reason"`, "DOWN 2 h 14 m — silent since 07:31",
		`id="health-ok-banner"`, "The last report said health ok, yet the status is DOWN.",
		"silent for 2 h 14 m", "down threshold (1h)", `id="system-stale"`, "2 h 14 m old: the node is silent")
	// The status comes before the sections, events before the metrics, the
	// configuration last.
	order := []string{`id="status-reason"`, `id="checks"`, `id="events"`, `id="overview"`, `id="system"`, `id="history"`, `id="config"`, `id="setup"`}
	last := -1
	for _, marker := range order {
		i := strings.Index(body, marker)
		if i < last {
			t.Errorf("%s comes before an earlier section", marker)
		}
		last = i
	}

	h.Report("fail-node", h.Clock.Now().Add(-time.Minute), map[string]any{"health": "fail"})
	fail := c.Get("/customers/fail-node").Body
	expectContains(t, fail, "DOWN — health fail")
	expectNotContains(t, fail, `id="health-ok-banner"`)
}

// A pending customer's page opens with its setup.
func TestPendingCustomerSetupFirst(t *testing.T) {
	h := MustPluggedHarness(t)
	h.Config("new-node", "Új", nil)
	body := h.LoggedInClient().Get("/customers/new-node").Body
	expectContains(t, body, "PENDING — waiting for the first report")
	setup, grid := strings.Index(body, `id="setup"`), strings.Index(body, `id="customer-grid"`)
	if setup < grid || setup > strings.Index(body, `id="events"`) {
		t.Errorf("setup is not the first section of a pending customer")
	}
}

// Mail that goes only to the log is never "sent", and every page says mail
// is not set up.
func TestMailNotSetUp(t *testing.T) {
	for _, tt := range []struct {
		name       string
		mail       *web.MailSetup
		banner     bool
		logged     bool
		wantPhrase string
	}{
		{"log provider", &web.MailSetup{Provider: "log", OperatorEmail: "ops@example.hu"}, true, true, "writes notifications to its log"},
		{"no operator", &web.MailSetup{Provider: "resend"}, true, false, "No operator address is set"},
		{"set up", &web.MailSetup{Provider: "smtp", OperatorEmail: "ops@example.hu"}, false, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := MustHarness(t, func(s *web.Server) { s.Mail = tt.mail })
			h.SeedFleet()
			h.Notifications("ok-node")
			sendAll(t, h)
			c := h.LoggedInClient()
			for _, path := range []string{"/", "/configs", "/customers/ok-node", "/configs/new"} {
				body := c.Get(path).Body
				if got := strings.Contains(body, `id="mail-banner"`); got != tt.banner {
					t.Errorf("%s: mail banner %v, want %v", path, got, tt.banner)
				}
				if tt.banner {
					expectContains(t, body, tt.wantPhrase)
				}
			}
			notes := sectionOf(c.Get("/customers/ok-node").Body, "notifications")
			if got := strings.Contains(notes, `<span class="word-warn">logged, not sent</span>`); got != tt.logged {
				t.Errorf("logged, not sent: %v, want %v\n%s", got, tt.logged, notes)
			}
			if !tt.logged {
				expectContains(t, notes, `<span class="word-good">sent</span>`)
			}
		})
	}
}

// sendAll delivers every queued mail as the sender would.
func sendAll(t *testing.T, h *Harness) {
	t.Helper()
	ctx := context.Background()
	msgs, err := h.DB.ClaimOutbox(ctx, "test", 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := h.DB.CompleteOutbox(ctx, m.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// A backup older than the backup checker's schedule allows is overdue,
// whatever the node said.
func TestBackupOverdueIsNotOK(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.Backups = hub.BackupSchedule{Location: time.UTC, At: 5 * time.Hour} })
	h.Config("late-node", "Késő", nil)
	at := h.Clock.Now().Add(-time.Minute) // 09:44 UTC
	h.Report("late-node", at, map[string]any{"backups": map[string]any{
		"last_backup_at": at.Add(-30 * time.Hour).Format(time.RFC3339), "last_backup_status": "ok",
		"last_dbdump_at": at.Add(-time.Hour).Format(time.RFC3339), "last_dbdump_status": "ok"}})
	backups := sectionOf(h.LoggedInClient().Get("/customers/late-node").Body, "backups")
	expectContains(t, backups, `<dd id="backup-state">`, `<span class="word-bad">overdue</span> <span class="muted small">(the node said ok)</span>`)
	dump := regexp.MustCompile(`(?s)<dd id="dbdump-state">.*?</dd>`).FindString(backups)
	expectContains(t, dump, `<span class="word-good">ok</span>`)
	expectNotContains(t, dump, "overdue")
}

// fakeRegistry reports fixed attempts.
type fakeRegistry hub.RegistryAttempts

func (f fakeRegistry) Attempts() hub.RegistryAttempts { return hub.RegistryAttempts(f) }

// "Not read yet" only before the first attempt; after a failed one the page
// says so and when it retries.
func TestRegistryLatestUnknown(t *testing.T) {
	for _, tt := range []struct {
		name string
		reg  fakeRegistry
		want string
	}{
		{"never", fakeRegistry{Configured: true}, "unknown: the registry has not been read yet"},
		{"failed", fakeRegistry{Configured: true, LastAttempt: epoch.Add(-5 * time.Minute), LastError: "registry answered 503",
			NextAttempt: epoch.Add(25 * time.Minute)},
			"unknown: reading the registry failed 5 min ago (registry answered 503); it is tried again at 2026-11-22 10:10 UTC"},
		{"unconfigured", fakeRegistry{}, "unknown: no registry image is configured (registry.image)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := MustHarness(t, func(s *web.Server) { s.Registry = tt.reg })
			h.SeedFleet()
			ctl := sectionOf(h.LoggedInClient().Get("/customers/ok-node").Body, "controller")
			expectContains(t, ctl, `<span class="muted" id="latest-unknown">`+tt.want+`</span>`)
		})
	}
}

// The delete confirmation says what happens to a node that keeps reporting
// with the deleted key: refused, not brought back.
func TestDeleteConfigMessageTellsTheTruth(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet()
	c := h.LoggedInClient()
	expectContains(t, c.Get("/customers/ok-node").Body, "every report is refused (401", "stays listed as report-only")
	expectContains(t, c.Get("/customers/pending-node").Body, "never reported, so it disappears")
	expectNotContains(t, c.Get("/customers/ok-node").Body, "it comes back as a manual customer")
}

// A future-dated event shows at its receipt, with the sender's date beside
// it, and does not sit above every later event.
func TestFutureEventShownAtReceipt(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet()
	h.Event("ok-node", "backup_failed", hub.SeverityError, "from the future", -48*time.Hour)
	h.Clock.Add(time.Hour)
	h.Event("ok-node", "disk_space_warning", hub.SeverityWarning, "later, honestly dated", 0)
	events := sectionOf(h.LoggedInClient().Get("/customers/ok-node").Body, "events")
	expectContains(t, events, "sent as 2026-11-24 09:45 UTC", `<time title="2026-11-22 09:45 UTC">1 h ago</time>`)
	if strings.Index(events, "later, honestly dated") > strings.Index(events, "from the future") {
		t.Error("the future-dated event is listed above a later one")
	}
	expectNotContains(t, events, "in the future")
}

// The notifications table filters by status and hides "not enabled" rows
// unless asked.
func TestNotificationsFilter(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet()
	h.Notifications("ok-node")
	ctx := context.Background()
	if _, err := h.DB.EnqueueNotifications(ctx, "ok-node", 0, func(*hub.NotificationState) ([]*hub.PlannedNotification, error) {
		return []*hub.PlannedNotification{{Channel: hub.ChannelCustomer, EventType: "node_stale", Status: hub.NotificationSkipped, Reason: hub.SkipNotEnabled}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	c := h.LoggedInClient()
	def := sectionOf(c.Get("/customers/ok-node").Body, "notifications")
	expectContains(t, def, "cooldown", `id="notifications-hidden"`, "1 “not enabled” row is hidden", `href="/customers/ok-node?notifications=all#notifications"`)
	expectNotContains(t, def, "node_stale")
	all := sectionOf(c.Get("/customers/ok-node?notifications=all").Body, "notifications")
	expectContains(t, all, "node_stale", "not enabled")
	skipped := sectionOf(c.Get("/customers/ok-node?notifications=skipped").Body, "notifications")
	expectContains(t, skipped, "cooldown", "node_stale")
	expectNotContains(t, skipped, "queued")
	queued := sectionOf(c.Get("/customers/ok-node?notifications=failed").Body, "notifications")
	expectContains(t, queued, "No failed notifications")
	expectStatus(t, c.Get("/customers/ok-node?notifications=loud"), http.StatusBadRequest)
}

// The period and the severity filter live in the URL: each link keeps the
// other, the fragments push the page's URL and refresh the status line.
func TestStateInTheURL(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet()
	c := h.LoggedInClient()
	body := c.Get("/customers/ok-node?period=7d&severity=error").Body
	expectContains(t, body,
		`href="/customers/ok-node?period=7d&amp;severity=warning#events"`,
		`href="/customers/ok-node?period=30d&amp;severity=error#history"`,
		`hx-push-url="/customers/ok-node?period=30d&amp;severity=error#history"`,
		// the live refresh asks for the same state
		`hx-get="/customers/ok-node?period=7d&amp;severity=error" hx-trigger="every 60s"`)
	frag := c.Get("/customers/ok-node/events?severity=info&period=7d").Body
	expectContains(t, frag, `id="status-area"`, `hx-swap-oob="true"`, `id="history-periods" hx-swap-oob="true"`,
		`href="/customers/ok-node?period=30d&amp;severity=info#history"`)
	hist := c.Get("/customers/ok-node/history?period=30d&severity=info").Body
	expectContains(t, hist, `id="events-filter" hx-swap-oob="true"`, `href="/customers/ok-node?period=30d#events"`)
	expectStatus(t, c.Get("/customers/ok-node/history?period=30d&severity=loud"), http.StatusBadRequest)
}

// Bidirectional overrides from a controller never reach the page.
func TestBidiOverridesNeutralised(t *testing.T) {
	h := MustPluggedHarness(t)
	h.Config("bidi-node", "Bidi", nil)
	h.Report("bidi-node", h.Clock.Now().Add(-time.Minute), map[string]any{"controller_version": "v1\u202egnp.exe",
		"checks": []map[string]any{{"name": "a\u2066b\u2069", "status": "warn", "message": "x\u202dy"}}})
	c := h.LoggedInClient()
	for _, path := range []string{"/", "/customers/bidi-node"} {
		body := c.Get(path).Body
		for _, r := range "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" {
			if strings.ContainsRune(body, r) {
				t.Errorf("%s holds U+%04X", path, r)
			}
		}
	}
	expectContains(t, c.Get("/customers/bidi-node").Body, "a\ufffdb\ufffd")
}

// A javascript: controller URL is refused for its scheme: no controller
// actions are offered, and the page says why.
func TestJavascriptControllerURLRefused(t *testing.T) {
	h := MustPluggedHarness(t)
	h.Config("js-node", "JS", nil)
	h.Report("js-node", h.Clock.Now().Add(-time.Minute), map[string]any{"controller_url": "javascript:alert(1)"})
	ctl := sectionOf(h.LoggedInClient().Get("/customers/js-node").Body, "controller")
	expectContains(t, ctl, `id="controller-url-refused"`, "refuses this one for its scheme")
	expectNotContains(t, ctl, `id="do-push"`)
}

// The form counts its errors in words that agree with the number.
func TestFormErrorCount(t *testing.T) {
	h := MustPluggedHarness(t)
	c := h.LoggedInClient()
	one := c.Post("/configs", url.Values{"customer_id": {"ok-id"}, "domain": {"not a domain"}, "status": {"active"}}).Body
	expectContains(t, one, "1 field needs a fix")
	two := c.Post("/configs", url.Values{"customer_id": {"X"}, "domain": {"not a domain"}, "status": {"active"}}).Body
	expectContains(t, two, "2 fields need a fix")
}

// A customer whose host agent the dead man's switch holds down says so.
func TestHostDownReason(t *testing.T) {
	h := MustPluggedHarness(t)
	h.Config("pve-node", "PVE", nil)
	h.Report("pve-node", h.Clock.Now().Add(-time.Minute), map[string]any{"checks": nil, "health": "ok"})
	h.Host("pve-node", "pve-node-a1", "v1.4.2")
	ctx := context.Background()
	due, err := h.DB.FindDueWatches(ctx, hub.WatchHost, h.Clock.Now().AddDate(1, 0, 0), 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("host watches %v, %v", due, err)
	}
	u, ok := due[0].Evaluate(h.Clock.Now().Add(3 * time.Hour))
	if !ok || u.State != hub.StateDown {
		t.Fatalf("evaluate: %+v", u)
	}
	if _, err := h.DB.ApplyWatchUpdates(ctx, []hub.WatchUpdate{u}); err != nil {
		t.Fatal(err)
	}
	row := rowOf(h.LoggedInClient().Get("/").Body, "pve-node")
	expectContains(t, row, `<span class="reason" id="reason-pve-node">host down</span>`)
}
