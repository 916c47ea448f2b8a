package chromiumtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The fleet and the customer page say why and since when, at desktop and
// phone sizes; a silent node's figures are greyed with their age.
func TestWhyAndSinceWhen(t *testing.T) {
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		t.Run(size.name, func(t *testing.T) {
			h := StartHub(t)
			h.SeedFleet()
			tab := NewTab(t)
			if size.mobile {
				tab.Do(chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
			} else {
				tab.Do(chromedp.EmulateViewport(size.width, size.height))
			}
			tab.Login(h)
			// szabo-bt last reported 75 min ago, saying health ok.
			reason := strings.TrimSpace(tab.Text("#reason-szabo-bt"))
			if want := "DOWN 1 h 15 m — silent since "; !strings.HasPrefix(reason, want) {
				t.Errorf("szabo-bt's reason %q, want %q…", reason, want)
			}
			if !strings.HasPrefix(strings.TrimSpace(tab.Text("#reason-nagy-kft")), "WARN — 2 checks warn: disk_space (91 %), containers") {
				t.Errorf("nagy-kft's reason %q", tab.Text("#reason-nagy-kft"))
			}
			if n := tab.Count("#row-kovacs-csalad .reason"); n != 0 {
				t.Error("an OK row carries a reason")
			}
			tab.CheckFits("the fleet page", int(size.width))
			if !size.mobile {
				stale := Eval[string](tab, `getComputedStyle(document.querySelector('#row-szabo-bt td.stale')).fontStyle`)
				if stale != "italic" {
					t.Errorf("a silent node's metrics are not greyed: font-style %s", stale)
				}
				if got := tab.Text("#row-szabo-bt td.stale .stale-age"); got != "1 h 15 m old" {
					t.Errorf("stale age %q", got)
				}
			}
			tab.CheckClean()
			suffix := ""
			if size.mobile {
				suffix = "-phone"
			}
			tab.Screenshot("dashboard-reasons" + suffix)

			// The stale DOWN customer: the reason first, then the banner
			// explaining "health ok" against DOWN, the figures greyed.
			tab.Do(chromedp.Navigate(h.URL+"/customers/szabo-bt"), chromedp.WaitVisible(chromedp.CSS("#health-ok-banner")))
			if got := tab.Text("#status-reason"); !strings.Contains(got, "DOWN 1 h 15 m — silent since") {
				t.Errorf("status line %q", got)
			}
			if got := tab.Text("#system-stale"); got != "1 h 15 m old: the node is silent" {
				t.Errorf("system stale note %q", got)
			}
			tab.CheckFits("the customer page", int(size.width))
			tab.CheckClean()
			tab.Screenshot("customer-stale-down" + suffix)
		})
	}
}

// On a phone the chart's ticks are legible, tapping it shows a value, every
// table fits or scrolls inside its card, and the page reads status first.
func TestCustomerPageOnPhone(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	tab.Login(h)
	tab.Do(chromedp.Navigate(h.URL+"/customers/kovacs-csalad"), chromedp.WaitVisible(chromedp.CSS("#history svg.chart")))
	tab.CheckFits("the customer page", 390)
	// Rendered tick labels at least 10 px tall.
	minTick := Eval[float64](tab, `Math.min(...[...document.querySelectorAll('#history .tick')].map(e => e.getBoundingClientRect().height))`)
	if minTick < 10 {
		t.Errorf("chart ticks are %.1f px tall on a phone, want ≥ 10", minTick)
	}
	// Nothing of a tick is cut off at the chart's left edge.
	if left := Eval[float64](tab, `Math.min(...[...document.querySelectorAll('#history .ytick')].map(e => e.getBoundingClientRect().left - document.querySelector('#history svg').getBoundingClientRect().left))`); left < 0 {
		t.Errorf("a y tick starts %.1f px left of the chart", left)
	}
	// Tap for a value.
	if v := Eval[string](tab, `getComputedStyle(document.querySelector('#history .pt:last-of-type text')).visibility`); v != "hidden" {
		t.Errorf("a point's value shows before a tap: %s", v)
	}
	tab.Do(chromedp.Click(chromedp.CSS(`#history .pt:last-of-type rect`)))
	if v := Eval[string](tab, `getComputedStyle(document.querySelector('#history .pt:last-of-type text')).visibility`); v != "visible" {
		t.Errorf("a tap shows no value: %s", v)
	}
	if got := tab.Text(`#history .pt:last-of-type text`); !strings.Contains(got, "CPU") || !strings.Contains(got, "%") {
		t.Errorf("tapped value %q", got)
	}
	// Every table fits its card or scrolls inside it.
	overflow := Eval[int](tab, `[...document.querySelectorAll('main table')].filter(t => {
		const wrap = t.closest('.table-wrap'); const r = t.getBoundingClientRect();
		return !wrap && r.right > innerWidth + 1 }).length`)
	if overflow != 0 {
		t.Errorf("%d tables overflow the screen outside a scrolling card", overflow)
	}
	// Status first, then problems and events, then metrics, configuration last.
	order := Eval[[]string](tab, `[...document.querySelectorAll('#status-area, #customer-grid > section')].map(e => e.id)`)
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for _, pair := range [][2]string{{"status-area", "checks"}, {"checks", "events"}, {"events", "system"}, {"system", "history"}, {"history", "config"}, {"config", "yaml"}} {
		if pos[pair[0]] >= pos[pair[1]] {
			t.Errorf("%s comes after %s: %v", pair[0], pair[1], order)
		}
	}
	tab.CheckClean()
	tab.Screenshot("customer-phone")
}

