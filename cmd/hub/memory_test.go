package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/fleetsim"
)

// memoryLimit is the hub's memory limit in the Kubernetes manifests.
const memoryLimit = 256 << 20

// manifestEnv returns the value the Kubernetes deployment gives an
// environment variable, so that the test runs the hub as it is deployed.
func manifestEnv(t *testing.T, name string) string {
	t.Helper()
	manifest, err := os.ReadFile("../../deploy/k8s/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\{name: ` + name + `, value: "?([^"}]+)"?\}`).FindSubmatch(manifest)
	if m == nil {
		t.Fatalf("deploy/k8s/deployment.yaml sets no %s", name)
	}
	return string(m[1])
}

// TestMemoryUnder64Concurrent4MiBBodies sends 64 clients, each posting
// reports of almost 4 MiB (a controller's largest) back to back, at the
// real binary, and checks that its peak resident memory (VmHWM) stays
// under the 256 MiB limit, that every answer is 200 or 503 with
// Retry-After, and that the hub serves normally afterwards. It runs the
// hub with the deployment's GOMEMLIMIT.
func TestMemoryUnder64Concurrent4MiBBodies(t *testing.T) {
	bin := buildHub(t)
	const key = "memory-test-global-key-0123456789"
	env := hubEnv{
		"HUB_SERVER_LISTEN":      freeAddr(t),
		"HUB_SERVER_DATA_DIR":    t.TempDir(),
		"HUB_API_REPORT_API_KEY": key,
		// The clients come through a trusted proxy, each from its own
		// address: the body budget gives each address only its share.
		"HUB_SERVER_TRUSTED_PROXIES": "127.0.0.1",
		"HUB_LOG_LEVEL":              "warn",
		"GOMEMLIMIT":                 manifestEnv(t, "GOMEMLIMIT"),
	}
	logs := &syncBuffer{}
	proc := startHub(t, bin, env, logs)
	idle := proc.peakRSS(t)

	// Eight distinct bodies, structured like real reports (thousands of
	// checks and containers), shared by the clients.
	const clients, rounds, distinct = 64, 3, 8
	bodies := make([][]byte, distinct)
	for i := range bodies {
		bodies[i] = bigReport(t, fmt.Sprintf("big-node-%d", i), uint64(i), 4<<20-32<<10)
		if len(bodies[i]) > 4<<20 || len(bodies[i]) < 3<<20 {
			t.Fatalf("body %d is %d bytes", i, len(bodies[i]))
		}
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 2 * time.Minute}
			for range rounds {
				req, _ := http.NewRequest("POST", "http://"+proc.addr+"/api/v1/report", bytes.NewReader(bodies[c%distinct]))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", c+1))
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak := proc.peakRSS(t)
	t.Logf("%d clients × %d reports of ~%.1f MiB in %s: statuses %v; peak RSS %.1f MiB (idle %.1f MiB), limit %d MiB, GOMEMLIMIT %s",
		clients, rounds, float64(len(bodies[0]))/(1<<20), elapsed.Round(time.Millisecond), statuses,
		float64(peak)/(1<<20), float64(idle)/(1<<20), memoryLimit>>20, env["GOMEMLIMIT"])
	for status := range statuses {
		if status != http.StatusOK && status != http.StatusServiceUnavailable {
			t.Errorf("status %d under load", status)
		}
	}
	if statuses[http.StatusOK] == 0 {
		t.Error("no report was accepted")
	}
	if peak >= memoryLimit {
		t.Errorf("peak RSS %d MiB, over the %d MiB limit", peak>>20, memoryLimit>>20)
	}
	resp, err := http.Get("http://" + proc.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz after the storm: %d", resp.StatusCode)
	}
}

// bigReport pads a realistic report with varied checks up to about size
// bytes: a controller's report never gets this big, an attacker's does.
func bigReport(t *testing.T, id string, seed uint64, size int) []byte {
	t.Helper()
	var report map[string]any
	if err := json.Unmarshal(fleetsim.NewNode(id, seed, 20<<10).Report(time.Now(), true), &report); err != nil {
		t.Fatal(err)
	}
	var checks []any
	base, _ := json.Marshal(report)
	for n := len(base); n < size; {
		c := map[string]any{"name": fmt.Sprintf("probe-%d-%d", seed, len(checks)), "status": "ok",
			"message": fmt.Sprintf("http %d in %d ms from https://%s.felhom.eu/%x", 200+len(checks)%7, len(checks)%997, id, len(checks)*7919)}
		checks = append(checks, c)
		line, _ := json.Marshal(c)
		n += len(line) + 1
	}
	report["checks"] = checks
	out, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
