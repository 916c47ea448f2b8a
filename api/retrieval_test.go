package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

// recoveryBody is the recovery response.
type recoveryBody struct {
	CustomerID     string          `json:"customer_id"`
	ConfigYAML     string          `json:"config_yaml"`
	InfraBackup    json.RawMessage `json:"infra_backup"`
	HasInfraBackup bool            `json:"has_infra_backup"`
}

func TestRecoveryAndConfig(t *testing.T) {
	h := newConfigsHub(t)
	key, password := h.createCustomer(`{"customer_id":"kovacs-csalad","display_name":"Kovács család",
		"domain":"kovacs-csalad.felhom.eu","cloudflare_tunnel_token":"cf-token-1",
		"overrides_yaml":"backup:\n  keep_daily: 14\n"}`)

	// Before any infra backup: infra_backup null, has_infra_backup false.
	res := h.do(cfgRequest{method: "GET", path: "/api/v1/recovery/kovacs-csalad", password: password})
	if res.status != http.StatusOK {
		t.Fatalf("recovery: %d %s", res.status, res.body)
	}
	if !bytes.Contains(res.body, []byte(`"infra_backup":null`)) || !bytes.Contains(res.body, []byte(`"has_infra_backup":false`)) {
		t.Errorf("no backup yet: %s", res.body)
	}
	var first recoveryBody
	if err := json.Unmarshal(res.body, &first); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Customer struct{ ID, Name, Domain string }
		Hub      struct {
			APIKey string `yaml:"api_key"`
		}
		Cloudflare struct {
			TunnelToken string `yaml:"tunnel_token"`
		}
		Backup struct {
			KeepDaily int `yaml:"keep_daily"`
		}
	}
	if err := yaml.Load([]byte(first.ConfigYAML), &cfg); err != nil {
		t.Fatalf("config_yaml: %v", err)
	}
	if cfg.Customer.ID != "kovacs-csalad" || cfg.Customer.Name != "Kovács család" || cfg.Hub.APIKey != key ||
		cfg.Cloudflare.TunnelToken != "cf-token-1" || cfg.Backup.KeepDaily != 14 {
		t.Errorf("config_yaml does not carry the customer's values: %+v", cfg)
	}

	// GET /config answers the same YAML as text/yaml.
	res = h.do(cfgRequest{method: "GET", path: "/api/v1/config/kovacs-csalad", password: password})
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/yaml") {
		t.Fatalf("config: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	if string(res.body) != first.ConfigYAML {
		t.Errorf("config differs from recovery's config_yaml")
	}

	// After a backup: exactly what was posted.
	posted := mustJSON(t, exampleInfraBackup(t, "kovacs-csalad"))
	if r := h.do(cfgRequest{method: "POST", path: "/api/v1/infra-backup", key: key, body: posted}); r.status != http.StatusCreated {
		t.Fatalf("post backup: %d %s", r.status, r.body)
	}
	res = h.do(cfgRequest{method: "GET", path: "/api/v1/recovery/kovacs-csalad", password: password})
	var second recoveryBody
	if err := json.Unmarshal(res.body, &second); err != nil {
		t.Fatal(err)
	}
	if !second.HasInfraBackup || !bytes.Equal(second.InfraBackup, posted) || second.CustomerID != "kovacs-csalad" {
		t.Errorf("recovery after backup: %s", res.body)
	}
}

func TestRetrievalFailures(t *testing.T) {
	h := newConfigsHub(t)
	key, password := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	// A manual customer (reports only) has no config and no password.
	h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: cfgGlobalKey, body: []byte(`{"customer_id":"manual-one"}`)})

	for _, path := range []string{"/api/v1/recovery/", "/api/v1/config/"} {
		var denial []byte
		tests := []struct {
			name     string
			id       string
			password string
			bearer   string
			status   int
		}{
			{"wrong password", "kovacs-csalad", "wrong-password", "", 401},
			{"unknown customer", "nobody", password, "", 401},
			{"manual customer", "manual-one", password, "", 401},
			{"bearer key instead", "kovacs-csalad", "", key, 401},
			{"global key instead", "kovacs-csalad", "", cfgGlobalKey, 401},
			{"no header", "kovacs-csalad", "", "", 401},
			{"bad id", "Bad_ID", password, "", 400},
		}
		for i, tt := range tests {
			t.Run(path+tt.name, func(t *testing.T) {
				// A fresh address each time keeps the limiter out of the way.
				res := h.do(cfgRequest{method: "GET", path: path + tt.id, password: tt.password, key: tt.bearer,
					remote: fmt.Sprintf("198.51.100.%d:1", i+1)})
				if res.status != tt.status {
					t.Fatalf("got %d %s, want %d", res.status, res.body, tt.status)
				}
				if bytes.Contains(res.body, []byte(password)) {
					t.Error("error echoes the password")
				}
				if tt.name == "wrong password" {
					denial = res.body
				}
				if (tt.name == "unknown customer" || tt.name == "manual customer") && !bytes.Equal(res.body, denial) {
					t.Errorf("body %s differs from the wrong-password body %s", res.body, denial)
				}
			})
		}
	}
}

