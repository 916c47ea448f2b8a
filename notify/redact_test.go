package notify_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/notify"
)

// echoKey is a Resend key a hostile or broken provider echoes back.
const echoKey = "re_SENTINEL_4f1c2a9be0d3576812aa9c0b/+="

// keyEchoes are the forms in which the provider echoes the key.
var keyEchoes = []func(string) string{
	func(k string) string { return base64.StdEncoding.EncodeToString([]byte(k)) },
	func(k string) string { return base64.RawURLEncoding.EncodeToString([]byte(k)) },
	func(k string) string { return base64.StdEncoding.EncodeToString([]byte("Bearer " + k)) },
	url.QueryEscape,
	url.PathEscape,
	func(k string) string { return hex.EncodeToString([]byte(k)) },
}

// keyLeak names the first form of key text holds, or "".
func keyLeak(text, key string) string {
	for i := 0; i+8 <= len(key); i++ {
		if strings.Contains(text, key[i:i+8]) {
			return key[i : i+8]
		}
	}
	for _, echo := range keyEchoes {
		if e := echo(key); strings.Contains(text, e) {
			return e
		}
	}
	// The key inside "Bearer <key>" in base64: its middle, whatever the
	// alignment.
	header := base64.StdEncoding.EncodeToString([]byte("Bearer " + key))
	if mid := header[12 : len(header)-12]; strings.Contains(text, mid) {
		return mid
	}
	return ""
}

// syncBuffer is a log sink the sender's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestResendKeyEchoedEncodedIsRedacted: a Resend that answers with the API
// key base64-, URL- or hex-encoded in its error leaves it in no returned
// error, no log line and no notification_log error, retried or failed.
func TestResendKeyEchoedEncodedIsRedacted(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := requests
		requests++
		mu.Unlock()
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		status := http.StatusInternalServerError // retried
		if n%3 == 2 {
			status = http.StatusUnprocessableEntity // failed for good
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"name":"validation_error","message":"API key %s is not valid"}`, keyEchoes[n%len(keyEchoes)](key))
	}))
	defer srv.Close()

	// Returned errors, one per echo.
	resend := notify.NewResend(echoKey, srv.URL)
	for i := range keyEchoes {
		err := resend.Send(context.Background(), &notify.Message{To: "a@example.hu"})
		if err == nil || !strings.Contains(err.Error(), "[redacted]") {
			t.Fatalf("echo %d: error %v shows nothing redacted", i, err)
		}
		if leak := keyLeak(err.Error(), echoKey); leak != "" {
			t.Errorf("echo %d: the error %q holds %q", i, err, leak)
		}
	}

	// Through the outbox: logs and notification_log.
	h := newHarness(t)
	logs := &syncBuffer{}
	s := notify.NewSender(h.db, notify.NewResend(echoKey, srv.URL), "Felhom <monitoring@felhom.eu>", 5,
		slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s.Now = h.clock.Now
	s.Jitter = func() float64 { return 0.5 }
	h.postEvents("backup_failed", "disk_space_critical", "tunnel_down")
	h.drain(s)
	rows, err := h.db.FindNotifications(context.Background(), hub.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range rows {
		if r.Status != hub.NotificationFailed {
			continue
		}
		failed++
		if !strings.Contains(r.Error, "[redacted]") {
			t.Errorf("notification_log error %q shows nothing redacted", r.Error)
		}
		if leak := keyLeak(r.Error, echoKey); leak != "" {
			t.Errorf("notification_log error %q holds %q", r.Error, leak)
		}
	}
	if failed == 0 {
		t.Fatalf("no failed notification among %d rows", len(rows))
	}
	if !strings.Contains(logs.String(), "[redacted]") {
		t.Errorf("the log shows no provider error:\n%s", logs.String())
	}
	if leak := keyLeak(logs.String(), echoKey); leak != "" {
		t.Errorf("the log holds %q:\n%s", leak, logs.String())
	}
}

// echoAuthSession is an SMTP session that refuses every login with a reply
// echoing the AUTH PLAIN response it got, base64 as sent.
type echoAuthSession struct{}

func (echoAuthSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (echoAuthSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		sent := base64.StdEncoding.EncodeToString([]byte(identity + "\x00" + user + "\x00" + pass))
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8},
			Message: "authentication failed for " + sent + " (" + url.QueryEscape(pass) + ")"}
	}), nil
}
func (echoAuthSession) Mail(string, *smtp.MailOptions) error { return nil }
func (echoAuthSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (echoAuthSession) Data(io.Reader) error                 { return nil }
func (echoAuthSession) Reset()                               {}
func (echoAuthSession) Logout() error                        { return nil }

// TestSMTPPasswordEchoedIsRedacted: an SMTP server that echoes the AUTH
// PLAIN line (the password in base64, after the user name) and the
// password URL-escaped leaves neither in the error.
func TestSMTPPasswordEchoedIsRedacted(t *testing.T) {
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return echoAuthSession{}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { s.Close() })
	const password = "smtp p@ss/word+SENTINEL"
	for _, user := range []string{"f", "fe", "felhom"} { // every alignment of the password
		p := &notify.SMTP{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Security: notify.SecurityNone,
			Username: user, Password: password}
		err := p.Send(context.Background(), smtpMessage)
		if err == nil || !notify.IsPermanent(err) || !strings.Contains(err.Error(), "535") {
			t.Fatalf("user %q: err %v, want a permanent 535", user, err)
		}
		plain := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
		if strings.Contains(err.Error(), plain[len(plain)/2-6:len(plain)/2+6]) ||
			strings.Contains(err.Error(), url.QueryEscape(password)) || strings.Contains(err.Error(), "SENTINEL") {
			t.Errorf("user %q: the error holds the password: %v", user, err)
		}
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("user %q: error %v shows nothing redacted", user, err)
		}
	}
}
