package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/notify"
)

func TestResendRequest(t *testing.T) {
	var got *http.Request
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		_, _ = io.WriteString(w, `{"id":"x"}`)
	}))
	defer srv.Close()
	r := notify.NewResend(resendKey, srv.URL+"/")
	err := r.Send(context.Background(), &notify.Message{From: "Felhom <monitoring@felhom.eu>", To: "anna@example.hu",
		Subject: "Felhom: Nem sikerült a biztonsági mentés", Text: "Tisztelt Ügyfelünk!", HTML: "<p>Tisztelt Ügyfelünk!</p>",
		IdempotencyKey: "felhom-hub/event/1-2/customer/abc"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/emails" || got.Header.Get("Authorization") != "Bearer "+resendKey ||
		got.Header.Get("Idempotency-Key") != "felhom-hub/event/1-2/customer/abc" || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %v", got.Method, got.URL, got.Header)
	}
	to, _ := body["to"].([]any)
	if body["from"] != "Felhom <monitoring@felhom.eu>" || len(to) != 1 || to[0] != "anna@example.hu" ||
		body["subject"] != "Felhom: Nem sikerült a biztonsági mentés" || body["text"] != "Tisztelt Ügyfelünk!" || body["html"] == nil {
		t.Fatalf("body %v", body)
	}
}

func TestResendErrors(t *testing.T) {
	tests := []struct {
		status     int
		answer     string
		retryAfter string
		permanent  bool
		wantHint   time.Duration
	}{
		{status: 500, answer: `{"name":"internal_server_error","message":"oops"}`},
		{status: 502, answer: `<html>bad gateway</html>`},
		{status: 503, answer: ``, retryAfter: "7", wantHint: 7 * time.Second},
		{status: 429, answer: `{"name":"rate_limit_exceeded","message":"Too many requests"}`, retryAfter: "2", wantHint: 2 * time.Second},
		{status: 409, answer: `{"name":"concurrent_idempotent_requests","message":"in progress"}`},
		{status: 409, answer: `{"name":"invalid_idempotent_request","message":"payload differs"}`, permanent: true},
		{status: 400, answer: `{"name":"validation_error","message":"Invalid to field"}`, permanent: true},
		{status: 401, answer: `{"name":"missing_api_key","message":"API key ` + resendKey + ` is invalid"}`, permanent: true},
		{status: 403, answer: `{"name":"invalid_from_address","message":"domain not verified"}`, permanent: true},
		{status: 422, answer: `{"name":"invalid_parameter","message":"bad"}`, permanent: true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			err := notify.NewResend(resendKey, srv.URL).Send(context.Background(), &notify.Message{To: "a@example.hu"})
			if err == nil {
				t.Fatal("no error")
			}
			if notify.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", notify.IsPermanent(err), tt.permanent, err)
			}
			var se *notify.SendError
			if !errors.As(err, &se) || se.RetryAfter != tt.wantHint {
				t.Errorf("retry hint %v, want %v", se, tt.wantHint)
			}
			if strings.Contains(err.Error(), resendKey) || !strings.Contains(err.Error(), "HTTP ") {
				t.Errorf("error %q", err)
			}
		})
	}
}

func TestResendNetworkErrorIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := notify.NewResend(resendKey, url).Send(context.Background(), &notify.Message{To: "a@example.hu"})
	if err == nil || notify.IsPermanent(err) || strings.Contains(err.Error(), resendKey) {
		t.Fatalf("err %v", err)
	}
}
