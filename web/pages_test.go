package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestDashboardShowsFleetWithStatusBadges(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	resp := c.Get("/")
	expectStatus(t, resp, http.StatusOK)
	for id, status := range fleetStates {
		row := rowOf(resp.Body, id)
		if status == hub.StatusBlocked {
			if row != "" || strings.Contains(resp.Body, id) {
				t.Errorf("blocked customer %s is on the dashboard", id)
			}
			continue
		}
		if row == "" {
			t.Errorf("no row for %s", id)
			continue
		}
		badge := `<span class="badge badge-` + strings.ToLower(string(status)) + `">` + string(status) + `</span>`
		if !strings.Contains(row, badge) {
			t.Errorf("%s: row lacks %s\n%s", id, badge, row)
		}
	}
	// Problems first: DOWN, then WARN, then OK.
	down, warn, ok := strings.Index(resp.Body, "row-down-node"), strings.Index(resp.Body, "row-warn-node"), strings.Index(resp.Body, "row-ok-node")
	if !(down < warn && warn < ok) {
		t.Errorf("rows not ordered by severity: down %d warn %d ok %d", down, warn, ok)
	}
	expectContains(t, rowOf(resp.Body, "ok-node"), "3 min ago", "v1.4.2", "Kovács család", "1/2")
	expectContains(t, rowOf(resp.Body, "warn-node"), "40 min ago")
	expectContains(t, rowOf(resp.Body, "pending-node"), "never")
	expectContains(t, rowOf(resp.Body, "manual-node"), "MANUAL")
	// Auto-refresh: htmx polls the fragment, a meta refresh covers no-JS.
	expectContains(t, resp.Body, `hx-get="/fleet" hx-trigger="every 60s"`, `<noscript><meta http-equiv="refresh" content="60"></noscript>`)
	expectContains(t, resp.Body, "Events 24 h")
}

func TestFleetFragment(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	resp := c.Do("GET", "/fleet", nil, http.Header{"Hx-Request": {"true"}})
	expectStatus(t, resp, http.StatusOK)
	if !strings.HasPrefix(strings.TrimSpace(resp.Body), `<section id="fleet"`) {
		t.Errorf("fragment is not the fleet section alone:\n%s", excerpt(resp.Body))
	}
	expectNotContains(t, resp.Body, "<html", "<footer")
	expectContains(t, resp.Body, "row-ok-node", `hx-trigger="every 60s"`)
}

func TestCustomersListShowsEveryCustomer(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	resp := c.Get("/configs")
	expectStatus(t, resp, http.StatusOK)
	for id, status := range fleetStates {
		row := rowOf(resp.Body, id)
		if row == "" {
			t.Errorf("no row for %s", id)
			continue
		}
		expectContains(t, row, `badge-`+strings.ToLower(string(status)))
		kind := "MANAGED"
		if id == "manual-node" {
			kind = "MANUAL"
		}
		expectContains(t, row, kind)
	}
	if row := rowOf(resp.Body, "blocked-node"); !strings.Contains(row, `class="blocked"`) {
		t.Errorf("blocked row is not grayed: %s", row)
	}
	if row := rowOf(resp.Body, "ok-node"); strings.Contains(row, `class="blocked"`) {
		t.Error("an active row is grayed")
	}
}

// sectionIDs are the customer page's sections, by the id of their element.
var sectionIDs = []string{"overview", "system", "storage", "containers", "backups", "checks", "history",
	"config", "credentials", "setup", "actions", "waiting", "manual", "create-config", "blocked-banner",
	"events", "hosts", "notifications", "yaml", "controller", "audit"}

// plugSection marks the sections the plugs provide.
var plugSection = map[string]bool{"events": true, "hosts": true, "notifications": true, "yaml": true, "controller": true, "audit": true}

// presentSections returns which of sectionIDs the page has.
func presentSections(body string) map[string]bool {
	out := map[string]bool{}
	for _, id := range sectionIDs {
		out[id] = strings.Contains(body, `id="`+id+`"`)
	}
	return out
}

