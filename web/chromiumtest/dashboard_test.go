package chromiumtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// badgeColors are the text colours of the status badges (app.css).
var badgeColors = map[string]string{
	"OK":       "rgb(30, 138, 60)",
	"WARN":     "rgb(138, 97, 0)",
	"DOWN":     "rgb(180, 35, 24)",
	"DISABLED": "rgb(93, 104, 117)",
	"PENDING":  "rgb(93, 104, 117)",
}

func TestLoginShowsFleetWithBadgeColours(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Do(chromedp.Navigate(h.URL + "/"))
	tab.Do(chromedp.WaitVisible(chromedp.CSS("#password")))
	if path := Eval[string](tab, "location.pathname"); path != "/login" {
		t.Fatalf("not sent to the login page: %s", path)
	}
	tab.CheckClean()
	tab.Screenshot("login")

	// A wrong password first.
	tab.Do(
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	)
	if got := tab.Text("#login-error"); got != "Wrong name, password or code." {
		t.Errorf("login error = %q", got)
	}
	tab.Login(h)
	tab.CheckClean()

	want := map[string]string{
		"kovacs-csalad": "OK", "nagy-kft": "WARN", "szabo-bt": "DOWN",
		"toth-peter": "DISABLED", "horvath-anna": "PENDING", "molnar-iroda": "OK",
	}
	for id, status := range want {
		badge := fmt.Sprintf("#row-%s .badge", id)
		if got := strings.TrimSpace(tab.Text(badge)); got != status {
			t.Errorf("%s: badge %q, want %q", id, got, status)
		}
		color := Eval[string](tab, fmt.Sprintf("getComputedStyle(document.querySelector(%q)).color", badge))
		if color != badgeColors[status] {
			t.Errorf("%s: badge colour %s, want %s (%s)", id, color, badgeColors[status], status)
		}
	}
	if n := tab.Count("#row-kiss-zoltan"); n != 0 {
		t.Error("the blocked customer is on the dashboard")
	}
	if got := tab.Text("#row-kovacs-csalad time"); got != "3 min ago" {
		t.Errorf("last report age = %q", got)
	}
	if got := tab.Text("#hub-version"); got != "v0.8.0" {
		t.Errorf("footer version = %q", got)
	}
	tab.Screenshot("dashboard")

	// The table refreshes in place: a new customer appears after a swap of
	// the fragment the 60-second poll fetches, without a page load.
	h.Config("uj-ugyfel", "Új ügyfél", false)
	tab.Do(chromedp.Evaluate[chromedp.Void](`window.__noReload = true; htmx.ajax('GET', '/fleet', {target: '#fleet', swap: 'outerHTML'})`))
	tab.Do(chromedp.WaitVisible(chromedp.CSS("#row-uj-ugyfel")))
	if !Eval[bool](tab, "window.__noReload === true") {
		t.Error("the refresh reloaded the page")
	}
	if got := Eval[string](tab, `document.querySelector('#fleet').getAttribute('hx-trigger')`); got != "every 60s" {
		t.Errorf("the swapped table lost its poll: hx-trigger %q", got)
	}
	tab.CheckClean()
}

func TestPhoneLayout(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	tab.Login(h)
	// The optional columns fold away and nothing overflows the screen.
	if v := Eval[string](tab, `getComputedStyle(document.querySelector('th.opt')).display`); v != "none" {
		t.Errorf("optional columns shown on a phone: display %s", v)
	}
	tab.CheckFits("the fleet page", 390)
	tab.CheckClean()
	tab.Screenshot("dashboard-phone")

	// The customer page too, with its diff table and code blocks.
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.Click(chromedp.CSS("#show-diff")),
		chromedp.WaitVisible(chromedp.CSS("#diff-table")),
	)
	tab.CheckFits("the customer page", 390)
	tab.CheckClean()
}

