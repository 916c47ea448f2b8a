package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/web"
)

func TestPagesNeedLogin(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	c := h.Client()
	for path, wantLocation := range map[string]string{
		"/":                  "/login",
		"/configs":           "/login?next=%2Fconfigs",
		"/customers/ok-node": "/login?next=%2Fcustomers%2Fok-node",
		"/configs/new":       "/login?next=%2Fconfigs%2Fnew",
	} {
		resp := c.Get(path)
		expectStatus(t, resp, http.StatusSeeOther)
		if got := resp.Header.Get("Location"); got != wantLocation {
			t.Errorf("%s redirects to %q, want %q", path, got, wantLocation)
		}
	}
	// A form post without a session changes nothing; the login page
	// keeps the form to send again after the login.
	resp := c.Post("/customers/ok-node/block", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Body, `name="resume_action" value="/customers/ok-node/block"`) {
		t.Errorf("post without a session: %d, want 401 with the form kept\n%s", resp.StatusCode, excerpt(resp.Body))
	}
	if cust, _ := h.DB.FindCustomerByID(t.Context(), "ok-node"); cust.Blocked {
		t.Error("a post without a session blocked the customer")
	}
	// htmx polling with an expired session loads the login page instead
	// of swapping it into the table.
	resp = c.Do("GET", "/fleet", nil, http.Header{"Hx-Request": {"true"}})
	expectStatus(t, resp, http.StatusUnauthorized)
	if resp.Header.Get("HX-Redirect") != "/login" {
		t.Errorf("HX-Redirect = %q", resp.Header.Get("HX-Redirect"))
	}
	// The login page and the assets need no session.
	expectStatus(t, c.Get("/login"), http.StatusOK)
	expectStatus(t, c.Get("/static/app.css"), http.StatusOK)
}