func TestCustomerPageInEveryState(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	reporting := []string{"overview", "system", "storage", "containers", "backups", "checks", "history"}
	managed := []string{"config", "credentials", "setup", "actions"}
	tests := []struct {
		id      string
		present []string
	}{
		{"ok-node", append(append([]string{}, reporting...), managed...)},
		{"warn-node", append(append([]string{}, reporting...), managed...)},
		{"down-node", append(append([]string{}, reporting...), managed...)},
		{"disabled-node", append(append([]string{}, reporting...), managed...)},
		{"pending-node", append([]string{"waiting"}, managed...)},
		{"manual-node", append([]string{"manual", "create-config"}, reporting...)},
		{"blocked-node", append(append([]string{"blocked-banner"}, reporting...), managed...)},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			resp := c.Get("/customers/" + tt.id)
			expectStatus(t, resp, http.StatusOK)
			want := map[string]bool{}
			for _, s := range tt.present {
				want[s] = true
			}
			for id, got := range presentSections(resp.Body) {
				if plugSection[id] {
					continue // TestWiredSectionsInEveryShape holds these
				}
				if got != want[id] {
					t.Errorf("section %q present = %v, want %v", id, got, want[id])
				}
			}
			status := fleetStates[tt.id]
			expectContains(t, resp.Body, `<span class="badge badge-`+strings.ToLower(string(status))+`">`)

			// The config form exists for managed customers only.
			form := c.Get("/configs/" + tt.id + "/edit")
			if tt.id == "manual-node" {
				expectStatus(t, form, http.StatusNotFound)
				return
			}
			expectStatus(t, form, http.StatusOK)
			expectContains(t, form.Body, `action="/configs/`+tt.id+`"`, `value="`+tt.id+`" readonly`)
			wantStatus := "active"
			if status == hub.StatusBlocked {
				wantStatus = "blocked"
			}
			expectContains(t, form.Body, `<option value="`+wantStatus+`" selected>`)
		})
	}
}

func TestCustomerPageDetails(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	cfg, err := h.DB.FindCustomerConfig(t.Context(), "ok-node")
	if err != nil {
		t.Fatal(err)
	}
	resp := c.Get("/customers/ok-node")
	expectStatus(t, resp, http.StatusOK)
	expectContains(t, resp.Body,
		"<h1>Kovács család</h1>", "felhom-ok-node", "Debian GNU/Linux 12 (bookworm)", "14 d 0 h",
		"/mnt/hdd1", "91.2%", `<meter min="0" max="1" low="0.9" high="0.95" optimum="0" value="0.9124`,
		"nextcloud-app", "restarting", `<tr class="bad">`, "1 of 2 running",
		"7 h ago", "384.0 GiB", "/mnt/hdd1 91% full",
		"https://ok-node.felhom.eu", `rel="noopener noreferrer"`,
		// Credentials sit folded in a <details> that works without JS.
		`<details id="reveal-credentials">`, cfg.APIKey, cfg.RetrievalPassword,
		"url: http://hub.test", "id: ok-node",
		"30m (hub default)", "1h (hub default)",
	)
	// Pages with credentials are never cached.
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}

	waiting := c.Get("/customers/pending-node")
	expectContains(t, waiting.Body, "Waiting for first report", "<h1>Horváth Anna</h1>")

	manual := c.Get("/customers/manual-node")
	expectContains(t, manual.Body, `action="/customers/manual-node/create-config"`, "Create Config")
	expectNotContains(t, manual.Body, "Edit config", "/rotate-key")

	blocked := c.Get("/customers/blocked-node")
	expectContains(t, blocked.Body, `action="/customers/blocked-node/unblock"`)
	expectNotContains(t, blocked.Body, `action="/customers/blocked-node/block"`)
}

func TestCustomerPageNotFound(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.LoggedInClient()
	for _, path := range []string{"/customers/nobody", "/customers/Bad_ID!", "/configs/nobody/edit", "/no/such/page"} {
		resp := c.Get(path)
		expectStatus(t, resp, http.StatusNotFound)
		expectContains(t, resp.Body, "Not Found")
	}
}

