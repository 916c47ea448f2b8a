package main

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

// getStatus GETs url and returns its status and body.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// With server.metrics_listen, /metrics is served there and only there; the
// probes answer on the main listener, /readyz 503 once the hub drains.
func TestMetricsListenAndProbes(t *testing.T) {
	m := MustRunMain(t, func(c *config.Config) { c.Server.MetricsListen = "127.0.0.1:0" })
	base := "http://" + m.Addr()
	if m.MetricsAddr() == "" || m.MetricsAddr() == m.Addr() {
		t.Fatalf("metrics on %q, main on %q", m.MetricsAddr(), m.Addr())
	}
	if code, body := getStatus(t, base+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "hub_") {
		t.Errorf("/metrics on the main listener: %d %.200s", code, body)
	}
	families := scrape(t, "http://"+m.MetricsAddr())
	if v := value(families, "hub_build_info", map[string]string{"version": Version, "go": runtime.Version()}); v != 1 {
		t.Errorf("hub_build_info{version=%q,go=%q} = %v, want 1", Version, runtime.Version(), v)
	}
	if families["hub_db_size_bytes"] == nil {
		t.Error("hub_db_size_bytes is missing on SQLite")
	}
	for _, path := range []string{"/livez", "/readyz", "/healthz"} {
		if code, body := getStatus(t, base+path); code != http.StatusOK {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	m.draining.Store(true)
	code, body := getStatus(t, base+"/readyz")
	var answer map[string]string
	_ = json.Unmarshal([]byte(body), &answer)
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(answer["error"], "draining") {
		t.Errorf("/readyz while draining: %d %s", code, body)
	}
	if code, _ := getStatus(t, base+"/livez"); code != http.StatusOK {
		t.Errorf("/livez while draining: %d", code)
	}
	if code, _ := getStatus(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while draining: %d (kept as it was: the database answers)", code)
	}
}

// On SIGTERM the real binary turns unready at once, keeps serving (a
// report is stored) for server.drain_period, then exits 0.
func TestSIGTERMDrainsThenCloses(t *testing.T) {
	bin := buildHub(t)
	const key = "drain-test-global-key-0123456789"
	const drain = 3 * time.Second
	env := hubEnv{
		"HUB_SERVER_LISTEN":       freeAddr(t),
		"HUB_SERVER_DATA_DIR":     t.TempDir(),
		"HUB_API_REPORT_API_KEY":  key,
		"HUB_SERVER_DRAIN_PERIOD": drain.String(),
	}
	logs := &syncBuffer{}
	proc := startHub(t, bin, env, logs)
	base := "http://" + proc.addr
	// /healthz answers as soon as the database is open; /readyz once the
	// background work runs too, a moment later.
	for deadline := time.Now().Add(10 * time.Second); ; {
		code, body := getStatus(t, base+"/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz before SIGTERM: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond) // polling another process
	}
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	for {
		code, _ := getStatus(t, base+"/readyz")
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Since(signalled) > drain/2 {
			t.Fatalf("/readyz still %d %s after SIGTERM", code, time.Since(signalled))
		}
		time.Sleep(20 * time.Millisecond) // polling another process
	}
	if code, _ := getStatus(t, base+"/livez"); code != http.StatusOK {
		t.Errorf("/livez while draining: %d", code)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/report", strings.NewReader(`{"customer_id":"drain-1","health":"ok"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a report while draining: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a report while draining: %d", resp.StatusCode)
	}
	select {
	case <-proc.exited:
	case <-time.After(drain + 30*time.Second):
		t.Fatal("the hub did not exit after its drain")
	}
	if took := time.Since(signalled); took < drain {
		t.Errorf("exited %s after SIGTERM, before its %s drain period", took, drain)
	}
	if proc.err != nil {
		t.Errorf("exit: %v\n%s", proc.err, lastLines(logs.String(), 20))
	}
	if !strings.Contains(logs.String(), "draining") {
		t.Error("the drain was not logged")
	}
}

// A second signal during the drain ends the process at once, exit code 2.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	bin := buildHub(t)
	env := hubEnv{
		"HUB_SERVER_LISTEN":       freeAddr(t),
		"HUB_SERVER_DATA_DIR":     t.TempDir(),
		"HUB_API_REPORT_API_KEY":  "second-signal-global-key-0123456789",
		"HUB_SERVER_DRAIN_PERIOD": "5m",
	}
	logs := &syncBuffer{}
	proc := startHub(t, bin, env, logs)
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "draining") {
		if time.Now().After(deadline) {
			t.Fatalf("no drain logged after SIGTERM:\n%s", lastLines(logs.String(), 20))
		}
		time.Sleep(20 * time.Millisecond) // polling another process
	}
	if err := proc.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-proc.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not exit at the second signal")
	}
	if code := proc.cmd.ProcessState.ExitCode(); code != exitSecondSignal {
		t.Errorf("exit code %d after a second signal, want %d", code, exitSecondSignal)
	}
	if !strings.Contains(logs.String(), "second signal") {
		t.Errorf("the second signal was not explained:\n%s", lastLines(logs.String(), 5))
	}
}
