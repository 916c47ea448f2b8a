package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/internal/pgtest"
)

// envPGRestart opts in to TestReplicasRideOutPostgresRestart: it restarts
// the PostgreSQL cluster of HUB_TEST_POSTGRES_DSN (pg_ctlcluster), which
// breaks every other test using that server at the time.
const envPGRestart = "HUB_TEST_PG_RESTART"

// TestReplicasRideOutPostgresRestart runs two hub processes on PostgreSQL,
// restarts the server under them (a restart, then a stop of several
// seconds and a start), and checks that neither process exits or needs a
// restart: /livez answers throughout, and afterwards each replica is ready
// again, stores reports, and the job leases are held again.
func TestReplicasRideOutPostgresRestart(t *testing.T) {
	if os.Getenv(envPGRestart) != "1" {
		t.Skip(envPGRestart + "=1 is not set: this test restarts the PostgreSQL server of " + pgtest.EnvDSN +
			" (pg_ctlcluster) and would break other tests using it at the same time")
	}
	dsn := pgtest.Schema(t)
	cluster := pgCluster(t, pgtest.ServerDSN(t))
	// Whatever happens, the server is left running for the others.
	t.Cleanup(func() { _ = exec.Command("pg_ctlcluster", append(strings.Fields(cluster), "start")...).Run() })
	bin := buildHub(t)
	const key = "pg-restart-test-global-key-0123456789"
	const replicas = 2
	procs := make([]*hubProcess, replicas)
	logs := make([]*syncBuffer, replicas)
	for i := range procs {
		logs[i] = &syncBuffer{}
		procs[i] = spawnHub(t, bin, hubEnv{
			"HUB_SERVER_LISTEN":      freeAddr(t),
			"HUB_SERVER_DATA_DIR":    t.TempDir(),
			"HUB_DATABASE_DSN":       dsn,
			"HUB_API_REPORT_API_KEY": key,
			"HUB_LOG_LEVEL":          "warn",
		}, logs[i])
	}
	for _, p := range procs {
		p.waitReady(t, 60*time.Second)
	}
	names := []string{leaseDailyJobs, leaseHistory, leaseDispatch, leaseRegistry}
	alive := map[int]bool{0: true, 1: true}
	waitAllHeld(t, procs, alive, names, 30*time.Second)
	seq := 0
	report := func(p *hubProcess) (int, error) {
		seq++
		body := fmt.Sprintf(`{"customer_id":"pgrestart-%d","health":"ok"}`, seq)
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/report", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for i, p := range procs {
		if code, err := report(p); err != nil || code != http.StatusOK {
			t.Fatalf("replica %d before the restart: %d %v", i, code, err)
		}
	}

	for _, outage := range []struct {
		name string
		run  func()
	}{
		{"restart", func() { pgCtl(t, cluster, "restart") }},
		{"stop, 8 s down, start", func() {
			pgCtl(t, cluster, "stop")
			// Meanwhile the processes live, and say they are not ready.
			deadline := time.Now().Add(8 * time.Second)
			for time.Now().Before(deadline) {
				for i, p := range procs {
					if code, _ := getStatusErr(p.addr, "/livez"); code != http.StatusOK {
						t.Errorf("replica %d: /livez %d while the database is down", i, code)
					}
				}
				time.Sleep(500 * time.Millisecond) // the outage's length, not a wait for correctness
			}
			for i, p := range procs {
				if code, _ := getStatusErr(p.addr, "/readyz"); code != http.StatusServiceUnavailable {
					t.Errorf("replica %d: /readyz %d while the database is down, want 503", i, code)
				}
			}
			pgCtl(t, cluster, "start")
		}},
	} {
		began := time.Now()
		outage.run()
		for i, p := range procs {
			select {
			case <-p.exited:
				t.Fatalf("%s: replica %d exited: %v\n%s", outage.name, i, p.err, lastLines(logs[i].String(), 30))
			default:
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				code, _ := getStatusErr(p.addr, "/readyz")
				if code == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: replica %d not ready 30 s after the database came back (/readyz %d)\n%s",
						outage.name, i, code, lastLines(logs[i].String(), 30))
				}
				time.Sleep(100 * time.Millisecond) // polling another process
			}
			ready := time.Since(began)
			// A report may meet a connection the restart broke; the
			// client's retry (every controller retries) must succeed.
			var code int
			var err error
			for range 3 {
				if code, err = report(p); err == nil && code == http.StatusOK {
					break
				}
			}
			if err != nil || code != http.StatusOK {
				t.Errorf("%s: replica %d stores no report after the restart: %d %v", outage.name, i, code, err)
			}
			t.Logf("%s: replica %d ready again %s after the outage began", outage.name, i, ready.Round(time.Millisecond))
		}
		waitAllHeld(t, procs, alive, names, 30*time.Second)
	}
	for i, p := range procs {
		if err := p.terminate(t, 30*time.Second); err != nil {
			t.Errorf("replica %d's exit after SIGTERM: %v\n%s", i, err, lastLines(logs[i].String(), 20))
		}
		if strings.Contains(logs[i].String(), "panic") {
			t.Errorf("replica %d panicked:\n%s", i, lastLines(logs[i].String(), 40))
		}
	}
}

// getStatusErr GETs a path of addr and returns the status, 0 on no answer.
func getStatusErr(addr, path string) (int, error) {
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get("http://" + addr + path)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// pgCluster returns the "version name" of the local cluster listening on
// the DSN's port (pg_lsclusters).
func pgCluster(t *testing.T, dsn string) string {
	t.Helper()
	port := "5432"
	if u, err := url.Parse(dsn); err == nil && u.Port() != "" {
		port = u.Port()
	}
	out, err := exec.Command("pg_lsclusters", "-h").Output()
	if err != nil {
		t.Fatalf("pg_lsclusters: %v (the restart test needs a local Debian PostgreSQL cluster)", err)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == port {
			return f[0] + " " + f[1]
		}
	}
	t.Fatalf("no local cluster on port %s:\n%s", port, out)
	return ""
}

// pgCtl runs pg_ctlcluster VERSION NAME action.
func pgCtl(t *testing.T, cluster, action string) {
	t.Helper()
	args := append(strings.Fields(cluster), action)
	var out bytes.Buffer
	cmd := exec.Command("pg_ctlcluster", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("pg_ctlcluster %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}
