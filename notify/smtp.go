package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"

	hub "github.com/felhom/hub"
)

// SMTP security modes, as notifications.smtp.security spells them.
const (
	SecurityStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587)
	SecurityTLS      = "tls"      // implicit TLS from the first byte (port 465)
	SecurityNone     = "none"     // no encryption; for a relay on a trusted network
)

// SMTP sends mail to an SMTP server with the standard library.
type SMTP struct {
	Host string
	Port int
	// Username enables PLAIN auth when set. net/smtp refuses PLAIN over an
	// unencrypted connection except to localhost.
	Username string
	// Password never appears in an error or a log line.
	Password string
	Security string
	// TLSConfig overrides the TLS settings (tests trust their own CA here);
	// nil verifies the server against the system roots and Host.
	TLSConfig *tls.Config
	// HelloName is the name given in EHLO; "localhost" when empty.
	HelloName string
	Timeout   time.Duration
	// Now stamps the Date header.
	Now func() time.Time
}

// Name returns "smtp".
func (*SMTP) Name() string { return ProviderSMTP }

// Send delivers one mail over a fresh connection. SMTP 5xx replies are
// permanent; 4xx replies and network failures are retried. SMTP has no
// idempotency key: a crash between the server's acceptance and the outbox
// update can deliver a mail twice (it keeps the same Message-ID).
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return permanentf("smtp: from address %q is invalid", m.From)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return permanentf("smtp: recipient address is invalid")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg, err := buildMIME(m, from, to, now())
	if err != nil {
		return permanentf("smtp: build message: %v", err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return temporaryf(0, "smtp: connect to %s: %v", s.addr(), err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// Closing the connection when ctx ends unblocks any pending read.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := s.converse(conn, from.Address, to.Address, msg); err != nil {
		return s.redact(classifySMTP(err))
	}
	return nil
}

func (s *SMTP) addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLSConfig != nil {
		c := s.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = s.Host
		}
		return c
	}
	return &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	if s.Security == SecurityTLS {
		d := &tls.Dialer{Config: s.tlsConfig()}
		return d.DialContext(ctx, "tcp", s.addr())
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr())
}

// converse runs the SMTP dialogue on conn.
func (s *SMTP) converse(conn net.Conn, from, to string, msg []byte) error {
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	hello := s.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return err
	}
	if s.Security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return permanentf("smtp: server %s does not offer STARTTLS", s.addr())
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return err
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			var te *textproto.Error
			var ne net.Error
			if !errors.As(err, &te) && !errors.As(err, &ne) && !errors.Is(err, io.EOF) {
				// net/smtp refused locally, such as PLAIN over plain text:
				// a configuration problem that no retry fixes.
				return permanentf("smtp: auth: %v", err)
			}
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return c.Quit()
}

// redact removes the password, in any encoding, from the message of a
// classified error: a server may echo what it was sent (the AUTH PLAIN
// line holds the password in base64).
func (s *SMTP) redact(err error) error {
	var se *SendError
	if !errors.As(err, &se) {
		return err
	}
	msg := se.Error()
	if clean := hub.Redact(msg, s.Password); clean != msg {
		return &SendError{Permanent: se.Permanent, RetryAfter: se.RetryAfter, Err: errors.New(clean)}
	}
	return err
}

// classifySMTP makes 5xx replies permanent and everything else retryable.
func classifySMTP(err error) error {
	var se *SendError
	if errors.As(err, &se) {
		return err
	}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return &SendError{Permanent: true, Err: fmt.Errorf("smtp: %w", err)}
	}
	return &SendError{Err: fmt.Errorf("smtp: %w", err)}
}
