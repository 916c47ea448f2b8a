package configgen_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/configgen"
	"go.yaml.in/yaml/v4"
)

// authHost is a fake Gitea raw-file endpoint that records the
// Authorization header of every request.
type authHost struct {
	mu     sync.Mutex
	auths  []string
	status int
	body   string
}

func (h *authHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.auths = append(h.auths, r.Header.Get("Authorization"))
	status, body := h.status, h.body
	h.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (h *authHost) lastAuth() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.auths) == 0 {
		return "(no request)"
	}
	return h.auths[len(h.auths)-1]
}

// The registry's credentials go as basic auth; the template token, when
// set, wins as a Bearer token; with neither, nothing is sent.
func TestTemplatesFetchCredentials(t *testing.T) {
	host := &authHost{status: http.StatusOK, body: goodTemplate}
	srv := httptest.NewServer(host)
	defer srv.Close()
	ctx := context.Background()
	for _, tt := range []struct {
		name, token, user, password, want string
	}{
		{"registry credentials", "", "admin", "gitea-pat", "Basic YWRtaW46Z2l0ZWEtcGF0"},
		{"template token wins", "tmpl-token", "admin", "gitea-pat", "Bearer tmpl-token"},
		{"no credentials", "", "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTemplates(openTestDB(t, t.TempDir()), srv.URL+"/admin/felhom-controller/raw/branch/main/controller.yaml.example", tt.token)
			tm.Username, tm.Password = tt.user, tt.password
			if err := tm.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := host.lastAuth(); got != tt.want {
				t.Errorf("Authorization %q, want %q", got, tt.want)
			}
		})
	}
}

// A template host that answers 404 or 500, hangs before its headers or in
// the middle of its body, or sends too much, costs at most the time-out;
// the last good template stays in use and the status says why.
func TestTemplatesFetchFailures(t *testing.T) {
	ctx := context.Background()
	var mode struct {
		sync.Mutex
		name string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode.Lock()
		name := mode.name
		mode.Unlock()
		switch name {
		case "good":
			io.WriteString(w, goodTemplate)
		case "404":
			http.NotFound(w, r)
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "hang before headers":
			<-r.Context().Done()
		case "hang in the body":
			w.Write([]byte("customer:\n  id: \"\"\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case "endless body":
			w.Write([]byte("a: |\n"))
			line := []byte("  " + strings.Repeat("x", 1000) + "\n")
			for r.Context().Err() == nil {
				if _, err := w.Write(line); err != nil {
					return
				}
			}
		}
	}))
	defer srv.Close()
	set := func(name string) {
		mode.Lock()
		mode.name = name
		mode.Unlock()
	}

	db := openTestDB(t, t.TempDir())
	tm := newTemplates(db, srv.URL+"/raw?token=hush", "")
	tm.Timeout = 300 * time.Millisecond
	tm.MaxBytes = 64 << 10
	set("good")
	if err := tm.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ mode, wantErr string }{
		{"404", "HTTP 404"},
		{"500", "HTTP 500"},
		{"hang before headers", "deadline exceeded"},
		{"hang in the body", "deadline exceeded"},
		{"endless body", "larger than 65536 bytes"},
	} {
		set(tt.mode)
		start := time.Now()
		err := tm.Refresh(ctx)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: refresh took %v with a 300ms time-out", tt.mode, took)
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", tt.mode, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "hush") {
			t.Errorf("%s: the error carries the URL's query: %v", tt.mode, err)
		}
		if got := string(tm.Current().Body); got != goodTemplate {
			t.Errorf("%s: serving %q, want the last good", tt.mode, got)
		}
		st := tm.Status()
		if st.Source != configgen.SourceFetched || st.LastError == "" {
			t.Errorf("%s: status %+v", tt.mode, st)
		}
	}
}