func TestBlockHidesCustomerFromDashboard(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Click(chromedp.CSS("#row-kovacs-csalad a")),
		chromedp.WaitVisible(chromedp.CSS("#history svg.chart")),
	)
	tab.CheckClean()

	// The credentials open on click, without JavaScript.
	if Eval[bool](tab, `document.querySelector('#reveal-credentials').open`) {
		t.Error("the credentials are open before a click")
	}
	tab.Do(
		chromedp.Click(chromedp.CSS("#reveal-credentials summary")),
		chromedp.WaitVisible(chromedp.CSS("#api-key")),
	)
	if key := tab.Text("#api-key"); len(key) != 64 {
		t.Errorf("api key %q", key)
	}

	// The history switches period in place.
	tab.Do(chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
	tab.Do(
		chromedp.Click(chromedp.CSS(`#history a[href$="period=7d#history"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history a[aria-current][href$="period=7d#history"]`)),
	)
	if !Eval[bool](tab, "window.__noReload === true") {
		t.Error("the period switch reloaded the page")
	}

	// Block: a confirmation step first.
	tab.Do(
		chromedp.Click(chromedp.CSS("#confirm-block summary")),
		chromedp.WaitVisible(chromedp.CSS("#do-block")),
		chromedp.Click(chromedp.CSS("#do-block")),
		chromedp.WaitVisible(chromedp.CSS("#blocked-banner")),
	)
	if got := tab.Text("#flash"); !strings.Contains(got, "kovacs-csalad is blocked") {
		t.Errorf("flash = %q", got)
	}
	tab.CheckClean()
	tab.Do(
		chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#row-nagy-kft")),
	)
	if n := tab.Count("#row-kovacs-csalad"); n != 0 {
		t.Error("the blocked customer is still on the dashboard")
	}
	// On the customers list it stays, grayed, with a BLOCKED badge.
	tab.Do(
		chromedp.Navigate(h.URL+"/configs"),
		chromedp.WaitVisible(chromedp.CSS("#row-kovacs-csalad")),
	)
	if op := Eval[string](tab, `getComputedStyle(document.querySelector('#row-kovacs-csalad td')).opacity`); op != "0.5" {
		t.Errorf("blocked row opacity %s", op)
	}
	if got := tab.Text("#row-kovacs-csalad .badge"); got != "BLOCKED" {
		t.Errorf("badge %q", got)
	}
	tab.CheckClean()
	tab.Screenshot("customers")
}

func TestConfigFormInBrowser(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/configs/new"),
		chromedp.WaitVisible(chromedp.CSS("#customer_id")),
		chromedp.SendKeys(chromedp.CSS("#customer_id"), "Bad ID"),
		chromedp.SendKeys(chromedp.CSS("#display_name"), "Varga Ügyvédi Iroda"),
		chromedp.SendKeys(chromedp.CSS("#domain"), "varga-iroda.felhom.eu"),
		chromedp.SendKeys(chromedp.CSS("#stale_threshold"), "2h"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#customer_id-error")),
	)
	if v := Eval[string](tab, `document.querySelector('#display_name').value`); v != "Varga Ügyvédi Iroda" {
		t.Errorf("input not kept: %q", v)
	}
	if n := tab.Count("#down_threshold-error"); n != 1 {
		t.Error("no error next to the down threshold")
	}
	tab.CheckClean()

	tab.Do(
		chromedp.Clear(chromedp.CSS("#customer_id")),
		chromedp.SendKeys(chromedp.CSS("#customer_id"), "varga-iroda"),
		chromedp.Clear(chromedp.CSS("#stale_threshold")),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#waiting")),
	)
	if got := tab.Text("h1"); got != "Varga Ügyvédi Iroda" {
		t.Errorf("new customer page h1 = %q", got)
	}
	tab.CheckClean()
	tab.Screenshot("customer-waiting")

	// Edit: a tunnel token and overrides that try to set a key the hub
	// manages. The form comes back with the overrides kept, the token not.
	const token = "eyJhIjoiNDJmZDBhM2UiLCJ0IjoiOWM1YjEifQ"
	const badOverrides = "backup:\n  keep_daily: 14\nhub:\n  api_key: mine\n"
	tab.Do(
		chromedp.Click(chromedp.CSS("#edit-config")),
		chromedp.WaitVisible(chromedp.CSS("#overrides_yaml")),
		chromedp.SendKeys(chromedp.CSS("#cloudflare_tunnel_token"), token),
		chromedp.SendKeys(chromedp.CSS("#overrides_yaml"), badOverrides),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#overrides_yaml-error")),
	)
	if got := tab.Text("#overrides_yaml-error"); !strings.Contains(got, "may not set hub.api_key") {
		t.Errorf("overrides error %q", got)
	}
	if v := Eval[string](tab, `document.querySelector('#overrides_yaml').value`); v != badOverrides {
		t.Errorf("overrides not kept: %q", v)
	}
	if strings.Contains(Eval[string](tab, "document.documentElement.outerHTML"), token) {
		t.Error("the typed token came back into the page")
	}
	if n := tab.Count("#tunnel-token-retype"); n != 1 {
		t.Error("no word that the token must be typed again")
	}
	tab.CheckClean()

	// Fixed, with the token typed again and a legacy UUID in the collapsed
	// section, it saves; the customer page says the token is set.
	if Eval[bool](tab, `document.querySelector('#legacy').open`) {
		t.Error("the legacy section is open before a click")
	}
	tab.Do(
		chromedp.Clear(chromedp.CSS("#overrides_yaml")),
		chromedp.SendKeys(chromedp.CSS("#overrides_yaml"), "backup:\n  keep_daily: 14\n"),
		chromedp.SendKeys(chromedp.CSS("#cloudflare_tunnel_token"), token),
		chromedp.Click(chromedp.CSS("#legacy summary")),
		chromedp.WaitVisible(chromedp.CSS("#legacy_heartbeat_uuid")),
		chromedp.SendKeys(chromedp.CSS("#legacy_heartbeat_uuid"), "8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#tunnel-token .tag-set")),
	)
	if got := tab.Text("#yaml-preview"); !strings.Contains(got, "keep_daily: 14") || !strings.Contains(got, "8b2e6f40") ||
		strings.Contains(got, token) {
		t.Errorf("preview after the edit:\n%s", got)
	}
	tab.CheckClean()

	// Edit again: the stored token is "set" and can be removed; a YAML
	// error shows next to its field.
	tab.Do(
		chromedp.Click(chromedp.CSS("#edit-config")),
		chromedp.WaitVisible(chromedp.CSS("#clear_cloudflare_tunnel_token")),
		chromedp.Clear(chromedp.CSS("#overrides_yaml")),
		chromedp.SendKeys(chromedp.CSS("#overrides_yaml"), "backup:\n  keep_daily: [14\nupdates:\n  channel: beta\n"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#overrides_yaml-error")),
	)
	if got := tab.Text("#overrides_yaml-error"); !strings.Contains(got, "not valid YAML") {
		t.Errorf("overrides error %q", got)
	}
	if got := tab.Text("#legacy-count"); got != "1 set" {
		t.Errorf("legacy summary %q", got)
	}
	tab.CheckClean()
	tab.Screenshot("config-form")
}

