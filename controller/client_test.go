package controller_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/controller"
)

// fakeController records what it receives and behaves as told.
type fakeController struct {
	mu       sync.Mutex
	received []received
	// mode: "ok", "fail", "hang", "huge", "redirect"
	mode     string
	location string // for redirect
	live     string // the config GET /api/config answers
	release  chan struct{}
}

type received struct {
	method, path, auth, contentType string
	body                            string
}

func newFake() *fakeController {
	return &fakeController{mode: "ok", live: "customer:\n  id: kovacs\n", release: make(chan struct{})}
}

func (f *fakeController) setMode(mode, location string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.location = mode, location
}

func (f *fakeController) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.received...)
}

func (f *fakeController) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.received = append(f.received, received{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(body)})
	mode, location, live := f.mode, f.location, f.live
	f.mu.Unlock()
	switch mode {
	case "fail":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"error":"invalid config: backup.schedule %s"}`, strings.Repeat("x", 1000))
	case "hang":
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
	case "huge":
		chunk := []byte(strings.Repeat("a: b\n", 8<<10))
		for range 128 { // 5 MiB, far over the cap
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case "redirect":
		http.Redirect(w, r, location, http.StatusTemporaryRedirect)
	default:
		switch r.URL.Path {
		case "/api/config":
			io.WriteString(w, live)
		default:
			io.WriteString(w, `{"status":"applied"}`)
		}
	}
}

func insecureClient() *controller.Client {
	return controller.New(controller.Options{
		Policy:           controller.Policy{AllowInsecure: true},
		Timeout:          2 * time.Second,
		MaxResponseBytes: 64 << 10,
	})
}

func TestClientCalls(t *testing.T) {
	fake := newFake()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := insecureClient()
	ctx := context.Background()

	msg, err := c.Push(ctx, srv.URL+"/", "cust-key", []byte("a: 1\n"))
	if err != nil || msg != "applied" {
		t.Fatalf("push: %q %v", msg, err)
	}
	live, err := c.Pull(ctx, srv.URL, "cust-key")
	if err != nil || string(live) != fake.live {
		t.Fatalf("pull: %q %v", live, err)
	}
	if _, err := c.Update(ctx, srv.URL, "cust-key", "v0.8.1"); err != nil {
		t.Fatalf("update: %v", err)
	}
	got := fake.requests()
	want := []received{
		{"POST", "/api/config/apply", "Bearer cust-key", "application/yaml", "a: 1\n"},
		{"GET", "/api/config", "Bearer cust-key", "", ""},
		{"POST", "/api/update", "Bearer cust-key", "application/json", `{"version":"v0.8.1"}`},
	}
	if len(got) != len(want) {
		t.Fatalf("received %d requests: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestClientFailures(t *testing.T) {
	fake := newFake()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	defer close(fake.release)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	c := controller.New(controller.Options{
		Policy:           controller.Policy{AllowInsecure: true},
		Timeout:          time.Second,
		MaxResponseBytes: 64 << 10,
		// A resolver that finds nothing, without asking any DNS server.
		Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return nil, errors.New("no DNS in tests")
		}},
	})
	tests := []struct {
		name     string
		mode     string
		url      string
		wantKind string
		wantMsg  string
	}{
		{"non-2xx with message", "fail", srv.URL, controller.KindStatus, "answered HTTP 422: invalid config: backup.schedule xxx"},
		{"hang", "hang", srv.URL, controller.KindTimeout, "did not answer within 1s"},
		{"huge body", "huge", srv.URL, controller.KindTooLarge, "more than 65536 bytes"},
		{"refused", "ok", closedURL, controller.KindRefused, "refused the connection"},
		{"unresolvable", "ok", "http://no-such-controller.invalid", controller.KindUnreachable, "does not resolve"},
		{"not a URL", "ok", "::::", controller.KindInvalidURL, "not an absolute URL"},
		{"query in URL", "ok", srv.URL + "?x=1", controller.KindInvalidURL, "query"},
		{"credentials in URL", "ok", "http://u:p@example.com", controller.KindPolicy, "credentials"},
		{"ftp", "ok", "ftp://example.com", controller.KindPolicy, `scheme "ftp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.setMode(tt.mode, "")
			_, err := c.Pull(context.Background(), tt.url, "secret-key-123")
			var ce *controller.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *controller.Error", err, err)
			}
			if ce.Kind != tt.wantKind || !strings.Contains(ce.Message, tt.wantMsg) {
				t.Fatalf("got %s %q, want %s containing %q", ce.Kind, ce.Message, tt.wantKind, tt.wantMsg)
			}
			if strings.Contains(ce.Message, "secret-key-123") {
				t.Error("error leaks the API key")
			}
			if len(ce.Message) > 500 {
				t.Errorf("message not truncated: %d bytes", len(ce.Message))
			}
		})
	}
}