func TestLoginLogout(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.Client()

	resp := c.Post("/login", url.Values{"password": {"wrong password"}})
	expectStatus(t, resp, http.StatusUnauthorized)
	expectContains(t, resp.Body, "Wrong name, password or code.")
	if c.Cookies["hub_session"] != nil {
		t.Fatal("a wrong password set a session cookie")
	}

	resp = c.Post("/login", url.Values{"password": {testPassword}, "next": {"/configs"}})
	expectStatus(t, resp, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != "/configs" {
		t.Errorf("login redirects to %q, want /configs", got)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "hub_session" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure {
		t.Errorf("cookie flags: %+v", cookie)
	}
	if cookie.MaxAge != 7*24*3600 {
		t.Errorf("cookie MaxAge = %d, want 7 days", cookie.MaxAge)
	}
	if len(cookie.Value) != 43 {
		t.Errorf("token %q is not 32 bytes in base64url", cookie.Value)
	}
	// Only the SHA-256 of the token is stored.
	if _, err := h.DB.FindSessionByTokenHash(t.Context(), hub.HashSecret(cookie.Value)); err != nil {
		t.Errorf("session not stored by its hash: %v", err)
	}
	if _, err := h.DB.FindSessionByTokenHash(t.Context(), cookie.Value); err == nil {
		t.Error("session stored by its plain token")
	}
	if strings.Contains(h.Logs.String(), cookie.Value) || strings.Contains(h.Logs.String(), testPassword) {
		t.Error("the log holds the session token or the password")
	}

	expectStatus(t, c.Get("/"), http.StatusOK)
	// Logged in, /login goes on to the app.
	expectStatus(t, c.Get("/login"), http.StatusSeeOther)

	token := c.Cookies["hub_session"].Value
	resp = c.Post("/logout", nil)
	expectStatus(t, resp, http.StatusSeeOther)
	if c.Cookies["hub_session"] != nil {
		t.Error("logout did not clear the cookie")
	}
	if _, err := h.DB.FindSessionByTokenHash(t.Context(), hub.HashSecret(token)); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("session still stored after logout: %v", err)
	}
	expectContains(t, c.Get("/login").Body, "You are logged out.")
	// The old token is dead even if a copy of the cookie survives.
	c.Cookies["hub_session"] = &http.Cookie{Name: "hub_session", Value: token}
	expectStatus(t, c.Get("/"), http.StatusSeeOther)
}

func TestLoginMintsNewTokenEachTime(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.Client()
	// An attacker plants a token before the operator logs in.
	planted := "planted-token-planted-token-planted-token-x"
	c.Cookies["hub_session"] = &http.Cookie{Name: "hub_session", Value: planted}
	c.MustLogin()
	first := c.Cookies["hub_session"].Value
	if first == planted {
		t.Fatal("login kept the planted token (session fixation)")
	}
	c.MustLogin()
	second := c.Cookies["hub_session"].Value
	if second == first {
		t.Error("a second login reused the token")
	}
	// Logging in again retires the session the browser had.
	if _, err := h.DB.FindSessionByTokenHash(t.Context(), hub.HashSecret(first)); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("the previous session survives a new login: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.SessionTTL = 7 * 24 * time.Hour })
	c := h.LoggedInClient()
	h.Clock.Add(7*24*time.Hour - time.Second)
	expectStatus(t, c.Get("/"), http.StatusOK)
	// Activity slides the session: session_ttl counts from the latest
	// request, not from the login.
	h.Clock.Add(time.Hour)
	expectStatus(t, c.Get("/"), http.StatusOK)
	h.Clock.Add(7*24*time.Hour - time.Second)
	expectStatus(t, c.Get("/"), http.StatusOK)
	// Seven days without a request end it.
	h.Clock.Add(7 * 24 * time.Hour)
	resp := c.Get("/")
	expectStatus(t, resp, http.StatusSeeOther)
	if resp.Header.Get("Location") != "/login" {
		t.Errorf("expired session goes to %q", resp.Header.Get("Location"))
	}
	if c.Cookies["hub_session"] != nil {
		t.Error("the expired session's cookie was not cleared")
	}
	// The next login sweeps the expired session out of the database.
	old := h.Client()
	old.MustLogin()
	if n, _ := h.DB.DeleteExpiredSessions(t.Context(), h.Clock.Now()); n != 0 {
		t.Errorf("%d expired sessions left after a login", n)
	}
}

func TestSecureCookie(t *testing.T) {
	for _, tt := range []struct {
		name      string
		publicURL string
		tls       bool
		want      bool
	}{
		{"plain http", "", false, false},
		{"https public url", "https://hub.felhom.eu", false, true},
		{"http public url", "http://hub.local", false, false},
		{"tls request", "", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := MustHarness(t, func(s *web.Server) { s.PublicURL = tt.publicURL })
			req := httptestRequest("POST", "/login", url.Values{"password": {testPassword}})
			if tt.tls {
				req.TLS = tlsState()
			}
			resp := serve(h, req)
			expectStatus(t, resp, http.StatusSeeOther)
			for _, ck := range resp.Cookies() {
				if ck.Name == "hub_session" && ck.Secure != tt.want {
					t.Errorf("Secure = %v, want %v", ck.Secure, tt.want)
				}
			}
		})
	}
}

func TestLoginNextStaysOnSite(t *testing.T) {
	h := MustHarness(t, nil)
	for next, want := range map[string]string{
		"/customers/x":          "/customers/x",
		"https://evil.example/": "/",
		"//evil.example/":       "/",
		"/\\evil.example":       "/",
		"":                      "/",
		"/login":                "/",
	} {
		h.Clock.Add(time.Minute) // stay clear of the login throttle
		c := h.Client()
		resp := c.Post("/login", url.Values{"password": {testPassword}, "next": {next}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next %q: redirect to %q, want %q", next, got, want)
		}
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.Client()
	for range 5 {
		resp := c.Post("/login", url.Values{"password": {"guess"}})
		expectStatus(t, resp, http.StatusUnauthorized)
	}
	resp := c.Post("/login", url.Values{"password": {testPassword}})
	expectStatus(t, resp, http.StatusTooManyRequests)
	expectContains(t, resp.Body, "Too many failed logins")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if c.Cookies["hub_session"] != nil {
		t.Error("a throttled attempt logged in")
	}
	// Another address is not affected.
	other := h.Client()
	other.Header.Set("X-Forwarded-For", "192.0.2.10") // not trusted: the address is RemoteAddr
	resp = other.Do("POST", "/login", url.Values{"password": {testPassword}}, nil)
	expectStatus(t, resp, http.StatusTooManyRequests)
	req := httptestRequest("POST", "/login", url.Values{"password": {testPassword}})
	req.RemoteAddr = "198.51.100.7:40000"
	expectStatus(t, serve(h, req), http.StatusSeeOther)

	// One attempt comes back every 20 seconds.
	h.Clock.Add(20 * time.Second)
	c.MustLogin()
	if !strings.Contains(h.Logs.String(), "login throttled") {
		t.Error("throttling was not logged")
	}
}

// TestLoginThrottleSparesTheOperator: a guesser spread over many
// addresses does not lock the real operator out (failures count per
// account and address, and per address), and the operator's own
// successful logins never count.
func TestLoginThrottleSparesTheOperator(t *testing.T) {
	h := MustHarness(t, nil)
	for addr := 1; addr <= 10; addr++ {
		for range 4 {
			req := httptestRequest("POST", "/login", url.Values{"password": {"guess"}})
			req.RemoteAddr = "203.0.113." + itoa(addr) + ":1234"
			expectStatus(t, serve(h, req), http.StatusUnauthorized)
		}
	}
	for range 30 {
		req := httptestRequest("POST", "/login", url.Values{"password": {testPassword}})
		req.RemoteAddr = "198.51.100.99:1234"
		expectStatus(t, serve(h, req), http.StatusSeeOther)
	}
	// The same guesser address for another account still has its own
	// pair budget, but not more than the address budget.
	for range 5 {
		req := httptestRequest("POST", "/login", url.Values{"username": {"nobody"}, "password": {"guess"}})
		req.RemoteAddr = "203.0.113.1:1234"
		expectStatus(t, serve(h, req), http.StatusUnauthorized)
	}
	req := httptestRequest("POST", "/login", url.Values{"username": {"nobody"}, "password": {"guess"}})
	req.RemoteAddr = "203.0.113.1:1234"
	expectStatus(t, serve(h, req), http.StatusTooManyRequests)
}

func TestOpenModeWithoutPassword(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.PasswordHash = "" })
	h.SeedFleet()
	c := h.Client()
	for _, path := range []string{"/", "/configs", "/customers/ok-node", "/configs/new", "/nowhere"} {
		resp := c.Get(path)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			t.Fatalf("%s redirects with login disabled", path)
		}
		expectContains(t, resp.Body, `id="open-banner"`, "Login is disabled.")
		expectNotContains(t, resp.Body, `action="/logout"`)
	}
	expectStatus(t, c.Get("/login"), http.StatusSeeOther)
	resp := c.Post("/customers/ok-node/block", nil)
	expectStatus(t, resp, http.StatusSeeOther)
	if cust, _ := h.DB.FindCustomerByID(t.Context(), "ok-node"); !cust.Blocked {
		t.Error("open mode refused an action")
	}
}

