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

// addOperator makes an account whose password is testPassword.
func addOperator(t *testing.T, h *Harness, name string, role hub.Role) {
	t.Helper()
	if err := h.DB.CreateOperator(t.Context(), &hub.Operator{Name: name, PasswordHash: passwordHash, Role: role}); err != nil {
		t.Fatal(err)
	}
}

// loginAs logs a new client in as name (with code, when given).
func loginAs(t *testing.T, h *Harness, name, code string) *Client {
	t.Helper()
	h.Clock.Add(time.Minute) // every login is a fresh minute for the throttle's refill
	c := h.Client()
	resp := c.Post("/login", url.Values{"username": {name}, "password": {testPassword}, "code": {code}})
	if resp.StatusCode != http.StatusSeeOther || c.Cookies["hub_session"] == nil {
		t.Fatalf("login as %s: %d\n%s", name, resp.StatusCode, excerpt(resp.Body))
	}
	return c
}

// concretePath fills a route pattern's wildcards.
func concretePath(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	path = strings.NewReplacer("{$}", "", "{name...}", "app.css", "{id}", "ok-node", "{name}", "no-such-operator",
		"{token_id}", "tok_0000000000000000").Replace(path)
	if path == "/" && pattern == "/" {
		path = "/nowhere"
	}
	return method, path
}

// TestRouteRoleMatrix calls every route of the dashboard's route table as
// nobody, as a viewer and as an admin: what a route needs is enforced by
// the table alone, and a viewer's state change never reaches a handler.
func TestRouteRoleMatrix(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	addOperator(t, h, "vera", hub.RoleViewer)
	clients := map[string]*Client{"nobody": h.Client(), "viewer": loginAs(t, h, "vera", ""), "admin": loginAs(t, h, "admin", "")}
	routes := h.Server.Routes()
	for _, rt := range routes {
		method, path := concretePath(rt.Pattern)
		for who, c := range clients {
			if method == "POST" && (path == "/logout" || path == "/account/sessions/revoke") {
				continue // would end the client's own session for the next routes
			}
			var form url.Values
			if method == "POST" {
				form = url.Values{}
			}
			resp := c.Do(method, path, form, nil)
			toLogin := resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login") ||
				resp.StatusCode == http.StatusUnauthorized && strings.Contains(resp.Body, `action="/login"`)
			switch {
			case rt.Needs() == "public":
				// An empty login form is answered by the login page itself.
				if (toLogin && path != "/login") || resp.StatusCode == http.StatusForbidden {
					t.Errorf("%s as %s: %d, a public route", rt.Pattern, who, resp.StatusCode)
				}
			case who == "nobody":
				if !toLogin {
					t.Errorf("%s as nobody: %d, want the login", rt.Pattern, resp.StatusCode)
				}
			case who == "viewer" && (rt.Needs() == "admin"):
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s as viewer: %d, want 403", rt.Pattern, resp.StatusCode)
				}
			default:
				if toLogin || resp.StatusCode == http.StatusForbidden {
					t.Errorf("%s as %s: %d, may use it", rt.Pattern, who, resp.StatusCode)
				}
			}
		}
	}
	t.Logf("dashboard route matrix: %d routes × %d roles", len(routes), len(clients))
}

