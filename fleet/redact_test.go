package fleet_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
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

// TestControllerErrorsHoldNoEncodedSecrets: a controller that echoes one
// of the customer's secrets in base64, URL encoding or hex, or the pushed
// config base64-encoded, leaves none of it in the returned error, the
// audit log or the log.
func TestControllerErrorsHoldNoEncodedSecrets(t *testing.T) {
	e := newEnv(t, true)
	logs := &strings.Builder{}
	var logMu sync.Mutex
	e.svc.Logger = slog.New(slog.NewTextHandler(lockedWriter{&logMu, logs}, nil))
	var echo func(r *http.Request, body []byte) string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"refused: %s"}`, echo(r, body))
	}))
	defer srv.Close()
	cfg := &hub.CustomerConfig{CustomerID: "kovacs", Status: hub.ConfigActive,
		CloudflareTunnelToken: "eyJhIjoiY2YtdHVubmVsIn0+/SENTINEL=",
		OverridesYAML:         "smtp:\n  password: \"smtp p@ss/word SENTINEL\"\n"}
	if err := e.svc.CreateConfig(e.ctx, "tester", cfg); err != nil {
		t.Fatal(err)
	}
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, srv.URL))
	secrets := []string{cfg.APIKey, cfg.RetrievalPassword, cfg.SessionSecret, cfg.CloudflareTunnelToken, "smtp p@ss/word SENTINEL"}
	encodings := map[string]func(string) string{
		"base64":        func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"base64url raw": func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
		"query escaped": url.QueryEscape,
		"path escaped":  url.PathEscape,
		"hex":           func(s string) string { return hex.EncodeToString([]byte(s)) },
	}
	check := func(what string, err error) {
		t.Helper()
		if hub.ErrorCode(err) != hub.EUPSTREAM {
			t.Fatalf("%s: %v, want EUPSTREAM", what, err)
		}
		if !strings.Contains(hub.ErrorMessage(err), "[redacted]") {
			t.Errorf("%s: %q shows nothing redacted", what, hub.ErrorMessage(err))
		}
		logMu.Lock()
		logText := logs.String()
		logMu.Unlock()
		for _, text := range []string{hub.ErrorMessage(err), e.lastAudit(t).Detail, logText} {
			for _, s := range secrets {
				if leak := leakOf(text, s, encodings); leak != "" {
					t.Errorf("%s: %q holds %s of %q", what, text, leak, s)
				}
			}
		}
	}
	for _, s := range secrets {
		for name, enc := range encodings {
			echo = func(*http.Request, []byte) string { return enc(s) }
			_, err := e.svc.Push(e.ctx, "operator", "kovacs")
			check("push echoing "+name, err)
			_, err = e.svc.TriggerUpdate(e.ctx, "operator", "kovacs", "v1.5.0")
			check("update echoing "+name, err)
		}
	}
	// The Authorization header and the pushed config, base64-encoded whole:
	// the secrets sit inside at any alignment.
	echo = func(r *http.Request, _ []byte) string {
		return base64.StdEncoding.EncodeToString([]byte(r.Header.Get("Authorization")))
	}
	_, err := e.svc.Push(e.ctx, "operator", "kovacs")
	check("push echoing the header in base64", err)
	echoed := 0
	for _, s := range secrets {
		for before := range 3 {
			found := true
			echo = func(_ *http.Request, body []byte) string {
				i := strings.Index(string(body), s)
				if i < 0 {
					found = false
					return "nothing"
				}
				return base64.StdEncoding.EncodeToString(body[max(0, i-7-before) : i+len(s)+5])
			}
			_, err := e.svc.Push(e.ctx, "operator", "kovacs")
			if !found {
				continue // the retrieval password is not in controller.yaml
			}
			echoed++
			check(fmt.Sprintf("push echoing the config around %q in base64", s), err)
		}
	}
	if echoed < 3*3 {
		t.Errorf("only %d echoes of the config held a secret", echoed)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// leakOf names what of secret text still holds: 8 characters of it in a
// row, one of its encodings, or 6 bytes of it in a row decoded from a run
// of base64 at any offset. "" when nothing.
func leakOf(text, secret string, encodings map[string]func(string) string) string {
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+8]) {
			return "8 characters"
		}
	}
	for name, enc := range encodings {
		if strings.Contains(text, enc(secret)) {
			return name
		}
	}
	isB64 := func(r rune) bool {
		return r == '+' || r == '/' || r == '-' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	for _, run := range strings.FieldsFunc(text, func(r rune) bool { return !isB64(r) }) {
		run = strings.NewReplacer("-", "+", "_", "/").Replace(run)
		for off := 0; off < 4 && off < len(run); off++ {
			chunk := run[off:]
			raw, err := base64.StdEncoding.DecodeString(chunk[:len(chunk)/4*4])
			if err != nil {
				continue
			}
			for i := 0; i+6 <= len(secret); i++ {
				if strings.Contains(string(raw), secret[i:i+6]) {
					return "base64 of 6 bytes"
				}
			}
		}
	}
	return ""
}
