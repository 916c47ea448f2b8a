package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

// TestMainMailsOperatorAndCustomer boots the hub with Resend pointed at a
// fake, posts an error event and sees both mails delivered and logged.
func TestMainMailsOperatorAndCustomer(t *testing.T) {
	var mu sync.Mutex
	var mails []map[string]any
	var keys []string
	resend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		mails = append(mails, body)
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		_, _ = io.WriteString(w, `{"id":"x"}`)
	}))
	defer resend.Close()

	m := MustRunMain(t, func(c *config.Config) {
		c.API.ReportAPIKey = "end-to-end-global-key"
		c.Notifications.ResendAPIKey = "re_end_to_end_key"
		c.Notifications.ResendBaseURL = resend.URL
		c.Notifications.OperatorEmail = "ops@felhom.eu"
		c.Server.PublicURL = "https://hub.felhom.eu"
		// Customer mails go out at once, not after the digest window.
		c.Notifications.CustomerDigestWindow = 0
	})
	do := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+m.Addr()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer end-to-end-global-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %v, want %d", method, path, resp.StatusCode, out, want)
		}
		return out
	}
	do("POST", "/api/v1/report", `{"customer_id":"kovacs-csalad","system":{"hostname":"felhom-kovacs"}}`, 200)
	do("POST", "/api/v1/preferences", `{"customer_id":"kovacs-csalad","email":"kovacs.anna@example.hu","enabled_events":["backup_failed"]}`, 200)
	do("POST", "/api/v1/event", `{"customer_id":"kovacs-csalad","event_type":"backup_failed","severity":"error","message":"repository is locked"}`, 201)
	if r := do("POST", "/api/v1/notify", `{"customer_id":"kovacs-csalad","subject":"Old controller says hello","message":"m","severity":"warning"}`, 200); r["status"] != "queued" {
		t.Fatalf("relay %v", r)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := do("GET", "/api/v1/customers/kovacs-csalad/notifications", "", 200)["notifications"].([]any)
		sent := 0
		for _, r := range rows {
			if r.(map[string]any)["status"] == "sent" {
				sent++
			}
		}
		if sent == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications not sent: %v", rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(mails) != 3 || keys[0] == "" || keys[0] == keys[1] || keys[1] == keys[2] {
		t.Fatalf("mails %v keys %v", mails, keys)
	}
	byTo := map[string]map[string]any{}
	for _, mail := range mails {
		if strings.Contains(mail["subject"].(string), "hello") {
			continue // the relayed one
		}
		byTo[mail["to"].([]any)[0].(string)] = mail
	}
	op, cu := byTo["ops@felhom.eu"], byTo["kovacs.anna@example.hu"]
	if op == nil || !strings.Contains(op["text"].(string), "https://hub.felhom.eu/customers/kovacs-csalad") ||
		!strings.HasPrefix(op["subject"].(string), "[ERROR] kovacs-csalad: ") {
		t.Errorf("operator mail %v", op)
	}
	if cu == nil || cu["subject"] != "Felhom: Nem sikerült a biztonsági mentés" || cu["from"] != "monitoring@felhom.eu" {
		t.Errorf("customer mail %v", cu)
	}
}

func TestMainNotificationMetrics(t *testing.T) {
	m := MustRunMain(t, func(c *config.Config) {
		c.API.ReportAPIKey = "end-to-end-global-key"
		c.Notifications.OperatorEmail = "ops@felhom.eu" // the log provider "sends"
	})
	req, _ := http.NewRequest("POST", "http://"+m.Addr()+"/api/v1/report", strings.NewReader(`{"customer_id":"kovacs-csalad"}`))
	req.Header.Set("Authorization", "Bearer end-to-end-global-key")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	req, _ = http.NewRequest("POST", "http://"+m.Addr()+"/api/v1/notify",
		strings.NewReader(`{"customer_id":"kovacs-csalad","subject":"s","message":"m","severity":"error"}`))
	req.Header.Set("Authorization", "Bearer end-to-end-global-key")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("relay %v %v", resp, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + m.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(body)
		// The counter moves when the provider accepts the mail, the outbox
		// gauge when the row is removed just after: wait for both.
		if strings.Contains(text, `hub_notifications_total{channel="operator",outcome="sent"} 1`) &&
			strings.Contains(text, `hub_notifications_total{channel="operator",outcome="queued"} 1`) &&
			strings.Contains(text, `hub_notification_outbox{state="pending"} 0`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the metrics never showed the mail queued, sent and gone from the outbox:\n%s", text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
