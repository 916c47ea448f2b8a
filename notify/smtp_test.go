package notify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/felhom/hub/notify"
)

const smtpPassword = "smtp-secret-Pa55word"

// received is one mail an smtpServer accepted.
type received struct {
	from, to   string
	user, pass string
	tls        bool
	data       []byte
}

// smtpServer is an in-process SMTP server on 127.0.0.1:0.
type smtpServer struct {
	mu   sync.Mutex
	mail []received
	// rcptErr rejects RCPT TO when set.
	rcptErr error
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mail...)
}

type smtpSession struct {
	srv  *smtpServer
	conn *smtp.Conn
	cur  received
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if pass != smtpPassword {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		s.cur.user, s.cur.pass = user, pass
		return nil
	}), nil
}
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.rcptErr != nil {
		return s.srv.rcptErr
	}
	s.cur.to = to
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.data = b
	s.srv.mu.Lock()
	s.srv.mail = append(s.srv.mail, s.cur)
	s.srv.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// startSMTP serves SMTP on 127.0.0.1:0; with cert it offers STARTTLS, or
// implicit TLS when implicit is set.
func startSMTP(t *testing.T, cert *tls.Certificate, implicit bool) (*smtpServer, int) {
	t.Helper()
	srv := &smtpServer{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: srv, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	var l net.Listener
	var err error
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	if implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { s.Close() })
	return srv, l.Addr().(*net.TCPAddr).Port
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

var smtpMessage = &notify.Message{
	From:    "Felhom <monitoring@felhom.eu>",
	To:      "kovacs.anna@example.hu",
	Subject: "Felhom: Nem sikerült a biztonsági mentés – ő, ű, á, é",
	Text: "Tisztelt Ügyfelünk!\n\nTájékoztatjuk, hogy adatairól a legutóbbi biztonsági mentés sajnos nem készült el. " +
		strings.Repeat("Árvíztűrő tükörfúrógép. ", 8) + "\n.\nÜdvözlettel:\nA Felhom csapata\n",
	HTML:           "<p>Tisztelt Ügyfelünk!</p><p>Árvíztűrő tükörfúrógép</p>",
	IdempotencyKey: "felhom-hub/event/42-1/customer/abc",
}

func TestSMTPDelivery(t *testing.T) {
	cert, pool := selfSigned(t)
	sent := time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)
	tests := []struct {
		name     string
		security string
		username string
		cert     bool
		implicit bool
	}{
		{name: "plain, no auth", security: notify.SecurityNone},
		{name: "starttls with auth", security: notify.SecurityStartTLS, username: "felhom", cert: true},
		{name: "implicit tls with auth", security: notify.SecurityTLS, username: "felhom", cert: true, implicit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *tls.Certificate
			if tt.cert {
				c = cert
			}
			srv, port := startSMTP(t, c, tt.implicit)
			p := &notify.SMTP{Host: "127.0.0.1", Port: port, Security: tt.security, Username: tt.username, Password: smtpPassword,
				TLSConfig: &tls.Config{RootCAs: pool}, Now: func() time.Time { return sent }}
			if err := p.Send(context.Background(), smtpMessage); err != nil {
				t.Fatal(err)
			}
			mails := srv.received()
			if len(mails) != 1 {
				t.Fatalf("server got %d mails", len(mails))
			}
			got := mails[0]
			if got.from != "monitoring@felhom.eu" || got.to != "kovacs.anna@example.hu" || got.tls != tt.cert {
				t.Fatalf("envelope %+v", got)
			}
			if tt.username != "" && (got.user != "felhom" || got.pass != smtpPassword) {
				t.Fatalf("auth %q", got.user)
			}
			checkMIME(t, got.data, sent)
		})
	}
}

// checkMIME parses a delivered message and checks its headers and parts.
func checkMIME(t *testing.T, data []byte, sent time.Time) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Felhom" || from[0].Address != "monitoring@felhom.eu" {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "kovacs.anna@example.hu" {
		t.Errorf("To %q", h.Get("To"))
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != smtpMessage.Subject {
		t.Errorf("Subject %q decodes to %q (%v)", h.Get("Subject"), subject, err)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?utf-8?") {
		t.Errorf("Subject is not RFC 2047 encoded: %q", h.Get("Subject"))
	}
	if d, err := h.Date(); err != nil || !d.Equal(sent) {
		t.Errorf("Date %q", h.Get("Date"))
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@felhom.eu>") {
		t.Errorf("Message-ID %q", id)
	}
	if h.Get("MIME-Version") != "1.0" || h.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers %v", h)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q", h.Get("Content-Type"))
	}
	for _, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d characters", len(line))
		}
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	wantParts := []struct{ contentType, body string }{
		{"text/plain; charset=utf-8", smtpMessage.Text},
		{"text/html; charset=utf-8", smtpMessage.HTML},
	}
	for _, want := range wantParts {
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatal(err)
		}
		if part.Header.Get("Content-Type") != want.contentType || part.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Errorf("part headers %v", part.Header)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want.body {
			t.Errorf("part %s:\n%q\nwant\n%q", want.contentType, got, want.body)
		}
	}
	if _, err := mr.NextRawPart(); !errors.Is(err, io.EOF) {
		t.Errorf("more parts: %v", err)
	}
}

func TestSMTPErrors(t *testing.T) {
	cert, pool := selfSigned(t)
	t.Run("5xx recipient is permanent", func(t *testing.T) {
		srv, port := startSMTP(t, nil, false)
		srv.rcptErr = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		err := (&notify.SMTP{Host: "127.0.0.1", Port: port, Security: notify.SecurityNone}).Send(context.Background(), smtpMessage)
		if err == nil || !notify.IsPermanent(err) || !strings.Contains(err.Error(), "550") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("4xx recipient is retried", func(t *testing.T) {
		srv, port := startSMTP(t, nil, false)
		srv.rcptErr = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		err := (&notify.SMTP{Host: "127.0.0.1", Port: port, Security: notify.SecurityNone}).Send(context.Background(), smtpMessage)
		if err == nil || notify.IsPermanent(err) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("bad password is permanent and not shown", func(t *testing.T) {
		_, port := startSMTP(t, cert, false)
		p := &notify.SMTP{Host: "127.0.0.1", Port: port, Security: notify.SecurityStartTLS, Username: "felhom",
			Password: "wrong-" + smtpPassword, TLSConfig: &tls.Config{RootCAs: pool}}
		err := p.Send(context.Background(), smtpMessage)
		if err == nil || !notify.IsPermanent(err) || strings.Contains(err.Error(), smtpPassword) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("starttls missing is permanent", func(t *testing.T) {
		_, port := startSMTP(t, nil, false)
		err := (&notify.SMTP{Host: "127.0.0.1", Port: port, Security: notify.SecurityStartTLS}).Send(context.Background(), smtpMessage)
		if err == nil || !notify.IsPermanent(err) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("untrusted certificate is retried", func(t *testing.T) {
		_, port := startSMTP(t, cert, false)
		err := (&notify.SMTP{Host: "127.0.0.1", Port: port, Security: notify.SecurityStartTLS}).Send(context.Background(), smtpMessage)
		if err == nil || notify.IsPermanent(err) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("connection refused is retried", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		port, _ := strconv.Atoi(strings.TrimPrefix(l.Addr().String(), "127.0.0.1:"))
		l.Close()
		err := (&notify.SMTP{Host: "127.0.0.1", Port: port, Security: notify.SecurityNone}).Send(context.Background(), smtpMessage)
		if err == nil || notify.IsPermanent(err) {
			t.Fatalf("err %v", err)
		}
	})
}
