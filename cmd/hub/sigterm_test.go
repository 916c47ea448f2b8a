package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMFinishesInFlightRequests starts reports whose bodies the hub
// is already reading, sends SIGTERM, and only then sends the rest of the
// bodies: every report is answered 200 and stored, new connections are
// refused, and the hub exits 0.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	bin := buildHub(t)
	dataDir := t.TempDir()
	const key = "sigterm-test-global-key-0123456789"
	env := hubEnv{
		"HUB_SERVER_LISTEN":      freeAddr(t),
		"HUB_SERVER_DATA_DIR":    dataDir,
		"HUB_API_REPORT_API_KEY": key,
	}
	logs := &syncBuffer{}
	proc := startHub(t, bin, env, logs)

	const inFlight = 4
	type pending struct {
		conn net.Conn
		br   *bufio.Reader
		body string
	}
	var reqs []pending
	for i := range inFlight {
		conn, err := net.Dial("tcp", proc.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := fmt.Sprintf(`{"customer_id":"sigterm-%d","health":"ok"}`, i)
		head := fmt.Sprintf("POST /api/v1/report HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", key, len(body))
		if _, err := conn.Write([]byte(head)); err != nil {
			t.Fatal(err)
		}
		// The hub says "100 Continue" when the handler starts reading the
		// body: the request is in flight.
		br := bufio.NewReader(conn)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := br.ReadString('\n')
		if err != nil || !strings.Contains(line, "100 Continue") {
			t.Fatalf("no 100 Continue: %q %v", line, err)
		}
		if _, err := br.ReadString('\n'); err != nil { // the blank line after it
			t.Fatal(err)
		}
		reqs = append(reqs, pending{conn, br, body})
	}

	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener closes: new clients are refused while the old ones are
	// still being served.
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", proc.addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the hub still accepts connections 10 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond) // polling a process event, bounded by the deadline
	}

	for i, r := range reqs {
		if _, err := io.WriteString(r.conn, r.body); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp, err := http.ReadResponse(r.br, nil)
		if err != nil {
			t.Fatalf("request %d: no answer after SIGTERM: %v", i, err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("request %d in flight at SIGTERM: %d %s", i, resp.StatusCode, answer)
		}
	}
	select {
	case <-proc.exited:
		if proc.err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", proc.err, lastLines(logs.String(), 20))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the hub did not exit within 30 s of SIGTERM")
	}
	db := openDB(t, dataDir)
	integrityCheck(t, db)
	var stored int
	if err := db.QueryRow(`SELECT count(*) FROM reports WHERE customer_id LIKE 'sigterm-%'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != inFlight {
		t.Errorf("%d of the %d in-flight reports stored", stored, inFlight)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Error("the hub did not log its shutdown")
	}
}
