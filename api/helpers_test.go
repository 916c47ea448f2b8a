package api_test

import (
	"context"
	"database/sql"
	"testing"

	hub "github.com/felhom/hub"
)

// testHub adapts env to the (method, path, key, body) → (status, JSON)
// helpers the event tests use.
type testHub struct {
	*env
}

func newTestHub(t *testing.T) *testHub { return &testHub{newEnv(t)} }

// do sends a request and returns the status and the decoded JSON body.
func (h *testHub) do(method, path, key string, body []byte) (int, map[string]any) {
	h.t.Helper()
	var b any
	if body != nil {
		b = body
	}
	r := h.env.do(method, path, key, b)
	if r.json == nil {
		h.t.Fatalf("%s %s: response is not a JSON object: %q", method, path, r.body)
	}
	return r.status, r.json
}

// customer creates a managed customer and returns its API key.
func (h *testHub) customer(id string) string {
	h.t.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
	cfg.MintCredentials()
	if err := h.db.CreateCustomerConfig(context.Background(), cfg); err != nil {
		h.t.Fatal(err)
	}
	return cfg.APIKey
}

// report posts a minimal report under the global key.
func (h *testHub) report(id string) {
	h.t.Helper()
	if status, body := h.do("POST", "/api/v1/report", globalKey, []byte(`{"customer_id":"`+id+`"}`)); status != 200 {
		h.t.Fatalf("report: %d %v", status, body)
	}
}

// rawDB opens a read connection to the hub's database, to check what no
// API shows.
func rawDB(t *testing.T, h *testHub) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+h.db.Path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