func TestHistoryChart(t *testing.T) {
	h := MustHarness(t, nil)
	h.Config("kovacs", "Kovács", nil)
	now := h.Clock.Now()
	for i := range 96 { // a day of reports every 15 minutes
		h.Report("kovacs", now.Add(-time15(i)), map[string]any{
			"system": map[string]any{"cpu_percent": float64(i % 50), "mem_total_bytes": 100, "mem_used_bytes": 40},
		})
	}
	h.Report("kovacs", now.Add(-5*24*time15(4)), nil) // five days ago: only in 7d and 30d
	c := h.LoggedInClient()

	day := c.Get("/customers/kovacs")
	expectContains(t, day.Body, `<svg class="chart"`, `class="line s-cpu"`, `class="line s-mem"`, `class="line s-disk"`,
		`aria-current="true">24 h</a>`, `hx-get="/customers/kovacs/history?period=7d"`, `href="/customers/kovacs?period=7d#history"`)
	if n := strings.Count(day.Body, `class="line s-cpu"`); n != 1 {
		t.Errorf("24 h cpu has %d lines, want 1 unbroken line", n)
	}

	week := c.Get("/customers/kovacs/history?period=7d")
	expectStatus(t, week, http.StatusOK)
	if !strings.HasPrefix(strings.TrimSpace(week.Body), `<section class="card wide" id="history">`) {
		t.Errorf("history fragment is not the section alone:\n%s", excerpt(week.Body))
	}
	expectContains(t, week.Body, `aria-current="true">7 d</a>`)
	// The lone report five days ago is a separate piece of line.
	if n := strings.Count(week.Body, `class="line s-cpu"`); n != 2 {
		t.Errorf("7 d cpu has %d lines, want 2 (a gap between them)", n)
	}

	for _, bad := range []string{"/customers/kovacs?period=2y", "/customers/kovacs/history?period=1h"} {
		expectStatus(t, c.Get(bad), http.StatusBadRequest)
	}
	expectStatus(t, c.Get("/customers/nobody/history"), http.StatusNotFound)
}

func TestFooterShowsVersion(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	for _, path := range []string{"/", "/configs", "/customers/ok-node", "/configs/new", "/configs/ok-node/edit", "/nowhere"} {
		expectContains(t, c.Get(path).Body, `<span id="hub-version">v9.8.7-test</span>`)
	}
	expectContains(t, h.Client().Get("/login").Body, "v9.8.7-test")
}

// inlineCode finds what the CSP would block: inline scripts, style
// attributes or elements, and event handler attributes.
var inlineCode = []*regexp.Regexp{
	regexp.MustCompile(`<script(\s[^>]*)?>[^<]`),
	regexp.MustCompile(`<style[\s>]`),
	regexp.MustCompile(`\sstyle=`),
	regexp.MustCompile(`\son[a-z]+=`),
	regexp.MustCompile(`(?i)javascript:`),
}

func TestPagesHaveNoInlineCode(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	pages := []string{"/", "/fleet", "/configs", "/configs/new", "/configs/ok-node/edit", "/nowhere",
		"/customers/ok-node/history?period=30d"}
	for id := range fleetStates {
		pages = append(pages, "/customers/"+id)
	}
	bodies := map[string]string{"/login": h.Client().Get("/login").Body}
	for _, p := range pages {
		bodies[p] = c.Get(p).Body
	}
	bodies["config form with errors"] = c.Post("/configs", nil).Body
	for p, body := range bodies {
		for _, re := range inlineCode {
			if m := re.FindString(body); m != "" {
				t.Errorf("%s: inline code %q", p, m)
			}
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, ` src="/static/`) {
				t.Errorf("%s: script not from /static: %s", p, tag)
			}
		}
	}
}

// time15 is n quarter hours.
func time15(n int) time.Duration { return time.Duration(n) * 15 * time.Minute }

