package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/web"
)

// fixedTemplates reports a fixed template status.
type fixedTemplates configgen.TemplateStatus

func (f fixedTemplates) Status() configgen.TemplateStatus { return configgen.TemplateStatus(f) }

const templateSHA = "81ed8c0a5f90771a949b669a8e3ea2ba2282805d9cc11c46c8ddf131e5e3cac0"

func TestTemplateStatusOnEveryPage(t *testing.T) {
	fetchedAt := time.Date(2026, 6, 8, 8, 0, 0, 0, time.UTC)
	url := "https://gitea.dooplex.hu/admin/felhom-controller/raw/branch/main/controller.yaml.example"
	for _, tt := range []struct {
		name       string
		production bool
		status     configgen.TemplateStatus
		banner     bool
		footer     []string
	}{
		{
			name: "production serving the built-in template", production: true,
			status: configgen.TemplateStatus{Source: configgen.SourceBuiltIn, SHA256: templateSHA, URL: url},
			banner: true,
			footer: []string{"<strong>built-in</strong>", "sha256 <code title=\"" + templateSHA + "\">81ed8c0a5f90</code>", "fetching from <code>" + url + "</code>"},
		},
		{
			name: "production after a failed fetch", production: true,
			status: configgen.TemplateStatus{Source: configgen.SourceBuiltIn, SHA256: templateSHA, URL: url,
				LastCheck: fetchedAt, LastError: "fetch template: HTTP 404", NextCheck: fetchedAt.Add(time.Hour)},
			banner: true,
			footer: []string{"last fetch failed 2026-06-08 08:00 UTC: fetch template: HTTP 404; retry 2026-06-08 09:00 UTC"},
		},
		{
			name: "a laptop hub serving the built-in template", production: false,
			status: configgen.TemplateStatus{Source: configgen.SourceBuiltIn, SHA256: templateSHA},
			footer: []string{"<strong>built-in</strong>"},
		},
		{
			name: "production serving a fetched template", production: true,
			status: configgen.TemplateStatus{Source: configgen.SourceFetched, SourceURL: url, FetchedAt: fetchedAt, SHA256: templateSHA, URL: url},
			footer: []string{"<strong>fetched</strong> from <code>" + url + "</code>, fetched 2026-06-08 08:00 UTC"},
		},
		{
			name: "production serving the stored copy while the host fails", production: true,
			status: configgen.TemplateStatus{Source: configgen.SourceStored, SourceURL: url, FetchedAt: fetchedAt, SHA256: templateSHA, URL: url,
				LastCheck: fetchedAt, LastError: "fetch template: HTTP 500", NextCheck: fetchedAt.Add(time.Hour)},
			footer: []string{"<strong>stored</strong>", "last fetch failed", "HTTP 500"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := MustHarness(t, func(s *web.Server) {
				s.Templates, s.Production = fixedTemplates(tt.status), tt.production
			})
			h.SeedFleet()
			c := h.LoggedInClient()
			for _, path := range []string{"/", "/configs", "/customers/ok-node", "/configs/new", "/nowhere"} {
				body := c.Get(path).Body
				expectContains(t, body, `id="template-status"`)
				expectContains(t, body, tt.footer...)
				if got := strings.Contains(body, `id="template-banner"`); got != tt.banner {
					t.Errorf("%s: banner shown %v, want %v", path, got, tt.banner)
				}
			}
			// Not before login: the template's URL is the operator's business.
			expectNotContains(t, h.Client().Get("/login").Body, `id="template-status"`, `id="template-banner"`, "gitea.dooplex.hu")
		})
	}
}

// The error text comes from the outside (a template host): it is escaped.
func TestTemplateStatusEscaped(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) {
		s.Templates = fixedTemplates{Source: configgen.SourceBuiltIn, SHA256: templateSHA,
			LastError: `fetched template rejected: <script>alert(1)</script>`, LastCheck: time.Unix(0, 0), NextCheck: time.Unix(3600, 0)}
		s.Production = true
	})
	body := h.LoggedInClient().Get("/").Body
	expectNotContains(t, body, "<script>alert(1)</script>")
	expectContains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
}

// Without a template source the pages show no template line.
func TestTemplateStatusUnset(t *testing.T) {
	h := MustHarness(t, nil)
	expectNotContains(t, h.LoggedInClient().Get("/").Body, `id="template-status"`, `id="template-banner"`)
}
