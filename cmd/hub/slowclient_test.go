package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/api"
	"github.com/felhom/hub/config"
	"golang.org/x/crypto/bcrypt"
)

// rawConn opens a TCP connection to the hub.
func rawConn(t *testing.T, m *Main) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// dribble writes data one byte per interval until it is all sent or the
// hub closes the connection; it returns the bytes sent.
func dribble(conn net.Conn, data string, interval time.Duration) <-chan int {
	sent := make(chan int, 1)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := range len(data) {
			if _, err := conn.Write([]byte{data[i]}); err != nil {
				sent <- i
				return
			}
			<-tick.C
		}
		sent <- len(data)
	}()
	return sent
}

// waitClosed reads until the hub closes the connection, and returns what
// it answered and how long that took; it fails after limit.
func waitClosed(t *testing.T, conn net.Conn, limit time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(limit))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the hub kept the connection open for %s", limit)
	}
	return string(got), time.Since(start)
}

func TestSlowlorisHeadersAreCutOff(t *testing.T) {
	const headerTimeout = 300 * time.Millisecond
	m := MustRunMain(t, func(c *config.Config) { c.Server.ReadHeaderTimeout = config.Duration(headerTimeout) })
	request := "POST /api/v1/report HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer " + m.GlobalKey +
		"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	// Many connections at once, each sending a byte every 50 ms: at that
	// pace the headers would take seconds; each is cut off.
	const clients = 20
	type result struct {
		answer  string
		elapsed time.Duration
		sent    int
	}
	results := make(chan result, clients)
	for range clients {
		conn := rawConn(t, m)
		sent := dribble(conn, request, 50*time.Millisecond)
		go func() {
			answer, elapsed := waitClosed(t, conn, 10*time.Second)
			results <- result{answer, elapsed, <-sent}
		}()
	}
	for range clients {
		r := <-results
		if r.elapsed > headerTimeout+2*time.Second {
			t.Errorf("cut off after %s, want about %s", r.elapsed, headerTimeout)
		}
		if r.sent == len(request) || strings.Contains(r.answer, "200 OK") {
			t.Errorf("a slowloris client got its request through (%d bytes sent): %q", r.sent, r.answer)
		}
	}
	// The hub still serves everyone else.
	resp, err := http.Get("http://" + m.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz after the slowloris: %d", resp.StatusCode)
	}
}

func TestSlowBodyIsCutOff(t *testing.T) {
	const readTimeout = 500 * time.Millisecond
	m := MustRunMain(t, func(c *config.Config) { c.Server.ReadTimeout = config.Duration(readTimeout) })
	conn := rawConn(t, m)
	headers := "POST /api/v1/report HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer " + m.GlobalKey +
		"\r\nContent-Type: application/json\r\nContent-Length: 4194304\r\n\r\n"
	if _, err := conn.Write([]byte(headers)); err != nil {
		t.Fatal(err)
	}
	sent := dribble(conn, `{"customer_id":"slow-node","pad":"`+strings.Repeat("x", 200), 20*time.Millisecond)
	answer, elapsed := waitClosed(t, conn, 10*time.Second)
	<-sent
	if elapsed > readTimeout+2*time.Second {
		t.Errorf("slow body cut off after %s, want about %s", elapsed, readTimeout)
	}
	if strings.Contains(answer, "200 OK") {
		t.Errorf("the slow body was accepted: %q", answer)
	}
	assertReportAccepted(t, m)
}

func TestIdleConnectionsAreClosed(t *testing.T) {
	const idle = 300 * time.Millisecond
	m := MustRunMain(t, func(c *config.Config) { c.Server.IdleTimeout = config.Duration(idle) })
	conn := rawConn(t, m)
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(10 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle keep-alive connection: %v, want EOF", err)
	}
	if elapsed := time.Since(start); elapsed > idle+2*time.Second {
		t.Errorf("idle connection closed after %s, want about %s", elapsed, idle)
	}
}

// TestSlowLoginBodiesDoNotStarveTheAPI is the regression test of a
// finding: one body budget guarded every path, and the login form is read
// before anyone is authenticated, so a dozen connections that declared
// 4 MiB bodies for POST /login and sent them slowly held the whole budget
// for the read timeout: every node's report got 503 meanwhile.
func TestSlowLoginBodiesDoNotStarveTheAPI(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	m := MustRunMain(t, func(c *config.Config) { c.Auth.PasswordHash = string(hash) })
	const attackers = 16 // 64 MiB declared: more than the whole budget
	for range attackers {
		conn := rawConn(t, m)
		if _, err := conn.Write([]byte("POST /login HTTP/1.1\r\nHost: hub\r\n" +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4194304\r\n\r\npassword=")); err != nil {
			t.Fatal(err)
		}
	}
	// A few round trips give the hub time to take the attackers in.
	for range 3 {
		resp, err := http.Get("http://" + m.Addr() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	start := time.Now()
	assertReportAccepted(t, m)
	if elapsed := time.Since(start); elapsed > api.DefaultBodyWait/2 {
		t.Errorf("a report waited %s behind slow login bodies", elapsed)
	}
	// Each weighs what the login form may read (64 KiB), not what it
	// declared: the operator still gets in.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm("http://"+m.Addr()+"/login", url.Values{"password": {"correct horse"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("operator login during the attack: %d, want 303", resp.StatusCode)
	}
}

// assertReportAccepted posts a small report under the global key.
func assertReportAccepted(t *testing.T, m *Main) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+m.Addr()+"/api/v1/report", bytes.NewReader([]byte(`{"customer_id":"kovacs-csalad"}`)))
	req.Header.Set("Authorization", "Bearer "+m.GlobalKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
}