// The status names the template in use by source, redacted URL, time and
// hash; the hub logs it once at start, never with a credential, and after
// a failed fetch logs when it retries.
func TestTemplatesStatusAndLog(t *testing.T) {
	ctx := context.Background()
	host := &templateHost{status: http.StatusOK, body: goodTemplate, hits: make(chan struct{}, 1)}
	srv := httptest.NewServer(host)
	defer srv.Close()
	db := openTestDB(t, t.TempDir())
	now := time.Date(2026, 6, 8, 10, 0, 0, 0, time.UTC)

	logs := &recordingHandler{records: make(chan slog.Record, 16)}
	logger := slog.New(logs)
	open := func() *configgen.Templates {
		tm := configgen.NewTemplates(db, logger)
		tm.URL = srv.URL + "/admin/felhom-controller/raw/branch/main/controller.yaml.example?token=query-secret"
		tm.Username, tm.Password = "admin", "registry-secret"
		tm.Interval = time.Hour
		tm.Now = func() time.Time { return now }
		return tm
	}

	// A new hub serves the built-in template until the first fetch.
	tm := configgen.NewTemplates(db, logger)
	if st := tm.Status(); st.Source != configgen.SourceBuiltIn || st.SHA256 != sha256Of(configgen.DefaultTemplate) || st.SourceURL != "" {
		t.Errorf("built-in status %+v", st)
	}

	tm = open()
	if err := tm.Open(ctx); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "controller.yaml template updated")
	if err := tm.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := tm.Status()
	wantURL := srv.URL + "/admin/felhom-controller/raw/branch/main/controller.yaml.example?…"
	if st.Source != configgen.SourceFetched || st.SHA256 != sha256Of([]byte(goodTemplate)) ||
		st.SourceURL != wantURL || st.URL != wantURL || !st.FetchedAt.Equal(now) || st.LastError != "" {
		t.Errorf("after a fetch: %+v", st)
	}
	if want := now.Add(time.Hour); !st.NextCheck.Equal(want) {
		t.Errorf("next check %v, want %v", st.NextCheck, want)
	}

	// Restarted while the host fails: the stored copy, and a retry time.
	host.set(http.StatusBadGateway, "")
	tm = open()
	if err := tm.Open(ctx); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "controller.yaml template fetch failed; keeping the template in use")
	if err := tm.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st = tm.Status()
	if st.Source != configgen.SourceStored || st.SHA256 != sha256Of([]byte(goodTemplate)) || st.SourceURL != wantURL ||
		!strings.Contains(st.LastError, "HTTP 502") || !st.NextCheck.Equal(now.Add(time.Hour)) {
		t.Errorf("after a failed fetch: %+v", st)
	}

	out := logs.text()
	for _, want := range []string{
		`msg="controller.yaml template in use" source=built-in`,
		`msg="controller.yaml template in use" source=stored sha256=` + sha256Of([]byte(goodTemplate)),
		`msg="controller.yaml template updated" source=fetched`,
		`msg="controller.yaml template fetch failed; keeping the template in use"`,
		"retry_at=2026-06-08T11:00:00.000Z",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"query-secret", "registry-secret", "YWRtaW46"} {
		if strings.Contains(out, secret) {
			t.Errorf("log carries %q:\n%s", secret, out)
		}
	}
	stored, err := db.FindTemplate(ctx)
	if err != nil || strings.Contains(stored.SourceURL, "query-secret") {
		t.Errorf("stored source URL %q (%v)", stored.SourceURL, err)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://gitea.example/a/b/raw/branch/main/c.yaml": "https://gitea.example/a/b/raw/branch/main/c.yaml",
		"https://user:pw@gitea.example/a?token=t#frag":     "https://gitea.example/a?…",
		"https://gitea.example:3000/a%20b":                 "https://gitea.example:3000/a%20b",
		"not a url":                                        "(not a valid URL)",
		"https://gitea.example/a?":                         "https://gitea.example/a?…",
	} {
		if got := configgen.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// hub.url of every generated config is the hub's public URL when one is
// set, the template's otherwise; one customer's override still wins, and a
// pull from a node that reports to this hub does not store hub.url.
func TestTemplatesHubURL(t *testing.T) {
	tm := newTemplates(openTestDB(t, t.TempDir()), "", "")
	hubURL := func(out []byte) string {
		var got struct{ Hub struct{ URL string } }
		if err := yaml.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		return got.Hub.URL
	}
	out, err := tm.Render(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got := hubURL(out); got != "https://hub.felhom.eu" {
		t.Errorf("without a public URL hub.url = %q, want the template's", got)
	}

	tm.HubURL = "https://staging-hub.felhom.eu"
	out, err = tm.Render(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got := hubURL(out); got != "https://staging-hub.felhom.eu" {
		t.Errorf("hub.url = %q, want the public URL", got)
	}
	if !strings.Contains(string(out), "report_interval: 15m") || !strings.Contains(string(out), "keep_daily: 14") {
		t.Errorf("the rest of the config changed:\n%s", out)
	}

	ex, err := configgen.Extract(tm.Current().Body, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ex.OverridesYAML, "url") {
		t.Errorf("a pull stores hub.url:\n%s", ex.OverridesYAML)
	}

	cfg := testConfig()
	cfg.OverridesYAML = "hub:\n  url: https://hub.internal.example\n"
	out, err = tm.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := hubURL(out); got != "https://hub.internal.example" {
		t.Errorf("with an override hub.url = %q", got)
	}
}

func sha256Of(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// recordingHandler keeps every log line as text and hands each record to
// waitFor, so that a test waits for what the hub logs, not for time.
type recordingHandler struct {
	mu      sync.Mutex
	lines   bytes.Buffer
	records chan slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }

func (h *recordingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	slog.NewTextHandler(&h.lines, nil).Handle(ctx, r)
	h.mu.Unlock()
	select {
	case h.records <- r:
	default:
	}
	return nil
}

func (h *recordingHandler) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lines.String()
}

// waitFor reads records until one has the message.
func (h *recordingHandler) waitFor(t *testing.T, msg string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-h.records:
			if r.Message == msg {
				return
			}
		case <-timeout:
			t.Fatalf("no log record %q; logged:\n%s", msg, h.text())
		}
	}
}