// TestClientPolicy checks the SSRF refusals with allow_insecure off. None
// of these sends a packet: literal addresses are refused before dialing and
// names are refused on their resolved address in the dialer.
func TestClientPolicy(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(newFake())
	defer tlsSrv.Close()
	_, port, _ := net.SplitHostPort(tlsSrv.Listener.Addr().String())
	c := controller.New(controller.Options{
		Timeout:   2 * time.Second,
		TLSConfig: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig,
	})
	for _, target := range []string{
		tlsSrv.URL,                      // https://127.0.0.1:port
		"https://localhost:" + port,     // a name resolving to loopback
		"http://controller.example.com", // plain http
		"https://10.1.2.3",
		"https://172.16.0.1",
		"https://192.168.1.10:8443",
		"https://169.254.169.254",
		"https://100.64.0.1",
		"https://0.0.0.0",
		"https://[::1]",
		"https://[::]",
		"https://[fe80::1]",
		"https://[fd00::1]",
		"https://[::ffff:127.0.0.1]",
		"https://[64:ff9b::a00:1]",
		"https://[2002:c0a8:101::1]",
		"https://[::127.0.0.1]", // IPv4-compatible (issue 16)
		"https://[::ffff:0:7f00:1]",
		"https://[64:ff9b:1::a00:1]",
		"https://[2001:0:7f00:1::f7f7:f7f7]",
		"https://255.255.255.255",
		"https://198.18.0.1",
	} {
		_, err := c.Pull(context.Background(), target, "k")
		var ce *controller.Error
		if !errors.As(err, &ce) || ce.Kind != controller.KindPolicy {
			t.Errorf("%s: err = %v, want a policy refusal", target, err)
		}
	}
}

func TestCheckAddrAllowsPublic(t *testing.T) {
	for _, s := range []string{"1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"} {
		if err := controller.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
}

// TestClientRedirects lets the first hop through (a policy that admits
// only the fake controller's own port) and checks that every redirect is
// vetted again: to another loopback port, and down to plain http.
func TestClientRedirects(t *testing.T) {
	fake := newFake()
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	first := netip.MustParseAddrPort(srv.Listener.Addr().String())
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect target was reached")
	}))
	defer target.Close()
	c := controller.New(controller.Options{
		Timeout:   2 * time.Second,
		TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone(),
		Policy: controller.Policy{CheckTarget: func(ap netip.AddrPort) error {
			if ap == first {
				return nil
			}
			return controller.CheckAddr(ap.Addr())
		}},
	})
	tlsTarget := "https://" + target.Listener.Addr().String() + "/api/config"
	for _, location := range []string{tlsTarget, target.URL + "/api/config", "https://localhost:" + fmt.Sprint(first.Port()+1) + "/x"} {
		fake.setMode("redirect", location)
		_, err := c.Pull(context.Background(), srv.URL, "k")
		var ce *controller.Error
		if !errors.As(err, &ce) || ce.Kind != controller.KindPolicy {
			t.Errorf("redirect to %s: err = %v, want a policy refusal", location, err)
		}
	}
	// The first hop itself is fine.
	fake.setMode("ok", "")
	if _, err := c.Pull(context.Background(), srv.URL, "k"); err != nil {
		t.Fatalf("allowed first hop: %v", err)
	}
}

