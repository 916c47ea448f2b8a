package web

import (
	"bytes"
	"strconv"
	"time"

	hub "github.com/felhom/hub"
)

// The dashboard says why and since when, and shows nothing as fine that is
// not: the pieces of that which are not a section of their own.

// MailSetup is how the hub delivers mail, so that the pages never call a
// logged mail "sent" and say when mail goes nowhere.
type MailSetup struct {
	// Provider is the provider in use: log, resend or smtp.
	Provider string
	// OperatorEmail is notifications.operator_email.
	OperatorEmail string
}

// logsOnly reports whether mails are written to the log, not sent.
func (m *MailSetup) logsOnly() bool {
	return m != nil && (m.Provider == "" || m.Provider == "log")
}

// MailBanner is the warning every page carries while mail is not set up.
type MailBanner struct {
	// LogOnly: the log provider writes mails to the hub's log.
	LogOnly bool
	// NoOperator: notifications.operator_email is empty.
	NoOperator bool
}

// mailBanner returns the banner, or nil when mail is set up or the hub
// did not say how it sends mail.
func (s *Server) mailBanner() *MailBanner {
	if s.Mail == nil {
		return nil
	}
	b := &MailBanner{LogOnly: s.Mail.logsOnly(), NoOperator: s.Mail.OperatorEmail == ""}
	if !b.LogOnly && !b.NoOperator {
		return nil
	}
	return b
}

// RegistrySource tells how the registry watcher's reading goes
// (*registry.Watcher).
type RegistrySource interface {
	Attempts() hub.RegistryAttempts
}

// registryLatest says what the page knows of the registry's latest version
// when it has none: never read, or failed and retried when.
func (s *Server) registryLatest() string {
	if s.Registry == nil {
		return "unknown: the registry has not been read yet"
	}
	a := s.Registry.Attempts()
	switch {
	case !a.Configured:
		return "unknown: no registry image is configured (registry.image)"
	case a.LastAttempt.IsZero():
		return "unknown: the registry has not been read yet"
	case a.LastError != "":
		msg := "unknown: reading the registry failed " + ago(s.Now(), a.LastAttempt) + " (" + a.LastError + ")"
		if !a.NextAttempt.IsZero() {
			msg += "; it is tried again at " + formatTime(a.NextAttempt, s.Location)
		}
		return msg
	}
	return "unknown: the registry was read " + ago(s.Now(), a.LastAttempt) + " but lists no release"
}

// ReasonView is a customer's status with why and since when.
type ReasonView struct {
	Status hub.Status
	Code   hub.ReasonCode
	Text   string
	// HealthOKButDown: the status is DOWN from silence while the last
	// report said health ok; the page explains the difference.
	HealthOKButDown bool
	LastReportAt    string
	Silent          string
	DownAfter       string
}

// reasonView builds the status line of a customer.
func (s *Server) reasonView(c *hub.Customer, now time.Time) *ReasonView {
	r := c.Reason(now, s.Thresholds, s.Location)
	v := &ReasonView{Status: r.Status, Code: r.Code, Text: r.Text}
	if r.Status == hub.StatusDown && r.Code == hub.ReasonSilent && c.Latest != nil && c.Latest.Health == hub.HealthOK {
		v.HealthOKButDown = true
		v.LastReportAt = formatTime(c.Latest.ReceivedAt, s.Location)
		v.Silent = hub.HumanDuration(now.Sub(c.Latest.ReceivedAt))
		v.DownAfter = formatThreshold(c.EffectiveThresholds(s.Thresholds).Down)
	}
	return v
}

// Metric is one usage figure as a table cell shows it: "–" when the
// report did not give it readably, else coloured at the usage thresholds.
type Metric struct {
	Text  string
	Level string
}

// metric builds the cell of a percentage the report had (has) or not.
func metric(p float64, has bool) Metric {
	if !has {
		return Metric{Text: "–"}
	}
	return Metric{Text: formatPercent(p), Level: hub.UsageLevel(p)}
}

// staleAge returns the age of a silent node's latest report ("2 h old"),
// or "" while it reports on time.
func (s *Server) staleAge(c *hub.Customer, now time.Time) string {
	if c.Latest == nil {
		return ""
	}
	age := now.Sub(c.Latest.ReceivedAt)
	if age <= c.EffectiveThresholds(s.Thresholds).Stale {
		return ""
	}
	return hub.HumanDuration(age) + " old"
}

// bidiControls are the characters that reorder the text after them: a
// controller's string holding one could make a row read as something it
// is not. The dashboard shows each as U+FFFD instead.
var bidiControls = [][]byte{
	[]byte("\u202a"), []byte("\u202b"), []byte("\u202c"), []byte("\u202d"), []byte("\u202e"),
	[]byte("\u2066"), []byte("\u2067"), []byte("\u2068"), []byte("\u2069"),
}

// neutralizeBidi replaces the bidirectional controls in a rendered page.
// The templates themselves hold none, so every one came from data.
func neutralizeBidi(page []byte) []byte {
	if !bytes.Contains(page, []byte{0xe2, 0x80}) && !bytes.Contains(page, []byte{0xe2, 0x81}) {
		return page
	}
	for _, c := range bidiControls {
		page = bytes.ReplaceAll(page, c, []byte("\ufffd"))
	}
	return page
}

// plural writes a count with its noun: "1 error", "3 errors".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
