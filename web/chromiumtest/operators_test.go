package chromiumtest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	hub "github.com/felhom/hub"
)

// loginAs logs the tab in with a name, the test password and a code.
func (tab *Tab) loginAs(h *Hub, name, code string) {
	tab.t.Helper()
	tab.Do(
		chromedp.Navigate(h.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#username"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
	)
	if code != "" {
		tab.Do(chromedp.SendKeys(chromedp.CSS("#code"), code))
	}
	tab.Do(
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		chromedp.WaitVisible(chromedp.CSS("#fleet")),
	)
}

// TestTOTPEnrolmentAndLoginWithCode sets up two-factor login in the
// browser (the QR code is drawn by the hub, inline, under the CSP), then
// logs in with a code.
func TestTOTPEnrolmentAndLoginWithCode(t *testing.T) {
	h := StartHub(t)
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/account"),
		chromedp.Click(chromedp.CSS("#totp-start")),
		chromedp.WaitVisible(chromedp.CSS("#totp-qr")),
	)
	tab.CheckClean()
	tab.Screenshot("totp-enrolment")
	secret, err := hub.ParseTOTPSecretText(tab.Text("#totp-secret"))
	if err != nil {
		t.Fatal(err)
	}
	tab.Do(
		chromedp.SendKeys(chromedp.CSS("#totp-code"), hub.TOTPCode(secret, hub.TOTPStepAt(h.Clock.Now()))),
		chromedp.Click(chromedp.CSS("#totp-confirm")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
	)
	if n := tab.Count("#recovery-codes li"); n != hub.RecoveryCodeCount {
		t.Errorf("%d recovery codes shown, want %d", n, hub.RecoveryCodeCount)
	}
	// A new browser: the password alone asks for the code.
	other := NewTab(t)
	other.Do(
		chromedp.Navigate(h.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	)
	if got := other.Text("#login-error"); !strings.Contains(got, "code") {
		t.Errorf("password alone: %q", got)
	}
	h.Clock.Set(h.Clock.Now().Add(time.Minute)) // the enrolment's code is spent
	other.loginAs(h, "admin", hub.TOTPCode(secret, hub.TOTPStepAt(h.Clock.Now())))
	other.CheckClean()
}

// TestViewerCannotSeeSecrets: a viewer reads the customer page without
// credentials and without action controls.
func TestViewerCannotSeeSecrets(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	if err := h.DB.CreateOperator(t.Context(), &hub.Operator{Name: "vera", PasswordHash: passwordHash, Role: hub.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	cfg, err := h.DB.FindCustomerConfig(t.Context(), "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	tab := NewTab(t)
	tab.loginAs(h, "vera", "")
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.WaitVisible(chromedp.CSS("#config")),
	)
	tab.CheckClean()
	html := Eval[string](tab, "document.documentElement.outerHTML")
	for what, secret := range map[string]string{"API key": cfg.APIKey, "retrieval password": cfg.RetrievalPassword} {
		if strings.Contains(html, secret) {
			t.Errorf("the viewer's page holds the %s", what)
		}
	}
	for _, control := range []string{"#credentials", "#actions", "#edit-config", "#do-push", "#nav-users"} {
		if tab.Count(control) != 0 {
			t.Errorf("the viewer sees %s", control)
		}
	}
	if got := tab.Text("header .tag"); got != "viewer" {
		t.Errorf("header role tag %q", got)
	}
}
