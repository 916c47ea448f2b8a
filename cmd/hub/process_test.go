package main

// Helpers that run the real hub binary as a child process, for the tests
// that kill it, stop it or measure its memory.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if hubBinary.path != "" {
		os.RemoveAll(filepath.Dir(hubBinary.path))
	}
	os.Exit(code)
}

var hubBinary struct {
	once sync.Once
	path string
	err  error
}

// buildHub builds this command once per test binary, without the race
// detector (its memory figures are the real binary's), into a temp dir.
func buildHub(t *testing.T) string {
	t.Helper()
	hubBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "hub-binary-")
		if err != nil {
			hubBinary.err = err
			return
		}
		hubBinary.path = filepath.Join(dir, "hub")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(build.Default.GOROOT, "bin", "go")
		}
		cmd := exec.Command(goTool, "build", "-o", hubBinary.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			hubBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if hubBinary.err != nil {
		t.Fatal(hubBinary.err)
	}
	return hubBinary.path
}

// freeAddr returns a loopback address nobody listens on, so that a hub can
// be restarted on the same address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for a child's output and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// hubEnv is the environment of a hub under test: no registry, no drain on
// SIGTERM, and the settings given as HUB_* variables (later ones win).
type hubEnv map[string]string

// hubProcess is one run of the hub binary.
type hubProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

// startHub starts the binary with env, logging to logs, and waits until
// /healthz answers 200.
func startHub(t *testing.T, bin string, env hubEnv, logs *syncBuffer) *hubProcess {
	t.Helper()
	p := spawnHub(t, bin, env, logs)
	p.waitReady(t, 30*time.Second)
	return p
}

// spawnHub starts the binary and returns at once.
func spawnHub(t *testing.T, bin string, env hubEnv, logs *syncBuffer) *hubProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	// No drain on SIGTERM unless the test asks for one: the tests that
	// stop the hub time its shutdown, and the drain has tests of its own.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HUB_REGISTRY_IMAGE=", "HUB_SERVER_DRAIN_PERIOD=0s"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &hubProcess{cmd: cmd, addr: env["HUB_SERVER_LISTEN"], exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill(t) })
	return p
}

// waitReady polls /healthz until it answers 200, the process exits or the
// deadline passes.
func (p *hubProcess) waitReady(t *testing.T, limit time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("the hub exited while starting: %v", p.err)
		case <-tick.C:
		}
	}
	t.Fatalf("the hub did not answer /healthz within %s", limit)
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *hubProcess) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// terminate sends SIGTERM and returns the exit status, failing after limit.
func (p *hubProcess) terminate(t *testing.T, limit time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		return p.err
	case <-time.After(limit):
		t.Fatalf("the hub did not stop within %s of SIGTERM", limit)
		return nil
	}
}

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func (p *hubProcess) peakRSS(t *testing.T) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// openDB opens a stopped hub's database for checks.
func openDB(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "hub.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// integrityCheck runs PRAGMA integrity_check and foreign_key_check.
func integrityCheck(t *testing.T, db *sql.DB) {
	t.Helper()
	var result string
	if err := db.QueryRowContext(context.Background(), `PRAGMA integrity_check`).Scan(&result); err != nil {
		t.Fatal(err)
	}
	if result != "ok" {
		t.Errorf("PRAGMA integrity_check: %s", result)
	}
	rows, err := db.QueryContext(context.Background(), `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check found dangling references")
	}
}
