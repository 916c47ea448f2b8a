package fleet_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	hub "github.com/felhom/hub"
)

// TestControllerErrorsHoldNoSecrets is the regression test of a finding: a
// controller that echoed its request in an error answer put the customer's
// API key, and whatever else it was sent, into the 502 body, the hub's log
// and the audit log.
func TestControllerErrorsHoldNoSecrets(t *testing.T) {
	e := newEnv(t, true)
	var mode string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
		switch mode {
		case "body": // the pushed config, from its first secret on
			fmt.Fprintf(w, "refused: %s", body[strings.Index(string(body), "api_key"):])
		case "cut": // a secret cut by the message's length limit
			fmt.Fprintf(w, "%s %s", strings.Repeat("x", 280), r.Header.Get("Authorization"))
		default:
			fmt.Fprintf(w, `{"error":"bad key %s"}`, r.Header.Get("Authorization"))
		}
	}))
	defer echo.Close()
	cfg := &hub.CustomerConfig{CustomerID: "kovacs", Status: hub.ConfigActive,
		CloudflareTunnelToken: "cf-tunnel-token-SENTINEL",
		OverridesYAML:         "smtp:\n  password: smtp-password-SENTINEL\n"}
	if err := e.svc.CreateConfig(e.ctx, "tester", cfg); err != nil {
		t.Fatal(err)
	}
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, echo.URL))
	secrets := []string{cfg.APIKey, cfg.RetrievalPassword, cfg.SessionSecret, cfg.CloudflareTunnelToken, "smtp-password-SENTINEL"}
	check := func(what string, err error) {
		t.Helper()
		if hub.ErrorCode(err) != hub.EUPSTREAM {
			t.Fatalf("%s: %v, want EUPSTREAM", what, err)
		}
		audit := e.lastAudit(t).Detail
		for _, s := range secrets {
			// Any 8 characters of a secret are too many.
			for _, part := range []string{s, s[:8], s[len(s)-8:]} {
				if strings.Contains(hub.ErrorMessage(err), part) || strings.Contains(audit, part) {
					t.Errorf("%s: the error or the audit log holds a secret: %q / %q", what, hub.ErrorMessage(err), audit)
				}
			}
		}
		if !strings.Contains(hub.ErrorMessage(err), "[redacted]") {
			t.Errorf("%s: %q shows nothing redacted", what, hub.ErrorMessage(err))
		}
	}
	for _, m := range []string{"header", "cut"} {
		mode = m
		_, err := e.svc.Push(e.ctx, "operator", "kovacs")
		check("push echoing its "+m, err)
		_, err = e.svc.Pull(e.ctx, "operator", "kovacs")
		check("pull echoing its "+m, err)
		_, err = e.svc.Diff(e.ctx, "operator", "kovacs")
		check("diff echoing its "+m, err)
		_, err = e.svc.TriggerUpdate(e.ctx, "operator", "kovacs", "v1.5.0")
		check("update echoing its "+m, err)
	}
	mode = "body"
	_, err := e.svc.Push(e.ctx, "operator", "kovacs")
	check("push echoing the config", err)
}
