package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/web"
)

// The plug points: with no provider their sections and routes do not exist.
// TestHandlerRequiresEveryPlug: a dashboard without one of its providers
// does not start, and says which.
func TestHandlerRequiresEveryPlug(t *testing.T) {
	h := MustHarness(t, nil)
	s := *h.Server
	s.Plugs.Audit, s.Plugs.Versions = nil, nil
	if _, err := s.Handler(); err == nil || !strings.Contains(err.Error(), "Versions, Audit are required") {
		t.Fatalf("Handler = %v, want an error naming Versions and Audit", err)
	}
}

// Event stores a controller event of the customer that occurred ago before now.
func (h *Harness) Event(id, typ, severity, message string, ago time.Duration) {
	h.t.Helper()
	e := &hub.Event{CustomerID: id, Type: typ, Severity: severity, Source: hub.SourceController, Message: message,
		OccurredAt: h.Clock.Now().Add(-ago)}
	if err := h.DB.CreateEvent(context.Background(), e); err != nil {
		h.t.Fatal(err)
	}
}

// Host registers a host agent of the customer and stores one report of it
// with a controller guest at version.
func (h *Harness) Host(customerID, hostID, version string) {
	h.t.Helper()
	ctx := context.Background()
	if err := h.DB.UpsertHost(ctx, &hub.Host{ID: hostID, CustomerID: customerID}, ""); err != nil {
		h.t.Fatal(err)
	}
	r, err := hub.ParseHostReport([]byte(fmt.Sprintf(`{"host_id":%q,"agent_version":"0.7.0",
		"host":{"hostname":"pve-%s","pve_version":"8.2.4","cpu_percent":12.5,"mem_total_bytes":100,"mem_used_bytes":40,
			"disk_total_bytes":100,"disk_used_bytes":65},
		"guests":[{"vmid":101,"name":"felhom-controller","status":"running","controller_version":%q},
			{"vmid":102,"name":"<b>spare</b>","status":"stopped"}],
		"cloudflared":{"status":"connected"}}`, hostID, customerID, version)))
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.DB.CreateHostReport(ctx, r); err != nil {
		h.t.Fatal(err)
	}
	for _, g := range r.Guests {
		if err := h.DB.UpsertGuestFromReport(ctx, hostID, g); err != nil {
			h.t.Fatal(err)
		}
	}
}

// LatestVersion records the registry's newest controller version.
func (h *Harness) LatestVersion(v string) {
	h.t.Helper()
	if err := h.DB.SetLatestControllerVersion(context.Background(), &hub.ControllerVersion{Image: "felhom-controller", Version: v}); err != nil {
		h.t.Fatal(err)
	}
}