func TestLargeFleetShowsProblemsAndCapsOKRows(t *testing.T) {
	h := MustHarness(t, nil)
	now := h.Clock.Now()
	for i := range 230 {
		h.Report(fmt.Sprintf("ok-%03d", i), now.Add(-time.Minute), map[string]any{"health": "ok"})
	}
	h.Report("sick-node", now.Add(-time.Minute), map[string]any{"health": "fail"})
	h.Report("paused-node", now.Add(-time.Minute), map[string]any{"monitoring_enabled": false})
	c := h.LoggedInClient()

	resp := c.Get("/")
	expectStatus(t, resp, http.StatusOK)
	if got := strings.Count(resp.Body, `data-status="ok"`); got != 200 {
		t.Errorf("%d OK rows, want the cap of 200", got)
	}
	expectContains(t, resp.Body, "row-sick-node", "row-paused-node", "30 more customers are OK", `href="/?all=1"`)

	all := c.Get("/?all=1")
	expectStatus(t, all, http.StatusOK)
	if got := strings.Count(all.Body, `data-status="ok"`); got != 230 {
		t.Errorf("show all: %d OK rows, want 230", got)
	}
	expectContains(t, all.Body, `hx-get="/fleet?all=1"`)
	expectNotContains(t, all.Body, "more customers are OK")
}

// TestHistoryChart30DaysAfterPrune: the 30-day chart reads history as the
// API does, so once the raw tier is pruned (reports older than 7 days) it
// still shows the whole month from the hourly rollups. It used to show 7.
func TestHistoryChart30DaysAfterPrune(t *testing.T) {
	h := MustHarness(t, nil)
	h.Config("kovacs", "Kovács", nil)
	ctx := context.Background()
	now := h.Clock.Now()
	const reports = 30 * 4 // every 6 hours for 30 days
	for i := range reports {
		h.Report("kovacs", now.Add(-time.Duration(i)*6*time.Hour-time.Minute), map[string]any{
			"system": map[string]any{"cpu_percent": 20.0, "mem_total_bytes": 100, "mem_used_bytes": 40},
		})
	}
	if _, err := h.DB.RollUpHistory(ctx, 10_000); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DB.PruneHistory(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := h.DB.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "kovacs", Resolution: hub.ResolutionRaw, Since: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 7*4+1 {
		t.Fatalf("%d raw points left: the prune did not trim the raw tier, so this test proves nothing", len(raw))
	}
	c := h.LoggedInClient()
	month := c.Get("/customers/kovacs/history?period=30d")
	expectStatus(t, month, http.StatusOK)
	expectContains(t, month.Body, fmt.Sprintf(`id="chart-reports">from %d reports<`, reports))
	// The API's answer over the same period counts the same reports.
	var samples int
	points, err := h.DB.FindMetrics(ctx, hub.DefaultHistoryTiers.Filter(hub.StreamReports, "kovacs", 30*24*time.Hour, now))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		samples += p.Samples
	}
	if samples != reports {
		t.Errorf("the API's 30 d history holds %d reports, the page %d", samples, reports)
	}
}

// TestCustomerPageShowsFieldProblems: what the tolerant reader could not
// read is shown with the latest report, escaped like all node text.
func TestCustomerPageShowsFieldProblems(t *testing.T) {
	h := MustHarness(t, nil)
	h.Report("kovacs", h.Clock.Now(), map[string]any{"health": "<b>sick</b>", "storage": map[string]any{"/": 1}})
	page := h.LoggedInClient().Get("/customers/kovacs")
	expectStatus(t, page, http.StatusOK)
	expectContains(t, page.Body, `2 fields could not be read and were left out`,
		`<span class="mono">health</span>: must be ok, warn or fail; read as warn`,
		`<span class="mono">storage</span>: expected an array, got an object; left out`)
	expectNotContains(t, page.Body, "<b>sick</b>")
}

// TestUnreadableMetricsShowAsUnknown: a CPU or memory figure the reader
// left out is shown as unknown, never as 0 %.
func TestUnreadableMetricsShowAsUnknown(t *testing.T) {
	h := MustHarness(t, nil)
	h.Report("kovacs", h.Clock.Now(), map[string]any{"system": map[string]any{
		"hostname": "felhom-kovacs", "cpu_percent": "12", "mem_total_bytes": 100, "mem_used_bytes": 150}})
	page := h.LoggedInClient().Get("/customers/kovacs")
	expectStatus(t, page, http.StatusOK)
	expectContains(t, page.Body, `<dt>CPU</dt><dd class="">– `, `<dt>Memory</dt><dd class="">– `)
	expectNotContains(t, page.Body, "150 B of 100 B")
}