// The fleet table is usable at 800 px: nothing off the page, the reason
// beside the status.
func TestFleetAt800(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Do(chromedp.EmulateViewport(800, 900))
	tab.Login(h)
	if w := Eval[int](tab, "document.documentElement.scrollWidth"); w > 800 {
		t.Errorf("the fleet page is %d px wide at 800 px", w)
	}
	if right := Eval[float64](tab, `document.querySelector('table.fleet').getBoundingClientRect().right`); right > 800 {
		t.Errorf("the fleet table ends at %.0f px, off an 800 px window", right)
	}
	if !Eval[bool](tab, `!!document.querySelector('#reason-szabo-bt') && document.querySelector('#reason-szabo-bt').getBoundingClientRect().width > 0`) {
		t.Error("the reason is not visible at 800 px")
	}
	tab.CheckClean()
}

// The chart period and the events filter are links whose state survives a
// reload; the live parts refresh in place.
func TestCustomerStateInURLAndRefresh(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.Click(chromedp.CSS(`#history a[href*="period=7d"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history a[aria-current][href*="period=7d"]`)),
		chromedp.Click(chromedp.CSS(`#events a[href*="severity=error"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#events a[aria-current][href*="severity=error"]`)),
	)
	if got := Eval[string](tab, "location.search"); got != "?period=7d&severity=error" {
		t.Errorf("the address holds %q, want both choices", got)
	}
	tab.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#events")))
	if n := tab.Count(`#history a[aria-current][href*="period=7d"]`); n != 1 {
		t.Error("the period did not survive a reload")
	}
	if n := tab.Count(`#events a[aria-current][href*="severity=error"]`); n != 1 {
		t.Error("the severity filter did not survive a reload")
	}
	// The status line's poll asks for the same state and swaps the live
	// sections in place: a new event appears without a page load.
	if got := Eval[string](tab, `document.querySelector('#status-area').getAttribute('hx-get')`); got != "/customers/kovacs-csalad?period=7d&severity=error" {
		t.Errorf("the refresh asks for %q", got)
	}
	h.Event("kovacs-csalad", "backup_failed", "error", "fresh failure seen by the refresh", time.Minute)
	tab.Do(chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
	tab.Do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`htmx.ajax('GET', %q, {source: '#status-area', target: '#status-area', swap: 'outerHTML', select: '#status-area'})`,
		"/customers/kovacs-csalad?period=7d&severity=error")))
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`#events`)))
	if _, err := chromedp.Run(tab.ctx, chromedp.Poll[bool](`document.querySelector('#events').textContent.includes('fresh failure seen by the refresh')`)); err != nil {
		t.Fatalf("the refresh did not bring the new event: %v", err)
	}
	if !Eval[bool](tab, "window.__noReload === true") {
		t.Error("the refresh reloaded the page")
	}
	tab.CheckClean()
}

// A long unbroken string from a controller wraps in its cell instead of
// pushing the table off the page.
func TestLongStringsWrap(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	long := strings.Repeat("x", 400)
	h.Report("hosszu-nev", time.Minute, map[string]any{"controller_version": "v" + long,
		"checks": []map[string]any{{"name": long, "status": "fail", "message": long}}, "health": "fail"})
	h.Event("hosszu-nev", "backup_failed", "error", long, time.Minute)
	tab := NewTab(t)
	tab.Do(chromedp.EmulateViewport(1280, 900))
	tab.Login(h)
	for _, path := range []string{"/", "/customers/hosszu-nev"} {
		tab.Do(chromedp.Navigate(h.URL+path), chromedp.WaitVisible(chromedp.CSS("#hub-version")))
		if w := Eval[int](tab, "document.documentElement.scrollWidth"); w > 1280 {
			t.Errorf("%s is %d px wide at 1280 px", path, w)
		}
		wide := Eval[int](tab, `[...document.querySelectorAll('main .table-wrap')].filter(w => w.scrollWidth > w.clientWidth + 1).length`)
		if wide != 0 {
			t.Errorf("%s: %d tables scroll sideways at 1280 px", path, wide)
		}
	}
	tab.CheckClean()
}
