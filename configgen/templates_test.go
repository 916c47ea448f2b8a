package configgen_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/store"
)

func openTestDB(tb testing.TB, dir string) *store.DB {
	tb.Helper()
	db := store.NewDB(filepath.Join(dir, "hub.db"))
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// templateHost is a fake Gitea serving a raw file; what it serves can be
// changed between requests.
type templateHost struct {
	mu     sync.Mutex
	status int
	body   string
	token  string
	hits   chan struct{}
}

func (h *templateHost) set(status int, body string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.body = status, body
}

func (h *templateHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	status, body, token := h.status, h.body, h.token
	h.mu.Unlock()
	defer func() {
		select {
		case h.hits <- struct{}{}:
		default:
		}
	}()
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func newTemplates(db *store.DB, url, token string) *configgen.Templates {
	tm := configgen.NewTemplates(db, slog.New(slog.DiscardHandler))
	tm.URL, tm.Token = url, token
	return tm
}

const goodTemplate = "# fetched\ncustomer:\n  id: \"\"\nhub:\n  api_key: \"\"\nbackup:\n  keep_daily: 9\n"

func TestTemplatesRefresh(t *testing.T) {
	ctx := context.Background()
	host := &templateHost{status: http.StatusOK, body: goodTemplate, token: "gitea-token", hits: make(chan struct{}, 1)}
	srv := httptest.NewServer(host)
	defer srv.Close()
	dir := t.TempDir()
	db := openTestDB(t, dir)
	tm := newTemplates(db, srv.URL+"/raw/controller.yaml.example?secretquery=hush", "gitea-token")
	if err := tm.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer tm.Close(ctx)
	<-host.hits // Open fetches once at once

	steps := []struct {
		name     string
		status   int
		body     string
		wantErr  string
		wantBody string
	}{
		{"good", http.StatusOK, goodTemplate, "", goodTemplate},
		{"not yaml", http.StatusOK, "customer: [unclosed\n", "not valid YAML", goodTemplate},
		{"html error page", http.StatusOK, "<html><body>502</body></html>", "must be a YAML mapping", goodTemplate},
		{"a list", http.StatusOK, "- a\n- b\n", "must be a YAML mapping", goodTemplate},
		{"empty", http.StatusOK, "", "is empty", goodTemplate},
		{"server error", http.StatusInternalServerError, "boom", "HTTP 500", goodTemplate},
		{"too large", http.StatusOK, "a: " + strings.Repeat("x", configgen.MaxTemplateBytes) + "\n", "larger than", goodTemplate},
		{"new good", http.StatusOK, "customer:\n  id: \"\"\nv: 2\n", "", "customer:\n  id: \"\"\nv: 2\n"},
	}
	for _, st := range steps {
		host.set(st.status, st.body)
		err := tm.Refresh(ctx)
		if st.wantErr == "" && err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)) {
			t.Fatalf("%s: error %v, want %q", st.name, err, st.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "hush") {
			t.Errorf("%s: error leaks the URL: %v", st.name, err)
		}
		if got := string(tm.Current().Body); got != st.wantBody {
			t.Fatalf("%s: serving %q, want %q", st.name, got, st.wantBody)
		}
		stored, err := db.FindTemplate(ctx)
		if err != nil || string(stored.Body) != st.wantBody {
			t.Fatalf("%s: stored %v %v, want the last good", st.name, stored, err)
		}
		status := tm.Status()
		if st.wantErr != "" && status.LastError == "" {
			t.Errorf("%s: status has no error", st.name)
		}
	}

	// The hub restarts while the template host is down: it serves the last
	// good copy from the database, not the built-in default.
	host.set(http.StatusServiceUnavailable, "")
	restarted := newTemplates(db, srv.URL, "gitea-token")
	if err := restarted.Open(ctx); err != nil {
		t.Fatal(err)
	}
	<-host.hits
	if err := restarted.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := string(restarted.Current().Body); got != "customer:\n  id: \"\"\nv: 2\n" {
		t.Errorf("after restart serving %q", got)
	}
	if src := restarted.Status().Source; src != configgen.SourceStored {
		t.Errorf("source = %q, want stored", src)
	}
}

func TestTemplatesToken(t *testing.T) {
	host := &templateHost{status: http.StatusOK, body: goodTemplate, token: "right", hits: make(chan struct{}, 1)}
	srv := httptest.NewServer(host)
	defer srv.Close()
	db := openTestDB(t, t.TempDir())
	tm := newTemplates(db, srv.URL, "wrong")
	if err := tm.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("wrong token: %v", err)
	}
	if string(tm.Current().Body) != string(configgen.DefaultTemplate) {
		t.Error("a failed first fetch must keep the built-in template")
	}
	tm.Token = "right"
	if err := tm.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestTemplatesUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	tm := newTemplates(openTestDB(t, t.TempDir()), url, "")
	tm.Timeout = 2 * time.Second
	if err := tm.Refresh(context.Background()); err == nil {
		t.Fatal("refresh from a closed server succeeded")
	}
	if tm.Status().Source != "built-in" {
		t.Error("unreachable host must leave the built-in template")
	}
}

func TestTemplatesStoredButUnusable(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, t.TempDir())
	if err := db.SaveTemplate(ctx, &hub.Template{Body: []byte("- not a mapping\n")}); err != nil {
		t.Fatal(err)
	}
	tm := newTemplates(db, "", "")
	if err := tm.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if string(tm.Current().Body) != string(configgen.DefaultTemplate) {
		t.Error("an unusable stored template must fall back to the built-in one")
	}
}

func TestTemplatesRender(t *testing.T) {
	tm := newTemplates(openTestDB(t, t.TempDir()), "", "")
	out, err := tm.Render(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `id: "kovacs-csalad"`) {
		t.Errorf("render:\n%s", out)
	}
}