// Notifications stores the customer's preferences and two decisions: a
// queued customer mail and a skipped operator one.
func (h *Harness) Notifications(id string) {
	h.t.Helper()
	ctx := context.Background()
	cooldown := 12
	if err := h.DB.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: id, Email: "anna@example.hu",
		EnabledEvents: []string{"backup_failed", "disk_space_critical"}, CooldownHours: &cooldown}); err != nil {
		h.t.Fatal(err)
	}
	_, err := h.DB.EnqueueNotifications(ctx, id, 0, func(*hub.NotificationState) ([]*hub.PlannedNotification, error) {
		return []*hub.PlannedNotification{
			{Channel: hub.ChannelCustomer, EventType: "backup_failed", Recipient: "anna@example.hu", Status: hub.NotificationQueued,
				Email: &hub.Email{IdempotencyKey: id + "-1", To: "anna@example.hu", Subject: "Sikertelen mentés", Text: "x"}},
			{Channel: hub.ChannelOperator, EventType: "backup_failed", Status: hub.NotificationSkipped, Reason: hub.SkipCooldown},
		}, nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// SeedPlugged seeds the fleet and what the plugs show: events, a host, a
// registry version and notifications.
func (h *Harness) SeedPlugged() {
	h.t.Helper()
	h.SeedFleet()
	for _, id := range []string{"ok-node", "pending-node", "manual-node", "blocked-node"} {
		h.Event(id, "backup_failed", hub.SeverityError, "restic: "+scriptPayload, time.Hour)
		h.Event(id, "disk_space_warning", hub.SeverityWarning, "/mnt/hdd1 91% full", 2*time.Hour)
		h.Event(id, "backup_completed", hub.SeverityInfo, "backup ok", 3*time.Hour)
		h.Host(id, id+"-a1b2c3", "v1.4.2")
		h.Notifications(id)
	}
	h.LatestVersion("v1.5.0")
}

// The customer shapes of README v0.3.5 with every plug set.
var pluggedShapes = []struct {
	id      string
	managed bool
	// reporting is true when the customer has a controller URL to call.
	reporting bool
}{
	{"ok-node", true, true},       // managed + reporting
	{"pending-node", true, false}, // managed + waiting
	{"manual-node", false, true},  // manual
	{"blocked-node", true, true},  // blocked
	{"disabled-node", true, true}, // managed, paused on the node, no events
}

func TestWiredSectionsInEveryShape(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedPlugged()
	c := h.LoggedInClient()
	// An action for the audit section to show.
	expectStatus(t, c.Post("/customers/blocked-node/rotate-key", nil), http.StatusSeeOther)

	for _, shape := range pluggedShapes {
		t.Run(shape.id, func(t *testing.T) {
			resp := c.Get("/customers/" + shape.id)
			expectStatus(t, resp, http.StatusOK)
			body := resp.Body
			sections := presentSections(body)
			for _, id := range []string{"events", "hosts", "notifications", "audit"} {
				if !sections[id] {
					t.Errorf("section %q missing", id)
				}
			}
			// The preview and the controller need a config.
			if sections["yaml"] != shape.managed || sections["controller"] != shape.managed {
				t.Errorf("yaml %v, controller %v, want %v", sections["yaml"], sections["controller"], shape.managed)
			}
			events := sectionOf(body, "events")
			hosts := sectionOf(body, "hosts")
			notifications := sectionOf(body, "notifications")
			if shape.id == "disabled-node" {
				expectContains(t, events, "No events.")
				expectContains(t, hosts, "No host agent is registered")
				expectContains(t, notifications, "has not synced", "No notifications yet.")
			} else {
				// Events: newest first, escaped, with severities.
				expectContains(t, events, "backup_failed", "restic: &lt;script&gt;", "disk_space_warning", "backup_completed",
					`class="sev-bad" data-severity="error"`, "1 h ago")
				if strings.Index(events, "backup_failed") > strings.Index(events, "backup_completed") {
					t.Error("events not newest first")
				}
				// Hosts and guests, with the registry's version marks.
				expectContains(t, hosts, shape.id+"-a1b2c3", "badge-ok", "pve-"+shape.id, "Proxmox 8.2.4", "agent 0.7.0",
					"CPU 12.5%", "memory 40.0%", "disk 65.0%", "guests 1/2 running", "cloudflared", "felhom-controller",
					"v1.4.2", "update available", "&lt;b&gt;spare&lt;/b&gt;", "stopped")
				// Notifications: the customer's choices and the log with its channel.
				expectContains(t, notifications, "anna@example.hu", "2 event types", "cooldown 12 h", "disk_space_critical",
					"<td>customer</td>", "<td>operator</td>", "queued", "skipped", "cooldown")
			}
			if !shape.managed {
				return
			}
			cfg, err := h.DB.FindCustomerConfig(t.Context(), shape.id)
			if err != nil {
				t.Fatal(err)
			}
			// The preview is the generated file with its secrets masked.
			yaml := sectionOf(body, "yaml")
			expectContains(t, yaml, `id: &#34;`+shape.id+`&#34;`, "api_key: &#34;********&#34;", "keep_daily")
			expectNotContains(t, yaml, cfg.APIKey, cfg.SessionSecret)
			// The download commands name the URLs; the password is in a
			// <details> that opens on a click.
			setup := sectionOf(body, "setup")
			expectContains(t, setup, "http://hub.test/api/v1/config/"+shape.id, "http://hub.test/api/v1/recovery/"+shape.id,
				`X-Retrieval-Password: $HUB_RETRIEVAL_PASSWORD`, `<details id="reveal-retrieval">`)
			if i, j := strings.Index(setup, cfg.RetrievalPassword), strings.Index(setup, `<details id="reveal-retrieval">`); i < j {
				t.Error("the retrieval password is outside the <details>")
			}
			ctl := sectionOf(body, "controller")
			if shape.reporting {
				expectContains(t, ctl, `action="/customers/`+shape.id+`/diff"`, `hx-post="/customers/`+shape.id+`/diff"`,
					`action="/customers/`+shape.id+`/push-config"`, `action="/customers/`+shape.id+`/pull-config"`,
					`action="/customers/`+shape.id+`/update"`, "Update to v1.5.0", "v1.4.2", "update available")
			} else {
				expectContains(t, ctl, "has not reported its URL yet")
				expectNotContains(t, ctl, "push-config", "/diff")
			}
		})
	}
	audit := sectionOf(c.Get("/customers/blocked-node").Body, "audit")
	expectContains(t, audit, "customer.rotate_key", "operator:admin", ">ok<")
	expectContains(t, sectionOf(c.Get("/customers/ok-node").Body, "audit"), "No actions yet.")
}

// sectionOf returns the HTML of the <section> with the id, or "".
func sectionOf(body, id string) string {
	re := regexp.MustCompile(`(?s)<section class="card[^"]*" id="` + regexp.QuoteMeta(id) + `">.*?</section>`)
	return re.FindString(body)
}

func TestEventsTimelineFilterAndLimit(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedPlugged()
	for i := range 60 {
		h.Event("ok-node", "container_restarted", hub.SeverityInfo, fmt.Sprintf("restart %d", i), time.Duration(i)*time.Minute)
	}
	c := h.LoggedInClient()
	all := sectionOf(c.Get("/customers/ok-node").Body, "events")
	if n := strings.Count(all, "<tr class=\"sev-"); n != 50 {
		t.Errorf("timeline shows %d events, want the last 50", n)
	}
	expectContains(t, all, `aria-current="true">All</a>`, `hx-get="/customers/ok-node/events?severity=error"`,
		`href="/customers/ok-node?severity=error#events"`)

	for _, sev := range []string{"error", "warning", "info"} {
		page := sectionOf(c.Get("/customers/ok-node?severity="+sev).Body, "events")
		fragment := c.Get("/customers/ok-node/events?severity=" + sev)
		expectStatus(t, fragment, http.StatusOK)
		if !strings.HasPrefix(strings.TrimSpace(fragment.Body), `<section class="card wide" id="events">`) {
			t.Errorf("%s: the fragment is not the section alone", sev)
		}
		for _, body := range []string{page, fragment.Body} {
			rows := regexp.MustCompile(`data-severity="([a-z]+)"`).FindAllStringSubmatch(body, -1)
			if len(rows) == 0 {
				t.Errorf("%s: no rows", sev)
			}
			for _, r := range rows {
				if r[1] != sev {
					t.Errorf("filter %s shows a %s event", sev, r[1])
				}
			}
		}
	}
	expectStatus(t, c.Get("/customers/ok-node?severity=loud"), http.StatusBadRequest)
	expectStatus(t, c.Get("/customers/ok-node/events?severity=loud"), http.StatusBadRequest)
	expectStatus(t, c.Get("/customers/nobody/events"), http.StatusNotFound)
	expectContains(t, c.Get("/customers/disabled-node/events?severity=error").Body, "No error events.")
}

func TestDashboardEventCountsAndVersions(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedPlugged()
	h.Event("down-node", "disk_missing", hub.SeverityError, "gone", time.Hour)
	h.Event("down-node", "disk_missing", hub.SeverityError, "gone again", 2*time.Hour)
	// Events older than a day are not counted: they were received then.
	h.Clock.Add(-25 * time.Hour)
	h.Event("down-node", "disk_missing", hub.SeverityError, "old", 0)
	h.Clock.Add(25 * time.Hour)
	h.Config("newer-node", "Újabb", nil)
	h.Report("newer-node", h.Clock.Now(), map[string]any{"controller_version": "v1.5.0"})
	c := h.LoggedInClient()
	dash := c.Get("/").Body
	expectContains(t, dash, "Events 24 h")
	expectContains(t, rowOf(dash, "down-node"), "2 err", "update available")
	expectContains(t, rowOf(dash, "ok-node"), "1 err", "1 warn")
	expectContains(t, rowOf(dash, "warn-node"), `<span class="muted">0</span>`)
	expectNotContains(t, rowOf(dash, "newer-node"), "update available")
	expectContains(t, c.Get("/fleet").Body, "2 err")
	expectContains(t, rowOf(c.Get("/configs").Body, "ok-node"), "update available")
	expectContains(t, sectionOf(c.Get("/customers/ok-node").Body, "overview"), "update available")
}

// failingPlugs stand in for a store that fails.
type failingPlugs struct{}

var errPlug = errors.New("events table is on fire")

func (failingPlugs) CountRecentEvents(context.Context, time.Time) (map[string]hub.EventCounts, error) {
	return nil, errPlug
}
func (failingPlugs) FindEvents(context.Context, hub.EventFilter) ([]*hub.Event, error) {
	return nil, errPlug
}
func (failingPlugs) FindHosts(context.Context, string) ([]*hub.Host, error) { return nil, errPlug }
func (failingPlugs) FindNotificationPrefs(context.Context, string) (*hub.NotificationPrefs, error) {
	return nil, errPlug
}
func (failingPlugs) FindNotifications(context.Context, hub.NotificationFilter) ([]*hub.Notification, error) {
	return nil, errPlug
}
func (failingPlugs) PreviewConfig(context.Context, string) ([]byte, error) { return nil, errPlug }
func (failingPlugs) FindRefusedReports(context.Context, string, time.Time) (hub.RefusedReports, error) {
	return hub.RefusedReports{}, errPlug
}
func (failingPlugs) FindLatestControllerVersion(context.Context) (*hub.ControllerVersion, error) {
	return nil, errPlug
}
func (failingPlugs) FindAuditEntries(context.Context, hub.AuditFilter) ([]*hub.AuditEntry, error) {
	return nil, errPlug
}

// A failing plug leaves the page up with its section saying so.
func TestFailingPlugsLeavePagesUp(t *testing.T) {
	var f failingPlugs
	h := MustHarness(t, func(s *web.Server) {
		s.Plugs = web.Plugs{Events: f, Hosts: f, Notifications: f, ConfigPreview: f, Versions: f, Audit: f,
			Controller: s.Plugs.Controller, RefusedReports: f}
	})
	h.SeedFleet()
	c := h.LoggedInClient()
	dash := c.Get("/")
	expectStatus(t, dash, http.StatusOK)
	expectContains(t, dash.Body, "Event counts are unavailable")
	expectNotContains(t, dash.Body, "Events 24 h")
	page := c.Get("/customers/ok-node")
	expectStatus(t, page, http.StatusOK)
	expectContains(t, page.Body, "Events are unavailable right now", "Hosts are unavailable right now",
		"Notifications are unavailable right now", "The config could not be generated", "The audit log is unavailable right now")
	if !strings.Contains(h.Logs.String(), "events table is on fire") {
		t.Error("the plug's failure was not logged")
	}
}

// managedAt makes a seeded customer report its controller at url.
func (h *Harness) reportAt(id, controllerURL string) {
	h.t.Helper()
	h.Report(id, h.Clock.Now(), map[string]any{"controller_url": controllerURL})
}

func TestControllerActionsAgainstFakeController(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedPlugged()
	h.reportAt("ok-node", h.Controller.URL)
	cfg, _ := h.DB.FindCustomerConfig(t.Context(), "ok-node")
	generated, err := h.Fleet.Configs.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := h.LoggedInClient()

	// Push: the controller gets the generated config.
	expectStatus(t, c.Post("/customers/ok-node/push-config", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, "flash-ok",
		fmt.Sprintf("Config pushed to the controller of ok-node (%d bytes). The controller answered: applied", len(generated)))
	if reqs := h.Controller.Requests(); len(reqs) != 1 || reqs[0] != "POST /api/config/apply "+string(generated) {
		t.Fatalf("controller received %q", reqs)
	}

	// Show diff: a per-key table, values escaped, secrets masked.
	live := strings.Replace(string(generated), "keep_daily: 7", "keep_daily: 3", 1) +
		"extra:\n  note: \"<script>alert(1)</script>\"\nruntime:\n  booted: now\n"
	live = strings.Replace(live, cfg.APIKey, "0000", 1)
	h.Controller.SetLive(live)
	diff := c.Do("POST", "/customers/ok-node/diff", url.Values{}, http.Header{"Hx-Request": {"true"}})
	expectStatus(t, diff, http.StatusOK)
	expectNotContains(t, diff.Body, "<html", scriptPayload, cfg.APIKey, "runtime.booted")
	expectContains(t, diff.Body, `id="diff-table"`, "3 keys differ",
		`<tr class="diff-changed"><td class="mono">backup.keep_daily</td>`, ">7<", ">3<",
		`<tr class="diff-removed"><td class="mono">extra.note</td>`, "&lt;script&gt;",
		`<tr class="diff-changed"><td class="mono">hub.api_key</td><td>changed <span class="muted small">(secret, masked)</span>`)
	// Without JavaScript the same table is a page of its own.
	page := c.Post("/customers/ok-node/diff", nil)
	expectStatus(t, page, http.StatusOK)
	expectContains(t, page.Body, "<html", `id="diff-table"`, "Back to the customer")
	// In sync.
	h.Controller.SetLive(string(generated))
	expectContains(t, c.Do("POST", "/customers/ok-node/diff", url.Values{}, http.Header{"Hx-Request": {"true"}}).Body, `id="no-diff"`, "In sync")

	// Pull: the live config's identity comes into the hub's.
	h.Controller.SetLive(strings.Replace(string(generated), "Kovács család", "Kovács és fiai", 1))
	expectStatus(t, c.Post("/customers/ok-node/pull-config", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, "Imported from the controller of ok-node: display_name.", "<h1>Kovács és fiai</h1>")

	// Trigger update: to the registry's latest.
	expectStatus(t, c.Post("/customers/ok-node/update", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body,
		"The controller of ok-node was asked to update to v1.5.0. It answered: update scheduled")
	reqs := h.Controller.Requests()
	if last := reqs[len(reqs)-1]; last != `POST /api/update {"version":"v1.5.0"}` {
		t.Errorf("update request %q", last)
	}

	// Every call is in the audit log under the session.
	audit := sectionOf(c.Get("/customers/ok-node").Body, "audit")
	for _, action := range []string{"controller.push", "controller.diff", "controller.pull", "controller.update"} {
		expectContains(t, audit, action)
	}
	entries, _ := h.DB.FindAuditEntries(t.Context(), hub.AuditFilter{CustomerID: "ok-node"})
	for _, e := range entries {
		if !regexp.MustCompile(`^operator:admin$`).MatchString(e.Actor) {
			t.Errorf("audit actor %q", e.Actor)
		}
	}
}

func TestControllerActionFailures(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedPlugged()
	c := h.LoggedInClient()
	hx := http.Header{"Hx-Request": {"true"}}

	// The controller answers 500.
	h.reportAt("ok-node", h.Controller.URL)
	h.Controller.SetStatus(http.StatusInternalServerError)
	for _, action := range []struct{ path, name string }{
		{"/customers/ok-node/push-config", "Push config"}, {"/customers/ok-node/pull-config", "Pull config"},
		{"/customers/ok-node/update", "Trigger update"},
	} {
		resp := c.Post(action.path, nil)
		expectStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/customers/ok-node" {
			t.Errorf("%s: redirect to %q", action.path, loc)
		}
		page := c.Get("/customers/ok-node").Body
		expectContains(t, page, "flash-error", action.name+" failed: controller at", "answered HTTP 500: apply failed: &lt;b&gt;disk full&lt;/b&gt;")
	}
	diff := c.Do("POST", "/customers/ok-node/diff", url.Values{}, hx)
	expectStatus(t, diff, http.StatusOK)
	expectContains(t, diff.Body, `id="diff-error"`, "Show diff failed: controller at", "HTTP 500")
	resp := c.Post("/customers/ok-node/diff", nil) // no JS: back to the page with a flash
	expectStatus(t, resp, http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, "Show diff failed")

	// The controller is unreachable: nothing listens at its URL.
	h.reportAt("ok-node", ClosedURL(t))
	expectStatus(t, c.Post("/customers/ok-node/push-config", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, "Push config failed: controller at", "refused the connection")
	expectContains(t, c.Do("POST", "/customers/ok-node/diff", url.Values{}, hx).Body, "Show diff failed", "refused the connection")

	// A customer that never reported has no controller URL.
	expectStatus(t, c.Post("/customers/pending-node/push-config", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/pending-node").Body, "Push config failed: customer pending-node has not reported yet")
	// A manual customer has no config to push.
	expectStatus(t, c.Post("/customers/manual-node/push-config", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/manual-node").Body, "Push config failed")

	entries, _ := h.DB.FindAuditEntries(t.Context(), hub.AuditFilter{CustomerID: "ok-node"})
	if len(entries) == 0 || entries[0].Result != hub.AuditError || !strings.Contains(entries[0].Detail, "refused") {
		t.Errorf("failures not audited: %+v", entries)
	}
	expectContains(t, sectionOf(c.Get("/customers/ok-node").Body, "audit"), `class="audit-error"`, "refused the connection")
}

func TestTriggerUpdateNeedsTheRegistry(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet() // no registry version
	h.reportAt("ok-node", h.Controller.URL)
	c := h.LoggedInClient()
	ctl := sectionOf(c.Get("/customers/ok-node").Body, "controller")
	expectContains(t, ctl, "the registry has not been read yet", "Trigger update needs the registry's latest version")
	expectNotContains(t, ctl, `action="/customers/ok-node/update"`)
	expectStatus(t, c.Post("/customers/ok-node/update", nil), http.StatusSeeOther)
	expectContains(t, c.Get("/customers/ok-node").Body, "Trigger update failed: no controller version is known yet")
	if len(h.Controller.Requests()) != 0 {
		t.Error("the controller was called")
	}
}

// Every state-changing dashboard action is in the audit log under the
// session that did it.
func TestDashboardActionsAreAudited(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedFleet()
	c := h.LoggedInClient()
	other := h.LoggedInClient()
	steps := []struct {
		client *Client
		path   string
		form   url.Values
		action string
		id     string
	}{
		{c, "/configs", url.Values{"customer_id": {"uj-ugyfel"}, "status": {"active"}}, "config.create", "uj-ugyfel"},
		{c, "/configs/uj-ugyfel", url.Values{"display_name": {"Új ügyfél"}, "status": {"active"}}, "config.update", "uj-ugyfel"},
		{c, "/customers/uj-ugyfel/block", nil, "customer.block", "uj-ugyfel"},
		{other, "/customers/uj-ugyfel/unblock", nil, "customer.unblock", "uj-ugyfel"},
		{c, "/customers/uj-ugyfel/rotate-key", nil, "customer.rotate_key", "uj-ugyfel"},
		{c, "/customers/manual-node/create-config", nil, "config.create_from_report", "manual-node"},
		{c, "/customers/uj-ugyfel/delete", nil, "config.delete", "uj-ugyfel"},
	}
	actors := map[*Client]string{}
	for _, st := range steps {
		expectStatus(t, st.client.Post(st.path, st.form), http.StatusSeeOther)
		entries, err := h.DB.FindAuditEntries(t.Context(), hub.AuditFilter{Limit: 1})
		if err != nil || len(entries) != 1 {
			t.Fatalf("%s: no audit entry (%v)", st.path, err)
		}
		e := entries[0]
		if e.Action != st.action || e.CustomerID != st.id || e.Result != hub.AuditOK {
			t.Errorf("%s: audit %+v", st.path, e)
		}
		if e.Actor != "operator:admin" {
			t.Errorf("%s: actor %q", st.path, e.Actor)
		}
		actors[st.client] = e.Actor
	}
	// The audit names the account, whichever of its sessions acted.
	if actors[c] != actors[other] {
		t.Errorf("one account, two actors: %q, %q", actors[c], actors[other])
	}
	// Refusals are audited too.
	expectStatus(t, c.Post("/customers/manual-node/create-config", nil), http.StatusConflict)
	if e, _ := h.DB.FindAuditEntries(t.Context(), hub.AuditFilter{Limit: 1}); e[0].Result != hub.AuditError {
		t.Errorf("refusal audited as %+v", e[0])
	}
	audit := sectionOf(c.Get("/customers/manual-node").Body, "audit")
	expectContains(t, audit, "config.create_from_report", "already has a config", actors[c])
}

func TestAuditActorWithoutLogin(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.PasswordHash = "" })
	h.Config("kovacs", "Kovács", nil)
	expectStatus(t, h.Client().Post("/customers/kovacs/block", nil), http.StatusSeeOther)
	e, _ := h.DB.FindAuditEntries(t.Context(), hub.AuditFilter{Limit: 1})
	if len(e) != 1 || e[0].Actor != "dashboard" || e[0].Action != "customer.block" {
		t.Errorf("audit %+v", e)
	}
}

// The sections the plugs add keep the CSP's promise: nothing inline.
func TestPluggedPagesHaveNoInlineCode(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedPlugged()
	h.reportAt("ok-node", h.Controller.URL)
	h.Controller.SetLive("customer:\n  id: ok-node\nextra: \"<script>x</script>\"\n")
	c := h.LoggedInClient()
	hx := http.Header{"Hx-Request": {"true"}}
	bodies := map[string]string{
		"diff fragment":    c.Do("POST", "/customers/ok-node/diff", url.Values{}, hx).Body,
		"diff page":        c.Post("/customers/ok-node/diff", nil).Body,
		"events fragment":  c.Get("/customers/ok-node/events?severity=error").Body,
		"config form edit": c.Get("/configs/ok-node/edit").Body,
		"dashboard":        c.Get("/").Body,
	}
	for _, shape := range pluggedShapes {
		bodies[shape.id] = c.Get("/customers/" + shape.id).Body
	}
	for name, body := range bodies {
		for _, re := range inlineCode {
			if m := re.FindString(body); m != "" {
				t.Errorf("%s: inline code %q", name, m)
			}
		}
		if strings.Contains(body, "<script>x") || strings.Contains(body, scriptPayload) {
			t.Errorf("%s: unescaped controller text", name)
		}
	}
}

// Another site cannot make a logged-in browser call a controller.
func TestControllerActionsRefuseCrossSitePosts(t *testing.T) {
	h := MustPluggedHarness(t)
	h.SeedPlugged()
	h.reportAt("ok-node", h.Controller.URL)
	c := h.LoggedInClient()
	for _, action := range []string{"push-config", "pull-config", "diff", "update"} {
		resp := c.Do("POST", "/customers/ok-node/"+action, url.Values{}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		expectStatus(t, resp, http.StatusForbidden)
	}
	if got := h.Controller.Requests(); len(got) != 0 {
		t.Errorf("the controller was called: %q", got)
	}
	if e, _ := h.DB.FindAuditEntries(t.Context(), hub.AuditFilter{CustomerID: "ok-node"}); len(e) != 0 {
		t.Errorf("refused posts were audited: %+v", e)
	}
}
