package chromiumtest

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// The checks the other tests rely on must be able to fail: these controls
// show that a CSP violation and an alert are caught.
func TestControlsCatchViolationsAndDialogs(t *testing.T) {
	h := StartHub(t)
	tab := NewTab(t)
	tab.Do(
		chromedp.Navigate(h.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		// An inline style is what the CSP forbids.
		chromedp.Evaluate[chromedp.Void](`var s = document.createElement('style'); s.textContent = 'body { color: red }'; document.head.appendChild(s)`),
	)
	if _, err := chromedp.Run(tab.ctx, chromedp.Poll[bool](`window.__csp.length > 0`)); err != nil {
		t.Fatalf("an inline style raised no CSP violation: %v", err)
	}
	if color := Eval[string](tab, "getComputedStyle(document.body).color"); color == "rgb(255, 0, 0)" {
		t.Error("the CSP did not block the inline style")
	}
	tab.Do(chromedp.Evaluate[chromedp.Void](`alert('control')`))
	if n := tab.dialogs.Load(); n != 1 {
		t.Errorf("dialogs counted: %d, want 1", n)
	}
}
