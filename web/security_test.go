package web_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/felhom/hub/web"
)

func httptestRequest(method, path string, form url.Values) *http.Request {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, "http://hub.test"+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, "http://hub.test"+path, nil)
	}
	req.RemoteAddr = "192.0.2.10:51234"
	return req
}

func serve(h *Harness, req *http.Request) *Response {
	rec := httptest.NewRecorder()
	h.Handler.ServeHTTP(rec, req)
	resp := rec.Result()
	return &Response{Response: resp, Body: rec.Body.String()}
}

func tlsState() *tls.ConnectionState { return &tls.ConnectionState{} }

func itoa(n int) string { return strconv.Itoa(n) }

func TestCrossSitePostsAreRefused(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.TrustedOrigins = []string{"https://ops.felhom.eu"} })
	h.SeedFleet()
	c := h.LoggedInClient()
	refused := []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"same-site"}},
		{"Origin": {"https://evil.example"}},
		{"Origin": {"http://hub.test.evil.example"}},
	}
	for _, hdr := range refused {
		for _, path := range []string{"/customers/ok-node/block", "/customers/ok-node/delete", "/logout", "/login", "/configs"} {
			resp := c.Do("POST", path, url.Values{"password": {testPassword}}, hdr)
			expectStatus(t, resp, http.StatusForbidden)
			expectContains(t, resp.Body, "Cross-origin request refused")
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Error("the refusal page lacks the CSP")
			}
		}
	}
	cust, err := h.DB.FindCustomerByID(t.Context(), "ok-node")
	if err != nil || cust.Blocked || !cust.Managed {
		t.Fatalf("a refused post changed the customer: %+v %v", cust, err)
	}
	if !strings.Contains(h.Logs.String(), "cross-origin request refused") {
		t.Error("the refusal was not logged")
	}

	allowed := []http.Header{
		{"Sec-Fetch-Site": {"same-origin"}},
		{"Origin": {"http://hub.test"}},
		{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://ops.felhom.eu"}}, // server.trusted_origins
		{}, // no browser headers: not a browser, no ambient credentials to abuse
	}
	for _, hdr := range allowed {
		resp := c.Do("POST", "/customers/ok-node/unblock", url.Values{}, hdr)
		expectStatus(t, resp, http.StatusSeeOther)
	}
	// GETs are never refused: they change nothing.
	expectStatus(t, c.Do("GET", "/", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}}), http.StatusOK)
}

func TestPublicURLIsATrustedOrigin(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.PublicURL = "https://hub.felhom.eu/" })
	c := h.LoggedInClient()
	resp := c.Do("POST", "/logout", url.Values{}, http.Header{"Origin": {"https://hub.felhom.eu"}, "Sec-Fetch-Site": {"same-site"}})
	expectStatus(t, resp, http.StatusSeeOther)
}

func TestBadTrustedOrigin(t *testing.T) {
	srv := &web.Server{}
	*srv = *MustHarness(t, nil).Server
	srv.TrustedOrigins = []string{"not a url"}
	if _, err := srv.Handler(); err == nil {
		t.Error("a bad trusted origin was accepted")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.LoggedInClient()
	for _, resp := range []*Response{
		c.Get("/"), c.Get("/customers/ok-node"), c.Get("/nowhere"), c.Get("/static/app.css"),
		h.Client().Get("/login"), h.Client().Get("/"),
		c.Do("POST", "/logout", url.Values{}, http.Header{"Sec-Fetch-Site": {"cross-site"}}),
	} {
		hdr := resp.Header
		csp := hdr.Get("Content-Security-Policy")
		for _, directive := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, directive) {
				t.Errorf("%s: CSP %q lacks %q", resp.Request.URL.Path, csp, directive)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("CSP allows unsafe sources: %q", csp)
		}
		for name, want := range map[string]string{
			"X-Frame-Options":        "DENY",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
		} {
			if got := hdr.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", resp.Request.URL.Path, name, got, want)
			}
		}
	}
}

func TestStaticAssets(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.Client()
	page := c.Get("/login").Body
	start := strings.Index(page, `/static/app.css?v=`)
	if start < 0 {
		t.Fatal("no versioned stylesheet link")
	}
	link := page[start : start+strings.Index(page[start:], `"`)]
	resp := c.Get(link)
	expectStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned asset Cache-Control = %q", cc)
	}
	if cc := c.Get("/static/app.css").Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("unversioned asset Cache-Control = %q", cc)
	}
	js := c.Get("/static/vendor/htmx-2.0.11.min.js")
	expectStatus(t, js, http.StatusOK)
	if ct := js.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("htmx Content-Type = %q", ct)
	}
	for _, missing := range []string{"/static/nope.css", "/static/vendor/htmx-2.0.11.LICENSE", "/static/../server.go"} {
		if resp := c.Get(missing); resp.StatusCode == http.StatusOK {
			t.Errorf("%s: %d", missing, resp.StatusCode)
		}
	}
}
