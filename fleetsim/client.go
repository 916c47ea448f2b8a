package fleetsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to a hub's API.
type Client struct {
	BaseURL   string
	GlobalKey string
	// AdminKey is an admin token (api.admin_api_key or one from hub token
	// add): the admin API no longer takes the global key.
	AdminKey string
	HTTP     *http.Client
}

// NewClient returns a client with a connection pool sized for concurrency.
func NewClient(baseURL, globalKey string, concurrency int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency * 2
	tr.MaxIdleConnsPerHost = concurrency * 2
	return &Client{
		BaseURL:   strings.TrimRight(baseURL, "/"),
		GlobalKey: globalKey,
		HTTP:      &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
}

// StatusError is a non-2xx answer from the hub.
type StatusError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// Do sends body (raw bytes or a value to encode) and decodes a JSON answer
// into out when out is not nil.
func (c *Client) Do(ctx context.Context, method, path, key string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return &StatusError{Method: method, Path: path, Status: resp.StatusCode, Message: e.Error}
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// IsStatus reports whether err is a StatusError with the status.
func IsStatus(err error, status int) bool {
	se, ok := err.(*StatusError)
	return ok && se.Status == status
}