// Payloads a hostile controller could put in its report.
const (
	scriptPayload = `<script>alert(1)</script>`
	imgPayload    = `<img src=x onerror=alert(1)>`
)

func TestHostileReportRunsNothing(t *testing.T) {
	h := StartHub(t)
	h.Report("hostile", 0, map[string]any{
		"controller_version": imgPayload,
		"controller_url":     "javascript:alert(1)",
		"system": map[string]any{"hostname": scriptPayload, "os": imgPayload, "cpu_percent": 3,
			"mem_total_bytes": 100, "mem_used_bytes": 10},
		"containers": []map[string]any{{"name": scriptPayload, "app": imgPayload, "image": `"><svg onload=alert(1)>`,
			"state": "running", "health": imgPayload}},
		"checks": []map[string]any{{"name": imgPayload, "status": "warn", "message": scriptPayload}},
	})
	tab := NewTab(t)
	tab.Login(h)
	for _, path := range []string{"/", "/configs", "/customers/hostile"} {
		tab.Do(
			chromedp.Navigate(h.URL+path),
			chromedp.WaitVisible(chromedp.CSS("#hub-version")),
		)
		tab.CheckClean()
		if n := tab.Count("img"); n != 0 {
			t.Errorf("%s: %d <img> elements injected", path, n)
		}
		if n := tab.Count("svg[onload], [onerror], [onclick], [onmouseover]"); n != 0 {
			t.Errorf("%s: %d elements with event handlers", path, n)
		}
		if n := Eval[int](tab, "document.scripts.length"); n != 1 {
			t.Errorf("%s: %d scripts, want only htmx", path, n)
		}
	}
	if got := tab.Text("#hostname"); got != scriptPayload {
		t.Errorf("hostname shows %q, want the text %q", got, scriptPayload)
	}
	if got := tab.Text("#checks td:nth-child(1)"); got != imgPayload {
		t.Errorf("check name shows %q", got)
	}
	if n := tab.Count(`a[href^="javascript"]`); n != 0 {
		t.Error("a javascript: link was rendered")
	}
	if n := tab.dialogs.Load(); n != 0 {
		t.Errorf("%d alert dialogs fired", n)
	}
}

func TestCrossSiteFormPostIsRefused(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	// The attacker's page lives on another site: "localhost" is not the
	// hub's 127.0.0.1.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/customers/kovacs-csalad/block">
<button id="prize" type="submit">Claim your prize</button></form>`, h.URL)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(evilURL),
		chromedp.WaitVisible(chromedp.CSS("#prize")),
		chromedp.Click(chromedp.CSS("#prize")),
		chromedp.WaitVisible(chromedp.CSS("#error-message")),
	)
	if got := tab.Text("h1"); got != "Cross-origin request refused" {
		t.Errorf("heading = %q", got)
	}
	c, err := h.DB.FindCustomerByID(context.Background(), "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if c.Blocked {
		t.Fatal("the cross-site post blocked the customer")
	}
	// The same form on the hub's own page works.
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.Click(chromedp.CSS("#confirm-block summary")),
		chromedp.Click(chromedp.CSS("#do-block")),
		chromedp.WaitVisible(chromedp.CSS("#blocked-banner")),
	)
}

func TestLogout(t *testing.T) {
	h := StartHub(t)
	tab := NewTab(t)
	tab.Login(h)
	// Logging out asks first, on a page of its own (no script needed).
	tab.Do(
		chromedp.Click(chromedp.CSS(`#logout`)),
		chromedp.WaitVisible(chromedp.CSS("#logout-confirm")),
		chromedp.Click(chromedp.CSS(`#logout-confirm`)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	if got := tab.Text("#flash"); got != "You are logged out." {
		t.Errorf("flash = %q", got)
	}
	tab.Do(
		chromedp.Navigate(h.URL+"/configs"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	tab.CheckClean()
}
