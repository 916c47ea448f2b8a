package api_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/felhom/hub/api"
)

// Every request carries an id: the client's when it is sane, a minted one
// otherwise; it is echoed in the response and written in the log line,
// and an id that holds the request's key is never taken (the log must not
// see the key).
func TestRequestID(t *testing.T) {
	const key = "hub_0123456789abcdefghijklmnop"
	minted := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tt := range []struct {
		name, id, auth string
		keep           bool
	}{
		{"none", "", "", false},
		{"uuid", "6f1c1b9e-1e7a-4c55-9f0e-2a4f5b2d9c10", "", true},
		{"nginx", "0123456789abcdef0123456789abcdef", "", true},
		{"too long", strings.Repeat("a", 65), "", false},
		{"space", "a b", "", false},
		{"control", "a\x01b", "", false},
		{"quote", `a"b`, "", false},
		{"newline", "abc\nlevel=ERROR", "", false},
		{"the key", key, "Bearer " + key, false},
		{"the key inside", "x-" + key + "-y", "Bearer " + key, false},
		{"part of the key", key[:20], "Bearer " + key, false},
		{"short and unrelated", "req-1", "Bearer " + key, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			h := api.Middleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			req := httptest.NewRequest("GET", "/api/v1/customers", nil)
			if tt.id != "" {
				req.Header[api.RequestIDHeader] = []string{tt.id}
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get(api.RequestIDHeader)
			if tt.keep && got != tt.id {
				t.Errorf("id %q answered as %q, want it kept", tt.id, got)
			}
			if !tt.keep && (got == tt.id || !minted.MatchString(got)) {
				t.Errorf("id %q answered as %q, want a minted one", tt.id, got)
			}
			if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
				t.Errorf("the log line has no request_id %q: %s", got, logs.String())
			}
			if strings.Contains(logs.String(), key[:20]) {
				t.Errorf("the key reached the log: %s", logs.String())
			}
		})
	}
	// Two requests without an id get two ids.
	h := api.Middleware(slog.New(slog.DiscardHandler), http.NotFoundHandler())
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	h.ServeHTTP(a, httptest.NewRequest("GET", "/", nil))
	h.ServeHTTP(b, httptest.NewRequest("GET", "/", nil))
	if a.Header().Get(api.RequestIDHeader) == b.Header().Get(api.RequestIDHeader) {
		t.Error("two requests got one id")
	}
}

// Probes and scrapes are logged at debug level, other requests at info.
func TestProbesLoggedAtDebug(t *testing.T) {
	for _, tt := range []struct {
		path string
		info bool
	}{
		{"/livez", false}, {"/readyz", false}, {"/healthz", false}, {"/metrics", false},
		{"/api/v1/customers", true}, {"/", true}, {"/livez/x", true},
	} {
		var info, debug bytes.Buffer
		for _, l := range []struct {
			buf   *bytes.Buffer
			level slog.Level
		}{{&info, slog.LevelInfo}, {&debug, slog.LevelDebug}} {
			logger := slog.New(slog.NewTextHandler(l.buf, &slog.HandlerOptions{Level: l.level}))
			api.Middleware(logger, http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
		}
		if got := strings.Contains(info.String(), "msg=request"); got != tt.info {
			t.Errorf("%s logged at info: %v, want %v", tt.path, got, tt.info)
		}
		if !strings.Contains(debug.String(), "msg=request") {
			t.Errorf("%s not logged at debug", tt.path)
		}
	}
}
