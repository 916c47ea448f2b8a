package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// buildMIME writes m as an RFC 5322 message: UTF-8 headers encoded per
// RFC 2047 and a multipart/alternative body of quoted-printable text and
// HTML parts. The Message-ID derives from the idempotency key, so every
// attempt of one mail carries the same id.
func buildMIME(m *Message, from *mail.Address, to *mail.Address, now time.Time) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	parts := []struct{ contentType, text string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	}
	for _, p := range parts {
		if p.text == "" {
			continue
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ReplaceAll(p.text, "\r\n", "\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}

	var msg bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&msg, "%s: %s\r\n", name, value) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeHeader(m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(m, from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	// RFC 3834: automatic mail, so that auto-responders stay quiet.
	header("Auto-Submitted", "auto-generated")
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// encodeHeader encodes a header value per RFC 2047 when it is not plain
// ASCII, folding between encoded words so that no line is overlong.
func encodeHeader(s string) string {
	enc := mime.QEncoding.Encode("utf-8", headerText(s))
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

// messageID returns a Message-ID stable for the mail's idempotency key.
func messageID(m *Message, fromAddr string) string {
	domain := "felhom-hub.invalid"
	if _, d, ok := strings.Cut(fromAddr, "@"); ok && d != "" {
		domain = d
	}
	seed := m.IdempotencyKey
	if seed == "" {
		seed = m.To + "\x00" + m.Subject + "\x00" + m.Text
	}
	sum := sha256.Sum256([]byte(seed))
	return "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}
