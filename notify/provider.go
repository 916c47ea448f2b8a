// Package notify turns stored events into mails: a pure decision per
// channel (operator in English, customer in Hungarian), rendered from
// embedded templates and queued in the store's durable outbox in the
// transaction that takes the event off the dispatch queue; a Sender then
// delivers the outbox through a Provider (Resend, SMTP or the log) with
// retries and back-off.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message is one mail to deliver.
type Message struct {
	From    string
	To      string
	Subject string
	Text    string
	HTML    string
	// IdempotencyKey is the same on every attempt of one mail, so that a
	// provider that supports it never delivers the mail twice.
	IdempotencyKey string
}

// Provider delivers mail. An error is retried unless it is a permanent
// *SendError.
type Provider interface {
	// Name is the provider's name in logs: resend, smtp or log.
	Name() string
	Send(ctx context.Context, m *Message) error
}

// The providers.
var (
	_ Provider = (*Resend)(nil)
	_ Provider = (*SMTP)(nil)
	_ Provider = (*Log)(nil)
)

// Provider names, as notifications.provider spells them.
const (
	ProviderLog    = "log"
	ProviderResend = "resend"
	ProviderSMTP   = "smtp"
)

// ChooseProvider returns the provider to use: the configured one, or when
// none is configured resend if a Resend key is set, smtp if an SMTP host
// is set, else log.
func ChooseProvider(configured, resendAPIKey, smtpHost string) string {
	switch {
	case configured != "":
		return configured
	case resendAPIKey != "":
		return ProviderResend
	case smtpHost != "":
		return ProviderSMTP
	}
	return ProviderLog
}

// SendError is a classified delivery failure. Its message never holds a
// secret.
type SendError struct {
	// Permanent errors are not retried (a bad address, a rejected request).
	Permanent bool
	// RetryAfter is the provider's hint for the next attempt; 0 for none.
	RetryAfter time.Duration
	Err        error
}

// Error returns the underlying error's message.
func (e *SendError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// permanentf returns a permanent *SendError.
func permanentf(format string, args ...any) error {
	return &SendError{Permanent: true, Err: fmt.Errorf(format, args...)}
}

// temporaryf returns a retryable *SendError with a retry hint.
func temporaryf(retryAfter time.Duration, format string, args ...any) error {
	return &SendError{RetryAfter: retryAfter, Err: fmt.Errorf(format, args...)}
}

// IsPermanent reports whether err must not be retried. Unclassified errors
// (network failures, time-outs) are retried.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// retryAfter returns err's retry hint, or 0.
func retryAfter(err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}
