package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// DefaultResendBaseURL is Resend's API.
const DefaultResendBaseURL = "https://api.resend.com"

// Resend sends mail through Resend's HTTP API (POST /emails).
type Resend struct {
	// APIKey is sent as the Bearer token; it never appears in an error.
	APIKey  string
	BaseURL string
	Client  *http.Client
}

// NewResend returns a Resend provider with a bounded HTTP client.
func NewResend(apiKey, baseURL string) *Resend {
	if baseURL == "" {
		baseURL = DefaultResendBaseURL
	}
	return &Resend{APIKey: apiKey, BaseURL: baseURL, Client: &http.Client{Timeout: 30 * time.Second}}
}

// Name returns "resend".
func (*Resend) Name() string { return ProviderResend }

// resendEmail is the body of POST /emails.
type resendEmail struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html,omitempty"`
}

// resendError is Resend's error body.
type resendError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Send posts the mail with its idempotency key, so that Resend delivers a
// retried mail once. 429 and 5xx answers and network failures are
// retryable; other 4xx answers are permanent.
func (r *Resend) Send(ctx context.Context, m *Message) error {
	body, err := json.Marshal(resendEmail{From: m.From, To: []string{m.To}, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
	if err != nil {
		return permanentf("resend: encode mail: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.BaseURL, "/")+"/emails", bytes.NewReader(body))
	if err != nil {
		return permanentf("resend: bad base URL")
	}
	req.Header.Set("Authorization", "Bearer "+r.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "felhom-hub")
	if m.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		// url.Error carries the method and URL, never the headers.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return temporaryf(0, "resend: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	var re resendError
	_ = json.Unmarshal(answer, &re)
	detail := strings.TrimSpace(re.Name + ": " + re.Message)
	if re.Name == "" && re.Message == "" {
		detail = http.StatusText(resp.StatusCode)
	}
	// Redacted before it is cut short, so that no part of the key is left.
	detail = truncate(headerText(r.redact(detail)), 300)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return temporaryf(parseRetryAfter(resp.Header.Get("Retry-After")), "resend: HTTP %d %s", resp.StatusCode, detail)
	case resp.StatusCode == http.StatusConflict && re.Name == "concurrent_idempotent_requests":
		// The first request with this key is still in flight at Resend.
		return temporaryf(0, "resend: HTTP %d %s", resp.StatusCode, detail)
	}
	return permanentf("resend: HTTP %d %s", resp.StatusCode, detail)
}

// redact removes the API key, in any encoding, should an answer ever echo
// it.
func (r *Resend) redact(s string) string { return hub.Redact(s, r.APIKey) }

// parseRetryAfter reads a Retry-After header in seconds; 0 when absent or
// not a number of seconds.
func parseRetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
