package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// Payloads a hostile or broken controller could send.
const (
	scriptPayload = `<script>alert(1)</script>`
	imgPayload    = `<img src=x onerror=alert(1)>`
)

// HostileReport stores a report whose every free-text field carries markup.
func (h *Harness) HostileReport(id string) {
	h.t.Helper()
	h.Report(id, h.Clock.Now(), map[string]any{
		"controller_version": imgPayload,
		"controller_url":     "javascript:alert(1)//" + scriptPayload,
		"system": map[string]any{"hostname": scriptPayload, "os": imgPayload, "cpu_percent": 3,
			"mem_total_bytes": 100, "mem_used_bytes": 10},
		"storage": []map[string]any{{"mount": scriptPayload, "label": imgPayload, "role": `" onmouseover="alert(1)`,
			"total_bytes": 100, "used_bytes": 50}},
		"containers": []map[string]any{{"name": scriptPayload, "app": imgPayload, "image": `'><svg onload=alert(1)>`,
			"state": imgPayload, "health": scriptPayload}},
		"backups": map[string]any{"last_backup_status": scriptPayload, "last_dbdump_status": `x" onclick="alert(1)`},
		"checks":  []map[string]any{{"name": imgPayload, "status": `ok" onmouseover="alert(1)`, "message": scriptPayload}},
	})
}

func TestHostileReportRendersEscaped(t *testing.T) {
	h := MustHarness(t, nil)
	h.HostileReport("hostile")
	h.Config("hostile-managed", `<script>alert("name")</script>`, nil)
	h.HostileReport("hostile-managed")
	c := h.LoggedInClient()
	for _, path := range []string{"/", "/fleet", "/configs", "/customers/hostile", "/customers/hostile-managed",
		"/configs/hostile-managed/edit"} {
		resp := c.Get(path)
		expectStatus(t, resp, http.StatusOK)
		body := resp.Body
		for _, raw := range []string{scriptPayload, imgPayload, `<script>alert("name")</script>`, `<svg onload`,
			`" onmouseover="`, `" onclick="`, `href="javascript:`} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: unescaped %q", path, raw)
			}
		}
		// Every <script> on the page is the hub's own.
		want := 1 // htmx
		if path == "/fleet" {
			want = 0 // a fragment
		}
		if n := strings.Count(body, "<script"); n != want {
			t.Errorf("%s: %d script tags, want %d", path, n, want)
		}
		if strings.Contains(body, "<img") {
			t.Errorf("%s: an <img> element was injected", path)
		}
	}
	page := c.Get("/customers/hostile").Body
	expectContains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")
	// A javascript: controller URL is shown as text, never as a link.
	expectNotContains(t, page, `<a href="javascript`)
	expectContains(t, page, `<dd class="mono">javascript:alert(1)//&lt;script&gt;`)
	managed := c.Get("/customers/hostile-managed").Body
	expectContains(t, managed, "<h1>&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;</h1>")
}

func TestStatusBadgeNeverFromControllerText(t *testing.T) {
	// The badge class comes from the hub's own status, not from anything
	// the controller sent: a made-up health is read as warn at ingest.
	r, err := hub.ParseReport([]byte(`{"customer_id":"x1","health":"ok\" onclick=\"x"}`), time.Now())
	if err != nil || r.Health != hub.HealthWarn || len(r.Problems) != 1 {
		t.Fatalf("a made-up health value was read as %q (%v, %v)", r.Health, r.Problems, err)
	}
}
