package chromiumtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	hub "github.com/felhom/hub"
)

// eventSeverities returns the data-severity of every row of the timeline.
func eventSeverities(tab *Tab) []string {
	tab.t.Helper()
	return Eval[[]string](tab, `Array.from(document.querySelectorAll('#events tbody tr')).map(r => r.dataset.severity)`)
}

func TestEventsFilterBySeverity(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.WaitVisible(chromedp.CSS("#events tbody tr")),
	)
	if got := eventSeverities(tab); len(got) != 7 {
		t.Fatalf("timeline rows %v, want 7", got)
	}
	// The filter swaps the section in place, without a page load.
	tab.Do(chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
	for _, f := range []struct {
		label, severity string
		rows            int
	}{{"Errors", "error", 1}, {"Warnings", "warning", 2}, {"Info", "info", 4}, {"All", "", 7}} {
		link := `#events nav a[href="/customers/kovacs-csalad#events"]`
		if f.severity != "" {
			link = fmt.Sprintf(`#events nav a[href="/customers/kovacs-csalad?severity=%s#events"]`, f.severity)
		}
		tab.Do(
			chromedp.Click(chromedp.CSS(link)),
			chromedp.WaitVisible(chromedp.CSS(strings.Replace(link, "nav a[", "nav a[aria-current][", 1))),
		)
		got := eventSeverities(tab)
		if len(got) != f.rows {
			t.Errorf("%s: %d rows %v, want %d", f.label, len(got), got, f.rows)
		}
		for _, sev := range got {
			if f.severity != "" && sev != f.severity {
				t.Errorf("%s shows a %s event", f.label, sev)
			}
		}
	}
	if !Eval[bool](tab, "window.__noReload === true") {
		t.Error("the severity filter reloaded the page")
	}
	if got := tab.Text(`#events tbody tr[data-severity="error"] td:last-child`); got != "restic: repository is locked by another process" {
		t.Errorf("error event message %q", got)
	}
	tab.CheckClean()

	// Without JavaScript the links are plain page loads that do the same.
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad?severity=warning"),
		chromedp.WaitVisible(chromedp.CSS(`#events nav a[aria-current][href$="severity=warning#events"]`)),
	)
	if got := eventSeverities(tab); len(got) != 2 || got[0] != "warning" || got[1] != "warning" {
		t.Errorf("?severity=warning shows %v", got)
	}
	tab.CheckClean()
}

// diffColors are the left borders of the diff table's rows (app.css).
var diffColors = map[string]string{
	"added":   "rgb(30, 138, 60)",
	"removed": "rgb(180, 35, 24)",
	"changed": "rgb(138, 97, 0)",
}

func TestShowDiffAgainstFakeController(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.WaitVisible(chromedp.CSS("#show-diff")),
		chromedp.Evaluate[chromedp.Void](`window.__noReload = true`),
		chromedp.Click(chromedp.CSS("#show-diff")),
		chromedp.WaitVisible(chromedp.CSS("#diff-table")),
	)
	type row struct{ Key, Kind, Hub, Controller, Border string }
	rows := Eval[[]row](tab, `Array.from(document.querySelectorAll('#diff-table tbody tr')).map(r => ({
		Key: r.cells[0].textContent, Kind: r.className.replace('diff-', ''), Hub: r.cells[2].textContent,
		Controller: r.cells[3].textContent, Border: getComputedStyle(r.cells[0]).borderLeftColor}))`)
	want := map[string][3]string{ // kind, hub, controller
		"backup.cross_drive":  {"added", "true", "(absent)"},
		"backup.keep_daily":   {"changed", "7", "3"},
		"debug.verbose":       {"removed", "(absent)", "true"},
		"hub.api_key":         {"changed", "********", "********"},
		"updates.auto_update": {"changed", "false", "true"},
	}
	if len(rows) != len(want) {
		t.Errorf("diff rows %+v, want %d", rows, len(want))
	}
	for _, r := range rows {
		w, ok := want[r.Key]
		if !ok {
			t.Errorf("unexpected diff row %+v", r)
			continue
		}
		if r.Kind != w[0] || r.Hub != w[1] || r.Controller != w[2] {
			t.Errorf("%s: %s %q → %q, want %s %q → %q", r.Key, r.Kind, r.Hub, r.Controller, w[0], w[1], w[2])
		}
		if r.Border != diffColors[r.Kind] {
			t.Errorf("%s: colour %s, want %s for %s", r.Key, r.Border, diffColors[r.Kind], r.Kind)
		}
	}
	if !Eval[bool](tab, "window.__noReload === true") {
		t.Error("Show diff reloaded the page")
	}
	tab.CheckClean()
	tab.Screenshot("customer")

	// The diff is audited under the session.
	entries, err := h.DB.FindAuditEntries(context.Background(), hub.AuditFilter{CustomerID: "kovacs-csalad", Limit: 1})
	if err != nil || len(entries) != 1 || entries[0].Action != "controller.diff" || entries[0].Actor != "operator:admin" {
		t.Errorf("audit %v, want one controller.diff by operator:admin", describeAudit(entries, err))
	}

	// A controller that fails says so in place of the table.
	h.Controller.SetDown(true)
	tab.Do(
		chromedp.Click(chromedp.CSS("#show-diff")),
		chromedp.WaitVisible(chromedp.CSS("#diff-error")),
	)
	if got := tab.Text("#diff-error"); !strings.Contains(got, "Show diff failed") || !strings.Contains(got, "HTTP 503: controller is restarting") {
		t.Errorf("diff error %q", got)
	}
	if n := tab.Count("#diff-table"); n != 0 {
		t.Error("the old table is still shown")
	}
	tab.CheckClean()
}

func TestPushConfigShowsResult(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.Click(chromedp.CSS("#confirm-push summary")),
		chromedp.WaitVisible(chromedp.CSS("#do-push")),
		chromedp.Click(chromedp.CSS("#do-push")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
	)
	if got := tab.Text("#flash"); !strings.Contains(got, "Config pushed to the controller of kovacs-csalad") {
		t.Errorf("flash %q", got)
	}
	if got := tab.Text("#audit tbody tr:first-child td:nth-child(3)"); got != "controller.push" {
		t.Errorf("latest audit action %q", got)
	}
	h.Controller.SetDown(true)
	tab.Do(
		chromedp.Click(chromedp.CSS("#confirm-push summary")),
		chromedp.WaitVisible(chromedp.CSS("#do-push")),
		chromedp.Click(chromedp.CSS("#do-push")),
		chromedp.WaitVisible(chromedp.CSS("#flash.flash-error")),
	)
	if got := tab.Text("#flash"); !strings.Contains(got, "Push config failed") || !strings.Contains(got, "HTTP 503") {
		t.Errorf("flash %q", got)
	}
	tab.CheckClean()
}

// describeAudit spells out audit entries for a failure message.
func describeAudit(entries []*hub.AuditEntry, err error) string {
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, e := range entries {
		parts = append(parts, fmt.Sprintf("%s by %q on %q", e.Action, e.Actor, e.CustomerID))
	}
	return fmt.Sprintf("%d entries: %s", len(entries), strings.Join(parts, "; "))
}