func TestBannerAbsentWithLogin(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.LoggedInClient()
	expectNotContains(t, c.Get("/").Body, `id="open-banner"`)
}

// A logged-in operator who follows a crafted link to /login goes on at
// once: the redirect must stay on the site whatever "next" holds, after a
// browser's own clean-up of the Location (tabs and newlines dropped, "\"
// read as "/").
func TestLoggedInLoginRedirectStaysOnSite(t *testing.T) {
	h := MustHarness(t, nil)
	c := h.LoggedInClient()
	base, _ := url.Parse("https://hub.example/")
	browserish := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/")
	for rawQuery, want := range map[string]string{
		"next=/%09/evil.example/":                   "/",
		"next=/%0a/evil.example/":                   "/",
		"next=/%0d/evil.example/":                   "/",
		"next=/%2509/evil.example/":                 "/",
		"next=%2F%2Fevil.example":                   "/",
		"next=/%5Cevil.example":                     "/",
		"next=/%2f%2fevil.example":                  "/",
		"next=/%252f%252fevil.example":              "/",
		"next=https:evil.example":                   "/",
		"next=https://evil.example/":                "/",
		"next=/.//evil.example":                     "/",
		"next=/%EF%BC%8F/evil.example":              "/",
		"next=%09//evil.example":                    "/",
		"next=/customers/ok-node":                   "/customers/ok-node",
		"next=%2Fcustomers%2Fok-node%3Fperiod%3D7d": "/customers/ok-node?period=7d",
	} {
		resp := c.Get("/login?" + rawQuery)
		expectStatus(t, resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		if loc != want {
			t.Errorf("GET /login?%s redirects to %q, want %q", rawQuery, loc, want)
		}
		for _, s := range []string{loc, browserish.Replace(loc)} {
			ref, err := url.Parse(s)
			if err != nil {
				t.Fatalf("GET /login?%s: Location %q does not parse: %v", rawQuery, loc, err)
			}
			if u := base.ResolveReference(ref); u.Host != "hub.example" {
				t.Errorf("GET /login?%s: Location %q leads to %s", rawQuery, loc, u)
			}
		}
	}
	// The form post after a login takes the same road.
	for _, next := range []string{"/\t/evil.example/", "/%09/evil.example/", "/\\/evil.example", "/.//evil.example"} {
		h.Clock.Add(time.Minute) // stay clear of the login throttle
		resp := h.Client().Post("/login", url.Values{"password": {testPassword}, "next": {next}})
		expectStatus(t, resp, http.StatusSeeOther)
		if got := resp.Header.Get("Location"); got != "/" {
			t.Errorf("login with next %q redirects to %q, want /", next, got)
		}
	}
}