// TestViewerSeesNoSecretAndCannotAct: the customer page shows a viewer
// neither credentials nor action controls, and a forged form changes
// nothing.
func TestViewerSeesNoSecretAndCannotAct(t *testing.T) {
	h := MustHarness(t, nil)
	h.SeedFleet()
	addOperator(t, h, "vera", hub.RoleViewer)
	cfg, err := h.DB.FindCustomerConfig(t.Context(), "ok-node")
	if err != nil {
		t.Fatal(err)
	}
	viewer := loginAs(t, h, "vera", "")
	page := viewer.Get("/customers/ok-node")
	expectStatus(t, page, http.StatusOK)
	expectNotContains(t, page.Body, cfg.APIKey, cfg.RetrievalPassword, `id="do-block"`, `id="do-rotate"`, `id="edit-config"`)
	for _, path := range []string{"/customers/ok-node/block", "/customers/ok-node/rotate-key", "/customers/ok-node/rotate-retrieval-password", "/users"} {
		expectStatus(t, viewer.Post(path, url.Values{"role": {"admin"}}), http.StatusForbidden)
	}
	after, _ := h.DB.FindCustomerConfig(t.Context(), "ok-node")
	if after.APIKey != cfg.APIKey || after.RetrievalPassword != cfg.RetrievalPassword || after.Status == hub.ConfigBlocked {
		t.Error("a viewer's forged form changed the customer")
	}
	admin := loginAs(t, h, "admin", "")
	expectContains(t, admin.Get("/customers/ok-node").Body, cfg.APIKey, cfg.RetrievalPassword, `id="do-block"`)
	// Rotating the retrieval password ends the old one at once.
	expectStatus(t, admin.Post("/customers/ok-node/rotate-retrieval-password", url.Values{}), http.StatusSeeOther)
	if err := h.DB.AuthenticateRetrieval(t.Context(), "ok-node", cfg.RetrievalPassword); err == nil {
		t.Error("the old retrieval password still works")
	}
}

// TestLoginWithTOTP enrols a second factor on the account page and logs
// in with it: a code is good once, a recovery code once, and the audit
// log names the operator.
func TestLoginWithTOTP(t *testing.T) {
	h := MustHarness(t, nil)
	addOperator(t, h, "anna", hub.RoleAdmin)
	c := loginAs(t, h, "anna", "")
	start := c.Post("/account/totp/start", url.Values{})
	expectStatus(t, start, http.StatusOK)
	expectContains(t, start.Body, `<svg`, `id="totp-qr"`)
	secretText := between(start.Body, `id="totp-secret">`, "<")
	secret, err := hub.ParseTOTPSecretText(secretText)
	if err != nil {
		t.Fatalf("secret %q: %v", secretText, err)
	}
	code := hub.TOTPCode(secret, hub.TOTPStepAt(h.Clock.Now()))
	done := c.Post("/account/totp/confirm", url.Values{"secret": {secretText}, "code": {code}})
	expectStatus(t, done, http.StatusOK)
	recovery := between(done.Body, `id="recovery-codes"><li>`, "<")
	if len(recovery) != 11 {
		t.Fatalf("no recovery codes shown: %q", recovery)
	}
	try := func(code string) int {
		h.Clock.Add(time.Minute)
		return h.Client().Post("/login", url.Values{"username": {"anna"}, "password": {testPassword}, "code": {code}}).StatusCode
	}
	if got := try(""); got != http.StatusUnauthorized {
		t.Errorf("password alone: %d", got)
	}
	now := hub.TOTPCode(secret, hub.TOTPStepAt(h.Clock.Now().Add(time.Minute)))
	if got := try(now); got != http.StatusSeeOther {
		t.Errorf("valid code: %d", got)
	}
	h.Clock.Add(-time.Minute) // the same step again
	if got := try(now); got != http.StatusUnauthorized {
		t.Errorf("reused code: %d, want 401", got)
	}
	if got := try(recovery); got != http.StatusSeeOther {
		t.Errorf("recovery code: %d", got)
	}
	if got := try(recovery); got != http.StatusUnauthorized {
		t.Errorf("recovery code twice: %d", got)
	}
	entries, _ := h.DB.FindAuditEntries(t.Context(), hub.AuditFilter{Limit: 50})
	var logins, failed int
	for _, e := range entries {
		switch {
		case e.Action == "login" && e.Actor == "operator:anna":
			logins++
		case e.Action == "login.failed" && e.Actor == "operator:anna":
			failed++
		}
	}
	if logins < 3 || failed < 3 {
		t.Errorf("audit: %d logins, %d failed logins of anna", logins, failed)
	}
	_ = web.Route{}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	out, _, _ := strings.Cut(rest, to)
	return out
}