func TestRetrievalRateLimit(t *testing.T) {
	h := newConfigsHub(t)
	_, password := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	h.createCustomer(`{"customer_id":"other"}`)
	get := func(id, pw, remote string) cfgResponse {
		return h.do(cfgRequest{method: "GET", path: "/api/v1/recovery/" + id, password: pw, remote: remote})
	}

	t.Run("per address", func(t *testing.T) {
		const attacker = "203.0.113.7:5555"
		for i := range 10 {
			if res := get("other", "guess", attacker); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, res.status)
			}
		}
		res := get("kovacs-csalad", password, attacker)
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" {
			t.Fatalf("11th attempt: %d Retry-After=%q %s", res.status, res.header.Get("Retry-After"), res.body)
		}
		if res.errorText() == "" {
			t.Error("429 without an error message")
		}
		// Another address is not affected.
		if res := get("kovacs-csalad", password, "203.0.113.8:1"); res.status != http.StatusOK {
			t.Fatalf("other address: %d", res.status)
		}
		// One token refills per minute.
		h.clock.Add(30 * time.Second)
		if res := get("kovacs-csalad", password, attacker); res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "30" {
			t.Fatalf("after 30 s: %d %q", res.status, res.header.Get("Retry-After"))
		}
		h.clock.Add(30 * time.Second)
		if res := get("kovacs-csalad", password, attacker); res.status != http.StatusOK {
			t.Fatalf("after a minute: %d %s", res.status, res.body)
		}
	})

	t.Run("per customer", func(t *testing.T) {
		for i := range 20 {
			if res := get("kovacs-csalad", "guess", fmt.Sprintf("[2001:db8:%x::1]:1", i)); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, res.status)
			}
		}
		res := get("kovacs-csalad", "guess", "[2001:db8:ffff::1]:1")
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "180" {
			t.Fatalf("21st failure on the customer: %d %q", res.status, res.header.Get("Retry-After"))
		}
		// Only failures count: the right password is never refused by the
		// customer's limit.
		if res := get("kovacs-csalad", password, "[2001:db8:fffe::1]:1"); res.status != http.StatusOK {
			t.Fatalf("right password after 20 failures: %d %s", res.status, res.body)
		}
		// The same new address may still try another customer.
		if res := get("other", "guess", "[2001:db8:ffff::1]:1"); res.status != http.StatusUnauthorized {
			t.Fatalf("other customer: %d", res.status)
		}
	})

	t.Run("ipv6 hosts share their /64", func(t *testing.T) {
		h.createCustomer(`{"customer_id":"third"}`)
		for i := range 10 {
			if res := get("third", "guess", fmt.Sprintf("[2001:db8:aaaa:1::%x]:1", i+1)); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, res.status)
			}
		}
		if res := get("third", "guess", "[2001:db8:aaaa:1::ffff]:1"); res.status != http.StatusTooManyRequests {
			t.Fatalf("same /64: %d", res.status)
		}
		if res := get("third", "guess", "[2001:db8:aaaa:2::1]:1"); res.status != http.StatusUnauthorized {
			t.Fatalf("next /64: %d", res.status)
		}
	})
}

// Issue 16: 20 wrong guesses from 20 addresses locked the real customer
// out. Only failures count against the customer: the right password from
// any address that has not been guessing gets through at once, on both
// retrieval endpoints, while wrong guesses stay limited.
func TestRetrievalSpreadGuessesDoNotLockOut(t *testing.T) {
	h := newConfigsHub(t)
	_, password := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	for i := range 20 {
		res := h.getRecovery("kovacs-csalad", "guess", fmt.Sprintf("203.0.113.%d:1", i+1))
		if res.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, res.status)
		}
	}
	for i, path := range []string{"/api/v1/recovery/kovacs-csalad", "/api/v1/config/kovacs-csalad"} {
		res := h.do(cfgRequest{method: "GET", path: path, password: password, remote: fmt.Sprintf("198.51.100.%d:1", i+1)})
		if res.status != http.StatusOK {
			t.Fatalf("%s with the right password after 20 guesses: %d %s", path, res.status, res.body)
		}
	}
	// A 21st guesser is still refused, and the right password after it
	// still works.
	res := h.getRecovery("kovacs-csalad", "guess", "203.0.113.99:1")
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "180" {
		t.Fatalf("21st guess: %d Retry-After=%q", res.status, res.header.Get("Retry-After"))
	}
	if res := h.getRecovery("kovacs-csalad", password, "198.51.100.1:1"); res.status != http.StatusOK {
		t.Fatalf("right password after the 21st guess: %d", res.status)
	}
}

