package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// postReport posts a small report and returns the status, the Retry-After
// header and the error message.
func postReport(t *testing.T, addr, key, customer string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/report", bytes.NewReader([]byte(`{"customer_id":"`+customer+`"}`)))
	req.Header.Set("Authorization", "Bearer "+key)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct{ Error string }
	_ = json.Unmarshal(raw, &e)
	return resp.StatusCode, resp.Header.Get("Retry-After"), e.Error
}

func unavailableHub(t *testing.T) (*hubProcess, string, string) {
	t.Helper()
	bin := buildHub(t)
	dataDir := t.TempDir()
	const key = "unavailable-test-global-key-0123456789"
	proc := startHub(t, bin, hubEnv{
		"HUB_SERVER_LISTEN":      freeAddr(t),
		"HUB_SERVER_DATA_DIR":    dataDir,
		"HUB_API_REPORT_API_KEY": key,
	}, &syncBuffer{})
	if status, _, msg := postReport(t, proc.addr, key, "before-trouble"); status != http.StatusOK {
		t.Fatalf("first report: %d %s", status, msg)
	}
	return proc, dataDir, key
}

// TestLockedDatabaseGives503ThenRecovers holds the database's write lock
// from another process, as a backup tool or a stuck writer might: reports
// get 503 with Retry-After once busy_timeout passes, reads go on, and the
// hub takes reports again as soon as the lock is gone.
func TestLockedDatabaseGives503ThenRecovers(t *testing.T) {
	proc, dataDir, key := unavailableHub(t)
	ctx := context.Background()
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "hub.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	status, retry, msg := postReport(t, proc.addr, key, "during-lock")
	if status != http.StatusServiceUnavailable || retry == "" {
		t.Errorf("report under a held lock: %d, Retry-After %q, %q; want 503 with Retry-After", status, retry, msg)
	}
	resp, err := http.Get("http://" + proc.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz under a held write lock: %d (reads must go on)", resp.StatusCode)
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if status, _, msg := postReport(t, proc.addr, key, "after-lock"); status != http.StatusOK {
		t.Errorf("report after the lock is gone: %d %s", status, msg)
	}
}

// setFileSizeLimit sets the RLIMIT_FSIZE of process pid: no file it writes
// may grow past limit bytes, which is what a full disk looks like to it.
func setFileSizeLimit(t *testing.T, pid int, limit uint64) {
	t.Helper()
	lim := syscall.Rlimit{Cur: limit, Max: ^uint64(0)}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_FSIZE,
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0); errno != 0 {
		t.Fatalf("prlimit: %v", errno)
	}
}

// TestFullDiskGives503ThenRecovers makes every file write of the running
// hub fail as on a full disk: reports get 503 with Retry-After (never 500),
// the hub keeps running and answering, and once there is room again it
// takes reports without a restart.
func TestFullDiskGives503ThenRecovers(t *testing.T) {
	proc, dataDir, key := unavailableHub(t)
	pid := proc.cmd.Process.Pid
	setFileSizeLimit(t, pid, 0)
	for i := range 3 {
		status, retry, msg := postReport(t, proc.addr, key, "disk-full")
		if status != http.StatusServiceUnavailable || retry == "" {
			t.Errorf("report %d on a full disk: %d, Retry-After %q, %q; want 503 with Retry-After", i, status, retry, msg)
		}
	}
	select {
	case <-proc.exited:
		t.Fatalf("the hub died on a full disk: %v", proc.err)
	default:
	}
	setFileSizeLimit(t, pid, ^uint64(0))
	if status, _, msg := postReport(t, proc.addr, key, "disk-freed"); status != http.StatusOK {
		t.Fatalf("report once the disk has room: %d %s", status, msg)
	}
	if err := proc.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit: %v", err)
	}
	db := openDB(t, dataDir)
	integrityCheck(t, db)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM reports WHERE customer_id = 'disk-full'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d reports answered 503 were stored", n)
	}
}
