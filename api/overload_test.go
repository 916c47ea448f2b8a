package api_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/api"
)

func TestLimitBodies(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	handler := api.LimitBodies(8<<20, 4<<20, 50*time.Millisecond, slog.New(slog.DiscardHandler),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
			w.WriteHeader(http.StatusOK)
		}))
	post := func(size int) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/report", bytes.NewReader(make([]byte, size))))
		return rec
	}
	var wg sync.WaitGroup
	results := make([]int, 2)
	for i := range 2 { // two 4 MiB bodies fill the 8 MiB budget
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = post(4 << 20).Code
		}()
		<-entered
	}
	rec := post(4 << 20)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third body: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	// Requests without a body are never held back.
	noBody := httptest.NewRecorder()
	wg.Add(1)
	go func() {
		defer wg.Done()
		handler.ServeHTTP(noBody, httptest.NewRequest("GET", "/api/v1/customers", nil))
	}()
	<-entered // the body-less request got in while the budget is full
	close(release)
	wg.Wait()
	if noBody.Code != http.StatusOK || results[0] != http.StatusOK || results[1] != http.StatusOK {
		t.Errorf("codes: no body %d, held %v", noBody.Code, results)
	}
	// With room again, a body goes through.
	if rec := post(1 << 20); rec.Code != http.StatusOK {
		t.Errorf("after release: %d", rec.Code)
	}
}

// heldBody is a request body that signals when the handler starts reading
// it, then blocks until released: a client sending very slowly.
type heldBody struct {
	reading chan struct{}
	once    sync.Once
	release chan struct{}
}

func newHeldBody() *heldBody {
	return &heldBody{reading: make(chan struct{}), release: make(chan struct{})}
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.reading) })
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

// budgetHub is an API whose body budget is small and impatient.
func budgetHub(t *testing.T, budget int64) (*configsHub, string, string) {
	t.Helper()
	h := newConfigsHub(t)
	h.api.Bodies = api.NewBodyBudget(budget, 100*time.Millisecond)
	ownKey, _ := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	otherKey, _ := h.createCustomer(`{"customer_id":"szabo-kft"}`)
	return h, ownKey, otherKey
}

// sendHeld starts a request whose 4 MiB body never arrives and returns
// the body and a channel with the status.
func (h *configsHub) sendHeld(key string) (*heldBody, chan int) {
	body := newHeldBody()
	req := httptest.NewRequest("POST", "/api/v1/report", body)
	req.ContentLength = 4 << 20
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	status := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		h.mux.ServeHTTP(w, req)
		status <- w.Code
	}()
	return body, status
}

func TestBodyBudgetIsTakenOnlyAfterAuthentication(t *testing.T) {
	h, ownKey, _ := budgetHub(t, 8<<20)
	// Clients without a valid key are answered without their body being
	// read, so they hold nothing, however slowly they send.
	for _, key := range []string{"", "no-such-key-0123456789"} {
		for range 4 {
			_, status := h.sendHeld(key)
			if got := <-status; got != http.StatusUnauthorized {
				t.Fatalf("key %q: %d, want 401", key, got)
			}
		}
	}
	report := cfgRequest{method: "POST", path: "/api/v1/report", key: ownKey, body: []byte(`{"customer_id":"kovacs-csalad"}`)}
	if res := h.do(report); res.status != http.StatusOK {
		t.Fatalf("report after unauthenticated slow bodies: %d %s", res.status, res.body)
	}

	// Two authenticated 4 MiB bodies fill the 8 MiB budget: the next body
	// waits, then gets 503 with Retry-After.
	var held []*heldBody
	var statuses []chan int
	for range 2 {
		b, st := h.sendHeld(ownKey)
		<-b.reading
		held, statuses = append(held, b), append(statuses, st)
	}
	global := report
	global.key = cfgGlobalKey
	res := h.do(global)
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
		t.Fatalf("body over a full budget: %d, Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	// A request without a body is not held back.
	if res := h.do(cfgRequest{method: "GET", path: "/api/v1/customers", key: cfgGlobalKey}); res.status != http.StatusOK {
		t.Errorf("GET under a full budget: %d", res.status)
	}
	// The slow clients give up: their bodies are refused and the room is
	// given back.
	for i, b := range held {
		close(b.release)
		if got := <-statuses[i]; got != http.StatusBadRequest {
			t.Errorf("cut-off body: %d, want 400", got)
		}
	}
	if res := h.do(global); res.status != http.StatusOK {
		t.Errorf("after the budget is free again: %d %s", res.status, res.body)
	}
}

func TestBodyBudgetBoundsOneKey(t *testing.T) {
	h, ownKey, otherKey := budgetHub(t, 64<<20)
	var held []*heldBody
	var statuses []chan int
	for range api.DefaultBodiesPerKey {
		b, st := h.sendHeld(ownKey)
		<-b.reading
		held, statuses = append(held, b), append(statuses, st)
	}
	// The budget has room, but not for this key.
	res := h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: ownKey, body: []byte(`{"customer_id":"kovacs-csalad"}`)})
	if res.status != http.StatusServiceUnavailable {
		t.Errorf("one key over its share: %d, want 503", res.status)
	}
	// Other keys, and the global key, are not affected.
	if res := h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: otherKey, body: []byte(`{"customer_id":"szabo-kft"}`)}); res.status != http.StatusOK {
		t.Errorf("another key: %d %s", res.status, res.body)
	}
	if res := h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: cfgGlobalKey, body: []byte(`{"customer_id":"kovacs-csalad"}`)}); res.status != http.StatusOK {
		t.Errorf("global key: %d %s", res.status, res.body)
	}
	for i, b := range held {
		close(b.release)
		<-statuses[i]
	}
	if res := h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: ownKey, body: []byte(`{"customer_id":"kovacs-csalad"}`)}); res.status != http.StatusOK {
		t.Errorf("after the key's bodies end: %d %s", res.status, res.body)
	}
}

func TestDeclaredOversizeBodyIsRefusedUnread(t *testing.T) {
	h, ownKey, _ := budgetHub(t, 8<<20)
	body := newHeldBody()
	req := httptest.NewRequest("POST", "/api/v1/report", body)
	req.ContentLength = 4<<20 + 1
	req.Header.Set("Authorization", "Bearer "+ownKey)
	w := httptest.NewRecorder()
	h.mux.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared 4 MiB + 1: %d, want 413", w.Code)
	}
	select {
	case <-body.reading:
		t.Error("the oversize body was read")
	default:
	}
}
