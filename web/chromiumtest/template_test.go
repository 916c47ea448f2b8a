package chromiumtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/store"
	"github.com/felhom/hub/web"
)

// A production hub that could not fetch the controller.yaml template shows
// a warning banner on every page, saying why and where it fetches from;
// once the template host serves the file the banner goes and the footer
// names the fetched template.
func TestTemplateBanner(t *testing.T) {
	var mu sync.Mutex
	serving := false
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := serving
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "customer:\n  id: \"\"\nhub:\n  url: https://hub.felhom.eu\n  api_key: \"\"\n")
	}))
	defer host.Close()

	var templates *configgen.Templates
	h := StartHub(t, func(s *web.Server, db *store.DB) {
		templates = configgen.NewTemplates(db, slog.New(slog.DiscardHandler))
		templates.URL = host.URL + "/admin/felhom-controller/raw/branch/main/controller.yaml.example"
		s.Templates, s.Production = templates, true
	})
	h.SeedFleet()
	ctx := context.Background()
	if err := templates.Refresh(ctx); err == nil {
		t.Fatal("the first fetch succeeded; the host answers 404")
	}

	tab := NewTab(t)
	tab.Login(h)
	for _, path := range []string{"/", "/configs", "/customers/kovacs-csalad"} {
		tab.Do(
			chromedp.Navigate(h.URL+path),
			chromedp.WaitVisible(chromedp.CSS("#template-banner")),
		)
		banner := tab.Text("#template-banner")
		for _, want := range []string{"built-in template", host.URL + "/admin/felhom-controller/raw/branch/main/controller.yaml.example", "HTTP 404"} {
			if !strings.Contains(banner, want) {
				t.Errorf("%s: banner %q lacks %q", path, banner, want)
			}
		}
		if role := Eval[string](tab, `document.querySelector('#template-banner').getAttribute('role')`); role != "alert" {
			t.Errorf("%s: banner role %q", path, role)
		}
		// Visible: laid out with a size, above the page's content.
		if !Eval[bool](tab, `(function(){ const r = document.querySelector('#template-banner').getBoundingClientRect();
			return r.height > 0 && r.width > 0 && r.top < document.querySelector('main').getBoundingClientRect().top; })()`) {
			t.Errorf("%s: the banner is not visible above the content", path)
		}
		if footer := tab.Text("#template-status"); !strings.Contains(footer, "built-in") || !strings.Contains(footer, "last fetch failed") {
			t.Errorf("%s: footer %q", path, footer)
		}
		tab.CheckClean()
	}
	tab.Screenshot("template-banner")

	mu.Lock()
	serving = true
	mu.Unlock()
	if err := templates.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	tab.Do(
		chromedp.Navigate(h.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#template-status")),
	)
	if n := tab.Count("#template-banner"); n != 0 {
		t.Errorf("%d banners after the template was fetched", n)
	}
	if footer := tab.Text("#template-status"); !strings.Contains(footer, "fetched") || strings.Contains(footer, "failed") {
		t.Errorf("footer after the fetch %q", footer)
	}
	tab.CheckClean()
}