func TestErrorAnswerNeverHoldsTheKey(t *testing.T) {
	const key = "customer-key-SENTINEL-0123456789abcdef"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		// Enough text before it that the message limit would cut the key.
		io.WriteString(w, strings.Repeat("y", 290)+" "+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := controller.New(controller.Options{Policy: controller.Policy{AllowInsecure: true}})
	_, err := c.Push(context.Background(), srv.URL, key, []byte("a: 1\n"))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), key[:8]) {
		t.Errorf("the error holds the key: %q", err)
	}
}

// A controller may echo the key encoded: in base64 (alone or inside the
// whole Authorization header), URL-escaped, in hex, or JSON-escaped in its
// error field. None of it may reach the error, nor the text of a success.
func TestAnswersNeverHoldTheKeyEncoded(t *testing.T) {
	const key = "customer-key-SENTINEL-0123456789abcdef/+="
	b64 := base64.StdEncoding.EncodeToString
	var unicodeEscaped strings.Builder
	for _, r := range key {
		fmt.Fprintf(&unicodeEscaped, `\u%04x`, r)
	}
	echoes := map[string]string{
		"base64":              b64([]byte(key)),
		"base64url raw":       base64.RawURLEncoding.EncodeToString([]byte(key)),
		"base64 header":       b64([]byte("Bearer " + key)),
		"base64 basic header": b64([]byte("user:" + key)),
		"query escaped":       url.QueryEscape(key),
		"path escaped":        url.PathEscape(key),
		"hex":                 hex.EncodeToString([]byte(key)),
	}
	for name, echo := range echoes {
		for _, status := range []int{http.StatusUnauthorized, http.StatusOK} {
			t.Run(fmt.Sprintf("%s/%d", name, status), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(status)
					fmt.Fprintf(w, `{"error":"bad key %s","status":"applied with %s"}`, echo, echo)
				}))
				defer srv.Close()
				c := controller.New(controller.Options{Policy: controller.Policy{AllowInsecure: true}})
				msg, err := c.Push(context.Background(), srv.URL, key, []byte("a: 1\n"))
				text := msg
				if err != nil {
					text = err.Error()
				}
				if strings.Contains(text, echo) || strings.Contains(text, key[:12]) || !strings.Contains(text, "[redacted]") {
					t.Errorf("answer %q", text)
				}
			})
		}
	}
	// JSON-escaped in the error field: the raw body does not hold the key,
	// the decoded message does.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"bad key %s"}`, unicodeEscaped.String())
	}))
	defer srv.Close()
	c := controller.New(controller.Options{Policy: controller.Policy{AllowInsecure: true}})
	_, err := c.Push(context.Background(), srv.URL, key, []byte("a: 1\n"))
	if err == nil || strings.Contains(err.Error(), key[:12]) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("unicode-escaped echo: %v", err)
	}
}

// fakeDNS is a resolver whose every answer to an A query is the next
// address of answers (the last one repeats), and AAAA queries find nothing:
// a name that rebinds between lookups. It speaks DNS over the in-memory
// stream the Go resolver dials.
type fakeDNS struct {
	mu      sync.Mutex
	answers []netip.Addr
	asked   int
}

func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		client, server := net.Pipe()
		go d.serve(server)
		return client, nil
	}}
}

