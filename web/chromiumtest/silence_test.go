package chromiumtest

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An operator silences a customer from its page for 4 h, sees it marked
// on the fleet and listed as active, and ends it from the Silences page.
func TestCreateAndEndSilence(t *testing.T) {
	h := StartHub(t)
	h.SeedFleet()
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.WaitVisible(chromedp.CSS("#alerting")),
		chromedp.Click(chromedp.CSS("#silence-open")),
		chromedp.WaitVisible(chromedp.CSS(`#alerting input[name="reason"]`)),
		chromedp.Click(chromedp.CSS(`#alerting input[name="for"][value="4h"]`)),
		chromedp.SendKeys(chromedp.CSS(`#alerting input[name="reason"]`), "disk swap <b>tonight</b>"),
		chromedp.Click(chromedp.CSS(`#alerting button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
	)
	if got := tab.Text("#flash"); !strings.Contains(got, "Silence #1 mutes customer kovacs-csalad") {
		t.Fatalf("flash %q", got)
	}
	if got := tab.Text("#alerting ul.silences"); !strings.Contains(got, "disk swap <b>tonight</b>") || !strings.Contains(got, "active") {
		t.Errorf("customer page's silences: %q", got)
	}
	tab.CheckClean()

	tab.Do(
		chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#silenced-kovacs-csalad")),
	)
	tab.Do(
		chromedp.Navigate(h.URL+"/silences"),
		chromedp.WaitVisible(chromedp.CSS("#silences-active #silence-1")),
		chromedp.Click(chromedp.CSS("#end-1")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
		chromedp.WaitVisible(chromedp.CSS("#silences-expired #silence-1")),
	)
	if n := tab.Count("#silences-active #silence-1"); n != 0 {
		t.Errorf("the ended silence is still active")
	}
	if got := tab.Text("#silences-expired #silence-1"); !strings.Contains(got, "ended by") {
		t.Errorf("expired row %q", got)
	}
	tab.CheckClean()
	tab.Do(
		chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#row-kovacs-csalad")),
	)
	if n := tab.Count("#silenced-kovacs-csalad"); n != 0 {
		t.Error("the fleet still marks kovacs-csalad silenced")
	}
	tab.Do(chromedp.Navigate(h.URL+"/alerts"), chromedp.WaitVisible(chromedp.CSS("h1")))
	tab.CheckClean()
}
