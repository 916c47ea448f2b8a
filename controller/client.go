// Package controller is the hub's client for the calls it makes to a
// customer's controller: push a config, pull the live one, trigger an
// update. It refuses targets inside networks the hub must not reach.
package controller

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode"

	hub "github.com/felhom/hub"
)

// Error kinds.
const (
	KindPolicy      = "policy"      // the target is refused before any connection
	KindInvalidURL  = "invalid_url" // the controller URL cannot be used
	KindUnreachable = "unreachable" // DNS, routing, TLS and other network failures
	KindRefused     = "refused"     // the connection was refused
	KindTimeout     = "timeout"     // no answer within the time-out
	KindStatus      = "status"      // the controller answered non-2xx
	KindTooLarge    = "too_large"   // the answer is over the size cap
	KindRedirect    = "redirect"    // too many redirects
)

// Error is a failed call, with a message fit for the operator. It never
// holds the API key.
type Error struct {
	Kind string
	// Status is the controller's HTTP status for KindStatus.
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// maxMessage bounds how much of a controller's error text is shown.
const maxMessage = 300

// Client calls controllers. Build it with New.
type Client struct {
	policy   Policy
	timeout  time.Duration
	maxBytes int64
	http     *http.Client
}

// Options configure a Client.
type Options struct {
	Policy Policy
	// Timeout bounds a whole call, redirects included.
	Timeout time.Duration
	// MaxResponseBytes caps the body read from a controller.
	MaxResponseBytes int64
	// TLSConfig is for tests that trust a test certificate.
	TLSConfig *tls.Config
	// Resolver looks names up; nil is the system's.
	Resolver *net.Resolver
}

// maxRedirects bounds redirect chains.
const maxRedirects = 5

// New returns a Client enforcing opts.Policy on every connection.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 1 << 20
	}
	c := &Client{policy: opts.Policy, timeout: opts.Timeout, maxBytes: opts.MaxResponseBytes}
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: opts.Policy.control, Resolver: opts.Resolver}
	transport := &http.Transport{
		// No proxy: a proxy would make the dial check vet the proxy, not
		// the controller.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       opts.TLSConfig,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	c.http = &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return &Error{Kind: KindRedirect, Message: fmt.Sprintf("controller redirected more than %d times", maxRedirects)}
			}
			return c.policy.CheckURL(req.URL)
		},
	}
	return c
}

// CloseIdleConnections releases pooled connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Push sends a config to POST {base}/api/config/apply and returns the
// controller's answer text.
func (c *Client) Push(ctx context.Context, baseURL, apiKey string, configYAML []byte) (string, error) {
	body, err := c.call(ctx, http.MethodPost, baseURL, "/api/config/apply", apiKey, "application/yaml", configYAML)
	if err != nil {
		return "", err
	}
	return message(body, apiKey), nil
}

// Pull fetches the live config from GET {base}/api/config.
func (c *Client) Pull(ctx context.Context, baseURL, apiKey string) ([]byte, error) {
	return c.call(ctx, http.MethodGet, baseURL, "/api/config", apiKey, "", nil)
}

// Update asks the controller to update itself with POST {base}/api/update.
func (c *Client) Update(ctx context.Context, baseURL, apiKey, version string) (string, error) {
	payload, _ := json.Marshal(map[string]string{"version": version})
	body, err := c.call(ctx, http.MethodPost, baseURL, "/api/update", apiKey, "application/json", payload)
	if err != nil {
		return "", err
	}
	return message(body, apiKey), nil
}

// endpoint joins a controller base URL and an API path.
func (c *Client) endpoint(baseURL, path string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return nil, &Error{Kind: KindInvalidURL, Message: "controller_url is not an absolute URL"}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, &Error{Kind: KindInvalidURL, Message: "controller_url must not have a query or fragment"}
	}
	if err := c.policy.CheckURL(u); err != nil {
		return nil, policyError(err)
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	return u, nil
}

func (c *Client) call(ctx context.Context, method, baseURL, path, apiKey, contentType string, body []byte) ([]byte, error) {
	u, err := c.endpoint(baseURL, path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Kind: KindInvalidURL, Message: "controller_url cannot be used"}
	}
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("User-Agent", "felhom-hub")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.classify(u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, c.classify(u, err)
	}
	if int64(len(data)) > c.maxBytes {
		return nil, &Error{Kind: KindTooLarge, Message: fmt.Sprintf("controller at %s answered more than %d bytes", u.Host, c.maxBytes)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A controller may echo the request: its key must not reach the
		// hub's logs, audit log or error bodies. Redacted before the
		// message is cut short, so that no part of the key is left.
		msg := message(data, apiKey)
		text := fmt.Sprintf("controller at %s answered HTTP %d", u.Host, resp.StatusCode)
		if msg != "" {
			text += ": " + msg
		}
		return nil, &Error{Kind: KindStatus, Status: resp.StatusCode, Message: text}
	}
	return data, nil
}

// classify turns a transport error into an operator-facing *Error.
func (c *Client) classify(u *url.URL, err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	var pe *PolicyError
	if errors.As(err, &pe) {
		return policyError(pe)
	}
	host := u.Host
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return &Error{Kind: KindTimeout, Message: fmt.Sprintf("controller at %s did not answer within %s", host, c.timeout)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Kind: KindRefused, Message: fmt.Sprintf("controller at %s refused the connection", host)}
	case errors.As(err, &dnsErr):
		return &Error{Kind: KindUnreachable, Message: fmt.Sprintf("controller at %s is unreachable: its name does not resolve", host)}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindUnreachable, Message: fmt.Sprintf("call to controller at %s was cancelled", host)}
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return &Error{Kind: KindUnreachable, Message: fmt.Sprintf("controller at %s is unreachable: its TLS certificate is not valid", host)}
	}
	return &Error{Kind: KindUnreachable, Message: fmt.Sprintf("controller at %s is unreachable: %s", host, cause(err))}
}

func policyError(err error) *Error {
	return &Error{Kind: KindPolicy, Message: "controller_url " + err.Error()}
}

// cause returns the innermost error text of a transport error, without the
// URL that url.Error adds.
func cause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return truncate(err.Error())
}

// message extracts a short human text from a controller's answer: the
// "error" or "message" of a JSON object, or the text itself.
func message(body []byte, secrets ...string) string {
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, k := range []string{"error", "message", "status"} {
			if s, ok := obj[k].(string); ok && s != "" {
				// Redacted after decoding too: "\u0061" spells "a".
				return truncate(hub.Redact(s, secrets...))
			}
		}
	}
	return truncate(hub.Redact(string(body), secrets...))
}

// truncate makes text safe to show: valid UTF-8, printable, one line, at
// most maxMessage runes.
func truncate(s string) string {
	s = strings.ToValidUTF8(s, "?")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxMessage {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
