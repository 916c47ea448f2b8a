package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/felhom/hub/api"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

const cfgGlobalKey = "global-key-for-tests-0123456789"

// configsHub is an API server over a real database, called in process so
// that tests can choose the client address.
type configsHub struct {
	t     *testing.T
	db    *store.DB
	clock *clocktest.Clock
	mux   *http.ServeMux
	api   *api.Server
}

func newConfigsHub(t *testing.T) *configsHub {
	t.Helper()
	clock := clocktest.New(time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC))
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = clock.Now
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logger := slog.New(slog.DiscardHandler)
	s := newServer(db, cfgGlobalKey, clock.Now, logger)
	mux := http.NewServeMux()
	s.Register(mux)
	return &configsHub{t: t, db: db, clock: clock, mux: mux, api: s}
}

// cfgResponse is a recorded answer.
type cfgResponse struct {
	status int
	header http.Header
	body   []byte
}

// errorText returns the "error" of a JSON error body.
func (r cfgResponse) errorText() string {
	var e struct{ Error string }
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

// request describes one call.
type cfgRequest struct {
	method, path string
	key          string // Bearer key
	password     string // X-Retrieval-Password
	remote       string // client address, default 192.0.2.1:1234
	body         []byte
}

func (h *configsHub) do(req cfgRequest) cfgResponse {
	h.t.Helper()
	r := httptest.NewRequest(req.method, req.path, bytes.NewReader(req.body))
	if req.key != "" {
		r.Header.Set("Authorization", "Bearer "+req.key)
	}
	if req.password != "" {
		r.Header.Set("X-Retrieval-Password", req.password)
	}
	r.RemoteAddr = req.remote
	if r.RemoteAddr == "" {
		r.RemoteAddr = "192.0.2.1:1234"
	}
	w := httptest.NewRecorder()
	h.mux.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	return cfgResponse{status: res.StatusCode, header: res.Header, body: body}
}

// createCustomer creates a managed customer through the admin API and
// returns its credentials.
func (h *configsHub) createCustomer(body string) (apiKey, password string) {
	h.t.Helper()
	res := h.do(cfgRequest{method: "POST", path: "/api/v1/admin/customers", key: testAdminKey, body: []byte(body)})
	if res.status != http.StatusCreated {
		h.t.Fatalf("create customer: %d %s", res.status, res.body)
	}
	var out struct {
		APIKey            string `json:"api_key"`
		RetrievalPassword string `json:"retrieval_password"`
	}
	if err := json.Unmarshal(res.body, &out); err != nil {
		h.t.Fatal(err)
	}
	return out.APIKey, out.RetrievalPassword
}

// exampleInfraBackup returns the shared example infra-backup with its
// customer_id set to id.
func exampleInfraBackup(tb testing.TB, id string) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "infra-backup.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	m["customer_id"] = id
	return m
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
