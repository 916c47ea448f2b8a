package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSIGTERMWhileMailProviderHangs sends SIGTERM to a hub whose mail
// provider hangs on every send: the hub exits 0 within
// server.shutdown_timeout, the mail goes back to the queue (not failed,
// leased to no one) and every job lease is released, so that another
// replica or the next run takes them at once.
func TestSIGTERMWhileMailProviderHangs(t *testing.T) {
	bin := buildHub(t)
	started := make(chan struct{}, 16)
	var hung atomic.Int64
	resend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client go
		hung.Add(1)
		started <- struct{}{}
		<-r.Context().Done() // hangs until the hub gives up
	}))
	defer resend.Close()
	defer resend.CloseClientConnections()

	dataDir := t.TempDir()
	const key = "mailhang-test-global-key-0123456789"
	const shutdownTimeout = 6 * time.Second
	env := hubEnv{
		"HUB_SERVER_LISTEN":                 freeAddr(t),
		"HUB_SERVER_DATA_DIR":               dataDir,
		"HUB_SERVER_SHUTDOWN_TIMEOUT":       shutdownTimeout.String(),
		"HUB_API_REPORT_API_KEY":            key,
		"HUB_NOTIFICATIONS_PROVIDER":        "resend",
		"HUB_NOTIFICATIONS_RESEND_API_KEY":  "re_mailhang_test_key",
		"HUB_NOTIFICATIONS_RESEND_BASE_URL": resend.URL,
		"HUB_NOTIFICATIONS_OPERATOR_EMAIL":  "ops@felhom.eu",
		"HUB_NOTIFICATIONS_SEND_TIMEOUT":    "10m", // only the shutdown can end the send
	}
	logs := &syncBuffer{}
	proc := startHub(t, bin, env, logs)
	base := "http://" + env["HUB_SERVER_LISTEN"]
	post := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	post("/api/v1/report", `{"customer_id":"hang-node","health":"ok"}`)
	post("/api/v1/event", `{"customer_id":"hang-node","event_type":"backup_failed","severity":"error","message":"restic exited 1"}`)
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatalf("the mail never reached the provider\n%s", lastLines(logs.String(), 20))
	}

	began := time.Now()
	err := proc.terminate(t, shutdownTimeout+5*time.Second)
	took := time.Since(began)
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, lastLines(logs.String(), 30))
	}
	if took > shutdownTimeout {
		t.Errorf("the hub took %s to stop, more than server.shutdown_timeout %s", took.Round(time.Millisecond), shutdownTimeout)
	}
	t.Logf("stopped in %s with the provider hanging", took.Round(time.Millisecond))

	db := openDB(t, dataDir)
	var leases int
	if err := db.QueryRow(`SELECT count(*) FROM leases`).Scan(&leases); err != nil {
		t.Fatal(err)
	}
	if leases != 0 {
		t.Errorf("%d job leases still held after a clean shutdown", leases)
	}
	var state string
	var leased, attempts int
	if err := db.QueryRow(`SELECT state, lease_until IS NOT NULL, attempts FROM notification_outbox`).Scan(&state, &leased, &attempts); err != nil {
		t.Fatal(err)
	}
	if state != "pending" || leased != 0 || attempts != 1 {
		t.Errorf("the interrupted mail: state %s, leased %v, attempts %d; want pending, unleased", state, leased == 1, attempts)
	}
	var status string
	if err := db.QueryRow(`SELECT status FROM notification_log WHERE channel = 'operator'`).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "queued" {
		t.Errorf("notification_log says %q, want queued", status)
	}
	if out := logs.String(); strings.Contains(out, "close mail sender") || strings.Contains(out, "lease renewal failed") {
		t.Errorf("shutdown errors in the log:\n%s", lastLines(out, 30))
	}
}