func (d *fakeDNS) serve(conn net.Conn) {
	defer conn.Close()
	for {
		var size [2]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return
		}
		query := make([]byte, int(size[0])<<8|int(size[1]))
		if _, err := io.ReadFull(conn, query); err != nil || len(query) < 12 {
			return
		}
		// The question: the name's labels, then type and class.
		end := 12
		for end < len(query) && query[end] != 0 {
			end += int(query[end]) + 1
		}
		end += 5
		if end > len(query) {
			return
		}
		question, qtype := query[12:end], int(query[end-4])<<8|int(query[end-3])
		reply := append([]byte{query[0], query[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}, question...)
		if qtype == 1 { // A
			d.mu.Lock()
			addr := d.answers[min(d.asked, len(d.answers)-1)]
			d.asked++
			d.mu.Unlock()
			reply[7] = 1 // one answer
			ip := addr.As4()
			reply = append(reply, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4)
			reply = append(reply, ip[:]...)
		}
		if _, err := conn.Write(append([]byte{byte(len(reply) >> 8), byte(len(reply))}, reply...)); err != nil {
			return
		}
	}
}

// TestPolicyHoldsAgainstDNSRebinding: the policy is applied at dial time
// to the address a name resolved to, on every new connection. A name that
// first resolves to an allowed address and then rebinds to a refused one
// gets its first call through and the second refused before any packet
// reaches the refused address; a name resolving to loopback from the start
// is refused too.
func TestPolicyHoldsAgainstDNSRebinding(t *testing.T) {
	fake := newFake()
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	served := netip.MustParseAddrPort(srv.Listener.Addr().String()) // 127.0.0.1:port
	// A second listener on another loopback address, standing for the
	// hub's internal network: it must never be reached.
	internal, err := net.Listen("tcp", "127.0.0.2:"+fmt.Sprint(served.Port()))
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	reached := make(chan struct{}, 10)
	go func() {
		for {
			c, err := internal.Accept()
			if err != nil {
				return
			}
			reached <- struct{}{}
			c.Close()
		}
	}()
	defer internal.Close()

	dns := &fakeDNS{answers: []netip.Addr{served.Addr(), netip.MustParseAddr("127.0.0.2")}}
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsConfig.ServerName = "example.com" // the test certificate's name
	c := controller.New(controller.Options{
		Timeout:   2 * time.Second,
		TLSConfig: tlsConfig,
		Resolver:  dns.resolver(),
		// The test server stands for a public controller: only its own
		// address and port pass, everything else is judged as usual.
		Policy: controller.Policy{CheckTarget: func(ap netip.AddrPort) error {
			if ap == served {
				return nil
			}
			return controller.CheckAddr(ap.Addr())
		}},
	})
	target := fmt.Sprintf("https://controller.rebind.example:%d", served.Port())
	if _, err := c.Pull(context.Background(), target, "k"); err != nil {
		t.Fatalf("first call, resolved to the allowed address: %v", err)
	}
	c.CloseIdleConnections() // the next call dials again
	_, err = c.Pull(context.Background(), target, "k")
	var ce *controller.Error
	if !errors.As(err, &ce) || ce.Kind != controller.KindPolicy || !strings.Contains(ce.Message, "127.0.0.2") {
		t.Fatalf("after rebinding to 127.0.0.2: %v, want a policy refusal naming it", err)
	}
	select {
	case <-reached:
		t.Fatal("the refused address was connected to")
	default:
	}
	if got := len(fake.requests()); got != 1 {
		t.Errorf("the controller got %d requests, want 1", got)
	}
	dns.mu.Lock()
	asked := dns.asked
	dns.mu.Unlock()
	if asked < 2 {
		t.Errorf("the name was resolved %d times, want once per dial", asked)
	}

	// Without the test's exception, a name resolving to loopback is
	// refused at once, and so is one that resolves to a private address.
	for _, answer := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254"} {
		dns := &fakeDNS{answers: []netip.Addr{netip.MustParseAddr(answer)}}
		c := controller.New(controller.Options{Timeout: 2 * time.Second, TLSConfig: tlsConfig, Resolver: dns.resolver()})
		_, err := c.Pull(context.Background(), target, "k")
		if !errors.As(err, &ce) || ce.Kind != controller.KindPolicy {
			t.Errorf("name resolving to %s: %v, want a policy refusal", answer, err)
		}
	}
	if got := len(fake.requests()); got != 1 {
		t.Errorf("the controller got %d requests, want still 1", got)
	}
}
