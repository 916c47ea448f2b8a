package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/registry"
	"github.com/felhom/hub/store"
)

// fakeRegistry is a Gitea-like registry: the tag list needs a bearer token
// obtained from /v2/token with basic auth, and comes in two pages.
type fakeRegistry struct {
	user, password string
	tokenCalls     atomic.Int32
	pages          [][]string
	srv            *httptest.Server
}

const issuedToken = "registry-bearer-token"

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v2/token":
		user, pw, ok := r.BasicAuth()
		if !ok || user != f.user || pw != f.password {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("scope") != "repository:admin/felhom-controller:pull" || r.URL.Query().Get("service") != "container_registry" {
			http.Error(w, "bad scope", http.StatusBadRequest)
			return
		}
		f.tokenCalls.Add(1)
		json.NewEncoder(w).Encode(map[string]string{"token": issuedToken})
	case r.URL.Path == "/v2/admin/felhom-controller/tags/list":
		if r.Header.Get("Authorization") != "Bearer "+issuedToken {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/v2/token",service="container_registry",scope="repository:admin/felhom-controller:pull"`, f.srv.URL))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		page := 0
		if r.URL.Query().Get("last") != "" {
			page = 1
		}
		if page == 0 && len(f.pages) > 1 {
			w.Header().Set("Link", `</v2/admin/felhom-controller/tags/list?n=100&last=`+f.pages[0][len(f.pages[0])-1]+`>; rel="next"`)
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "admin/felhom-controller", "tags": f.pages[page]})
	default:
		http.NotFound(w, r)
	}
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{user: "admin", password: "gitea-pat", pages: [][]string{
		{"latest", "v0.6.0", "0.7.0", "0.7.1-rc.1", "sha-abc123"},
		{"v0.8.0", "0.8.1", "v0.9.0-beta.2", "0.10.0-rc.1", "0.8"},
	}}
	f.srv = httptest.NewTLSServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func newWatcher(t *testing.T, f *fakeRegistry, user, password string) (*registry.Watcher, *store.DB) {
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	image := strings.TrimPrefix(f.srv.URL, "https://") + "/admin/felhom-controller"
	w := registry.NewWatcher(image, user, password, db, slog.New(slog.DiscardHandler))
	w.Client.HTTP = f.srv.Client()
	w.Now = func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) }
	return w, db
}

func TestWatcherTokenAuthAndPagination(t *testing.T) {
	f := newFakeRegistry(t)
	w, db := newWatcher(t, f, "admin", "gitea-pat")
	ctx := context.Background()
	v, err := w.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "0.8.1" {
		t.Fatalf("latest = %q, want 0.8.1 (pre-releases and non-semver ignored, both pages read)", v.Version)
	}
	stored, err := db.FindLatestControllerVersion(ctx)
	if err != nil || stored.Version != "0.8.1" || !stored.CheckedAt.Equal(w.Now()) {
		t.Fatalf("stored %+v %v", stored, err)
	}
	// The token is reused on the next check.
	if _, err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Errorf("token fetched %d times, want 1", n)
	}
}

func TestWatcherWrongCredentials(t *testing.T) {
	f := newFakeRegistry(t)
	w, db := newWatcher(t, f, "admin", "wrong")
	_, err := w.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "token service answered HTTP 401") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Error("error shows the password")
	}
	if _, err := db.FindLatestControllerVersion(context.Background()); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("a failed check stored a version: %v", err)
	}
}

// notifyingVersions signals each stored version.
type notifyingVersions struct {
	hub.VersionService
	stored chan string
}

func (n *notifyingVersions) SetLatestControllerVersion(ctx context.Context, v *hub.ControllerVersion) error {
	err := n.VersionService.SetLatestControllerVersion(ctx, v)
	n.stored <- v.Version
	return err
}

func TestWatcherOpenClose(t *testing.T) {
	f := newFakeRegistry(t)
	w, db := newWatcher(t, f, "admin", "gitea-pat")
	versions := &notifyingVersions{VersionService: db, stored: make(chan string, 1)}
	w.Versions = versions
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	// The first check runs at once.
	select {
	case v := <-versions.stored:
		if v != "0.8.1" {
			t.Errorf("stored %q", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no check after Open")
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBasicAuthChallenge(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"tags":["1.0.0","v1.2.0","1.10.0-rc.1"]}`)
	}))
	defer srv.Close()
	c := &registry.Client{Image: strings.TrimPrefix(srv.URL, "https://") + "/o/n", Username: "u", Password: "p", HTTP: srv.Client()}
	tags, err := c.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if latest, _ := registry.Latest(tags); latest != "v1.2.0" {
		t.Errorf("latest = %q", latest)
	}
}

func TestLinkToAnotherHostRefused(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<https://elsewhere.example/v2/x/tags/list?last=a>; rel="next"`)
		fmt.Fprint(w, `{"tags":["1.0.0"]}`)
	}))
	defer srv.Close()
	c := &registry.Client{Image: strings.TrimPrefix(srv.URL, "https://") + "/o/n", HTTP: srv.Client()}
	if _, err := c.Tags(context.Background()); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
}

func TestLatest(t *testing.T) {
	tests := []struct {
		tags []string
		want string
		ok   bool
	}{
		{[]string{"0.9.0", "0.10.0", "0.2.0"}, "0.10.0", true},
		{[]string{"v1.0.0", "1.0.1-rc.1", "latest"}, "v1.0.0", true},
		{[]string{"latest", "main", "1.0.0-rc.1"}, "", false},
		{nil, "", false},
	}
	for _, tt := range tests {
		got, ok := registry.Latest(tt.tags)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Latest(%v) = %q %v, want %q %v", tt.tags, got, ok, tt.want, tt.ok)
		}
	}
}