// One wrong guess a minute, for a week of fake time, kept the customer
// locked out for good. Now the right password works after every guess,
// and the guesses stay limited per customer: at most the burst plus one
// every three minutes are answered 401.
func TestRetrievalSlowGuesserNeverLocksOut(t *testing.T) {
	h := newConfigsHub(t)
	_, password := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	const owner = "198.51.100.50:1"
	const minutes = 7 * 24 * 60
	statuses := map[int]int{}
	for minute := range minutes {
		// The guesser comes from one address, then from a new one each
		// minute: neither makes a difference to the owner.
		guesser := "203.0.113.7:1"
		if minute%2 == 1 {
			guesser = fmt.Sprintf("[2001:db8:%x::1]:1", minute)
		}
		res := h.getRecovery("kovacs-csalad", "guess", guesser)
		statuses[res.status]++
		if minute%97 == 0 || minute > minutes-5 {
			if res := h.getRecovery("kovacs-csalad", password, owner); res.status != http.StatusOK {
				t.Fatalf("minute %d: right password %d %s", minute, res.status, res.body)
			}
		}
		h.clock.Add(time.Minute)
	}
	// Failures answered 401: the burst of 20 at first, then one per 3 min.
	maxFailures := 20 + minutes/3 + 1
	if statuses[http.StatusUnauthorized] > maxFailures || statuses[http.StatusTooManyRequests] == 0 {
		t.Errorf("guess statuses %v: want at most %d 401, the rest 429", statuses, maxFailures)
	}
	if statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != minutes {
		t.Errorf("guess statuses %v: only 401 and 429 expected", statuses)
	}
}

// An address that has been guessing may have to wait: while the customer's
// limit is spent, such an address is refused even with the right password
// until its own failures are waited out. An honest address that has not
// failed goes on.
func TestRetrievalGuessingAddressWaitsWhileCustomerIsSpent(t *testing.T) {
	h := newConfigsHub(t)
	_, password := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	for i := range 20 {
		h.getRecovery("kovacs-csalad", "guess", fmt.Sprintf("203.0.113.%d:1", i+1))
	}
	// 203.0.113.1 has one failure to wait out (a minute); it gets no check.
	res := h.getRecovery("kovacs-csalad", password, "203.0.113.1:1")
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" {
		t.Fatalf("guessing address, customer spent: %d Retry-After=%q, want 429 and 60", res.status, res.header.Get("Retry-After"))
	}
	if res := h.getRecovery("kovacs-csalad", password, "198.51.100.1:1"); res.status != http.StatusOK {
		t.Fatalf("honest address: %d", res.status)
	}
	h.clock.Add(time.Minute)
	if res := h.getRecovery("kovacs-csalad", password, "203.0.113.1:1"); res.status != http.StatusOK {
		t.Fatalf("guessing address after its minute: %d", res.status)
	}
	// With the customer's limit not spent, the address's burst applies as
	// before: one failure does not hold back the right password.
	h.clock.Add(time.Hour)
	h.getRecovery("kovacs-csalad", "typo", "198.51.100.2:1")
	if res := h.getRecovery("kovacs-csalad", password, "198.51.100.2:1"); res.status != http.StatusOK {
		t.Fatalf("right password after one typo: %d", res.status)
	}
}

// An unknown customer is limited exactly like a known one, so the answers
// tell nothing about which customers exist.
func TestRetrievalLimitDoesNotEnumerate(t *testing.T) {
	h := newConfigsHub(t)
	h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	answers := func(id string) []string {
		var out []string
		for i := range 22 {
			res := h.getRecovery(id, "guess", fmt.Sprintf("[2001:db8:%s:%x::1]:1", map[string]string{"kovacs-csalad": "a", "nobody": "b"}[id], i))
			out = append(out, fmt.Sprintf("%d %s %s", res.status, res.header.Get("Retry-After"), res.body))
		}
		return out
	}
	known, unknown := answers("kovacs-csalad"), answers("nobody")
	for i := range known {
		if known[i] != unknown[i] {
			t.Errorf("attempt %d: known customer %q, unknown %q", i, known[i], unknown[i])
		}
	}
	if !strings.HasPrefix(known[0], "401") || !strings.HasPrefix(known[21], "429") {
		t.Errorf("answers %q", known)
	}
}
