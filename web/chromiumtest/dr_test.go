package chromiumtest

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	hub "github.com/felhom/hub"
	"github.com/felhom/hub/dr"
	"github.com/felhom/hub/store"
	"github.com/felhom/hub/web"
)

// withDR plugs the disaster-recovery page in, as cmd/hub does.
func withDR(s *web.Server, db *store.DB) {
	s.DR = web.DRPlug{Readiness: db, Backups: db, Retrievals: db,
		Links: &dr.Links{Customers: db, Access: db, Audit: db, Now: s.Now}}
}

// The DR page lists the fleet worst first with reasons and bundle age; the
// customer page's DR section mints a single-use link that works once.
func TestDRPage(t *testing.T) {
	h := StartHub(t, withDR)
	ctx := context.Background()
	now := h.Clock.Now()
	day := now.Add(-24 * time.Hour)
	for _, c := range []struct {
		id, name, grade string
		bundleAt        *time.Time
		reasons         []hub.DRReason
	}{
		{"alma-bt", "Alma Bt.", hub.DRReady, &now, nil},
		{"kovacs-csalad", "Kovács család", hub.DRAtRisk, &day, []hub.DRReason{{Code: hub.DRDiskNotInBundle, Message: "the node reports data disks the bundle lacks: <b>sdz</b>"}}},
		{"szabo-kft", "Szabó Kft.", hub.DRNotRecoverable, nil, []hub.DRReason{{Code: hub.DRNoBundle, Message: "the hub holds no recovery bundle"}}},
	} {
		h.Config(c.id, c.name, false)
		r := &hub.DRReadiness{CustomerID: c.id, Grade: c.grade, BundleAt: c.bundleAt, Reasons: c.reasons, CheckedAt: now}
		if r.Reasons == nil {
			r.Reasons = []hub.DRReason{}
		}
		if _, err := h.DB.SaveDRReadiness(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tab := NewTab(t)
	tab.Login(h)
	tab.Do(
		chromedp.Navigate(h.URL+"/"),
		chromedp.Click(chromedp.CSS("#nav-dr")),
		chromedp.WaitVisible(chromedp.CSS("#dr-fleet")),
	)
	grades := Eval[[]string](tab, `Array.from(document.querySelectorAll('#dr-fleet tbody tr')).map(r => r.dataset.customer + ":" + r.dataset.grade)`)
	want := []string{"szabo-kft:not_recoverable", "kovacs-csalad:at_risk", "alma-bt:ready"}
	if !slices.Equal(grades, want) {
		t.Errorf("rows %v, want %v (worst first)", grades, want)
	}
	if got := tab.Text("#dr-counts"); got != "1 not recoverable · 1 at risk · 1 ready" {
		t.Errorf("counts %q", got)
	}
	if got := tab.Text(`tr[data-customer="kovacs-csalad"] td:nth-child(3)`); got != "1d" {
		t.Errorf("bundle age %q", got)
	}
	if got := tab.Text(`tr[data-customer="szabo-kft"] td:nth-child(3)`); got != "no bundle" {
		t.Errorf("no bundle shows %q", got)
	}
	// A reason is text: the markup a node could send is not rendered.
	if n := tab.Count(`tr[data-customer="kovacs-csalad"] td b`); n != 0 {
		t.Error("a reason's markup was rendered")
	}
	if got := tab.Text(`tr[data-customer="kovacs-csalad"] .dr-reasons li`); got != "disk_not_in_bundle: the node reports data disks the bundle lacks: <b>sdz</b>" {
		t.Errorf("reason %q", got)
	}
	if color := Eval[string](tab, `getComputedStyle(document.querySelector('tr[data-customer="szabo-kft"] .dr-grade')).color`); color != "rgb(180, 35, 24)" {
		t.Errorf("not_recoverable is shown in %s", color)
	}
	tab.CheckClean()

	// The customer page's section; a link minted there works once.
	tab.Do(
		chromedp.Click(chromedp.CSS(`tr[data-customer="kovacs-csalad"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#dr")),
	)
	if got := tab.Text("#dr-grade"); got != "at risk" {
		t.Errorf("section grade %q", got)
	}
	tab.Do(
		chromedp.Click(chromedp.CSS("#confirm-recovery-link summary")),
		chromedp.SendKeys(chromedp.CSS("#recovery-link-reason"), "reinstall after disk failure"),
		chromedp.Click(chromedp.CSS("#do-recovery-link")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-link-command")),
	)
	tab.CheckClean()
	link := regexp.MustCompile(`'([^']+)'`).FindStringSubmatch(tab.Text("#recovery-link-command"))
	if link == nil || !regexp.MustCompile(`/api/v1/recovery/kovacs-csalad/link\?token=[0-9a-f]{64}$`).MatchString(link[1]) {
		t.Fatalf("link command %q", tab.Text("#recovery-link-command"))
	}
	for i, want := range []int{http.StatusOK, http.StatusGone} {
		resp, err := http.Get(link[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("use %d of the link: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	// The section lists both retrievals, with the reason.
	tab.Do(
		chromedp.Navigate(h.URL+"/customers/kovacs-csalad"),
		chromedp.WaitVisible(chromedp.CSS("#dr-retrievals")),
	)
	if n := tab.Count("#dr-retrievals tbody tr"); n != 2 {
		t.Errorf("%d retrievals listed, want 2", n)
	}
	if got := tab.Text("#dr-retrievals tbody tr:last-child td:last-child"); got != "reason: reinstall after disk failure" {
		t.Errorf("retrieval detail %q", got)
	}
	tab.CheckClean()
}
