package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/felhom/hub/internal/pgtest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// takeoverLimit is how soon after its holder dies another replica must run
// a job: mail waits for the dispatch lease meanwhile.
const takeoverLimit = 10 * time.Second

// TestLeaseTakeoverAfterKill runs three hub processes on one PostgreSQL
// database, kills the holder of the dispatch lease with SIGKILL, and
// measures from outside (the survivors' /metrics) how long until another
// replica holds each lease the dead one held; then it does it again with
// the new holder. Every takeover must come within takeoverLimit, and no
// two live replicas ever say they hold one lease.
func TestLeaseTakeoverAfterKill(t *testing.T) {
	dsn := pgtest.Schema(t)
	if testing.Short() {
		t.Skip("runs real processes for about half a minute")
	}
	bin := buildHub(t)
	const replicas = 3
	procs := make([]*hubProcess, replicas)
	logs := make([]*syncBuffer, replicas)
	for i := range procs {
		logs[i] = &syncBuffer{}
		procs[i] = spawnHub(t, bin, hubEnv{
			"HUB_SERVER_LISTEN":      freeAddr(t),
			"HUB_SERVER_DATA_DIR":    t.TempDir(),
			"HUB_DATABASE_DSN":       dsn,
			"HUB_API_REPORT_API_KEY": "takeover-test-global-key-0123456789",
			"HUB_LOG_LEVEL":          "warn",
		}, logs[i])
	}
	for _, p := range procs {
		p.waitReady(t, 60*time.Second)
	}
	names := []string{leaseDailyJobs, leaseHistory, leaseDispatch, leaseRegistry}
	alive := map[int]bool{0: true, 1: true, 2: true}
	var worst time.Duration
	for round := range replicas - 1 {
		held := waitAllHeld(t, procs, alive, names, 30*time.Second)
		victim := held[leaseDispatch]
		var lost []string
		for _, name := range names {
			if held[name] == victim {
				lost = append(lost, name)
			}
		}
		procs[victim].kill(t)
		killed := time.Now()
		delete(alive, victim)
		taken := map[string]time.Duration{}
		client := &http.Client{Timeout: time.Second}
		for len(taken) < len(lost) {
			if time.Since(killed) > 3*takeoverLimit {
				t.Fatalf("round %d: after %s only %v of %v are held again", round, time.Since(killed).Round(time.Millisecond), taken, lost)
			}
			holders := leaseHolders(t, client, procs, alive)
			for _, name := range lost {
				if n := len(holders[name]); n > 1 {
					t.Fatalf("round %d: replicas %v all say they hold %s", round, holders[name], name)
				} else if n == 1 {
					if _, ok := taken[name]; !ok {
						taken[name] = time.Since(killed)
					}
				}
			}
			time.Sleep(50 * time.Millisecond) // polling another process's state
		}
		for _, name := range lost {
			worst = max(worst, taken[name])
			if taken[name] > takeoverLimit {
				t.Errorf("round %d: lease %s taken over %s after its holder died, want within %s",
					round, name, taken[name].Round(time.Millisecond), takeoverLimit)
			}
		}
		t.Logf("round %d: replica %d killed; taken over after %v", round, victim, roundAll(taken))
	}
	t.Logf("worst takeover: %s", worst.Round(time.Millisecond))
}

// waitAllHeld waits until a live replica holds each lease and returns the
// holder of each.
func waitAllHeld(t *testing.T, procs []*hubProcess, alive map[int]bool, names []string, limit time.Duration) map[string]int {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		holders := leaseHolders(t, client, procs, alive)
		out := map[string]int{}
		for _, name := range names {
			if len(holders[name]) == 1 {
				out[name] = holders[name][0]
			}
		}
		if len(out) == len(names) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("leases not all held within %s: %v", limit, holders)
		}
		time.Sleep(50 * time.Millisecond) // polling another process's state
	}
}

// leaseHolders scrapes each live replica's hub_lease_held and returns, by
// lease, the replicas that say they hold it.
func leaseHolders(t *testing.T, client *http.Client, procs []*hubProcess, alive map[int]bool) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for i, p := range procs {
		if !alive[i] {
			continue
		}
		families, err := scrapeWith(client, "http://"+p.addr)
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		f := families["hub_lease_held"]
		if f == nil {
			continue
		}
		for _, m := range f.Metric {
			if m.Gauge.GetValue() != 1 {
				continue
			}
			for _, l := range m.Label {
				if l.GetName() == "lease" {
					out[l.GetValue()] = append(out[l.GetValue()], i)
				}
			}
		}
	}
	return out
}

// scrapeWith fetches and parses base's /metrics.
func scrapeWith(client *http.Client, base string) (map[string]*dto.MetricFamily, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

func roundAll(m map[string]time.Duration) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.Round(100 * time.Millisecond).String()
	}
	return out
}
