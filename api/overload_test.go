package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	return h.sendHeldTo("/api/v1/report", key, 4<<20)
}

// sendHeldTo starts a POST to path whose body of the declared size never
// arrives.
func (h *configsHub) sendHeldTo(path, key string, size int64) (*heldBody, chan int) {
	body := newHeldBody()
	req := httptest.NewRequest("POST", path, body)
	req.ContentLength = size
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
	h, ownKey, otherKey := budgetHub(t, 8<<20)
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

	// Two authenticated 4 MiB bodies (of two customers: one customer gets
	// only its share) fill the 8 MiB budget: the next body waits, then
	// gets 503 with Retry-After.
	var held []*heldBody
	var statuses []chan int
	for _, key := range []string{ownKey, otherKey} {
		b, st := h.sendHeld(key)
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
	for range api.DefaultBodiesPerHolder {
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

// mintHost creates a host of customerID and returns its id and key.
func (h *configsHub) mintHost(customerID string) (id, key string) {
	h.t.Helper()
	res := h.do(cfgRequest{method: "POST", path: "/api/v1/admin/hosts", key: testAdminKey,
		body: []byte(`{"customer_id":"` + customerID + `"}`)})
	if res.status != http.StatusCreated {
		h.t.Fatalf("mint host: %d %s", res.status, res.body)
	}
	var out struct {
		HostID string `json:"host_id"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(res.body, &out); err != nil {
		h.t.Fatal(err)
	}
	return out.HostID, out.APIKey
}

// One customer holding its customer key and a host key sends slow bodies
// on both: together they get one share of the budget (a quarter of it),
// and honest customers, their hosts and manual nodes on the global key go
// on at once. The budget's wait is 100 ms, so an honest request that had
// to wait for the misbehaving customer's bodies would get 503.
func TestBodyBudgetIsSharedPerCustomer(t *testing.T) {
	h := newConfigsHub(t)
	h.api.Bodies = api.NewBodyBudget(api.DefaultBodyBudget, 100*time.Millisecond)
	const share = api.DefaultBodyBudget / api.DefaultHolderShares // 6 MiB
	hogKey, _ := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	_, hogHostKey := h.mintHost("kovacs-csalad")

	var held []*heldBody
	var statuses []chan int
	hold := func(path, key string, size int64) {
		t.Helper()
		b, st := h.sendHeldTo(path, key, size)
		select {
		case <-b.reading:
		case got := <-st:
			t.Fatalf("%s: %d before its body was read, want it admitted", path, got)
		}
		held, statuses = append(held, b), append(statuses, st)
	}
	refused := func(what, path, key string, size int64) {
		t.Helper()
		b, st := h.sendHeldTo(path, key, size)
		select {
		case got := <-st:
			if got != http.StatusServiceUnavailable {
				t.Fatalf("%s: %d, want 503", what, got)
			}
		case <-b.reading:
			close(b.release)
			t.Fatalf("%s: admitted, want 503", what)
		}
	}

	// The host key's slow 4 MiB body is admitted; a second 4 MiB body of
	// the same customer is not, on either key, though the budget has 20
	// MiB left.
	hold("/api/v1/host-report", hogHostKey, 4<<20)
	for range 2 {
		refused("second 4 MiB body on the customer key", "/api/v1/report", hogKey, 4<<20)
		refused("second 4 MiB body on the host key", "/api/v1/host-report", hogHostKey, 4<<20)
	}
	// What is left of its share, and no more.
	hold("/api/v1/report", hogKey, share-4<<20)
	refused("one byte over the share", "/api/v1/event", hogKey, 1)
	refused("one byte over the share on the host key", "/api/v1/host-report", hogHostKey, 1)

	// Four honest customers upload 4 MiB each over slow links, and still
	// their small reports, their hosts' heartbeats and a manual node's
	// report go through at once.
	for i := range 4 {
		id := fmt.Sprintf("honest-%d", i)
		key, _ := h.createCustomer(`{"customer_id":"` + id + `"}`)
		hostID, hostKey := h.mintHost(id)
		hold("/api/v1/infra-backup", key, 4<<20)
		for _, req := range []cfgRequest{
			{method: "POST", path: "/api/v1/report", key: key, body: []byte(`{"customer_id":"` + id + `"}`)},
			{method: "POST", path: "/api/v1/host-report", key: hostKey, body: []byte(`{"host_id":"` + hostID + `"}`)},
			{method: "POST", path: "/api/v1/report", key: cfgGlobalKey, body: []byte(`{"customer_id":"manual-` + id + `"}`), remote: fmt.Sprintf("198.51.100.%d:4000", i+1)},
		} {
			if res := h.do(req); res.status != http.StatusOK {
				t.Errorf("%s %s of an honest node while another customer misbehaves: %d %s", req.method, req.path, res.status, res.body)
			}
		}
	}

	// The slow bodies end; the misbehaving customer's share is free again.
	for i, b := range held {
		close(b.release)
		<-statuses[i]
	}
	if res := h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: hogKey, body: []byte(`{"customer_id":"kovacs-csalad"}`)}); res.status != http.StatusOK {
		t.Errorf("after its slow bodies end: %d %s", res.status, res.body)
	}
}

// Manual nodes share the global key: a slow one takes the share of its own
// address only.
func TestBodyBudgetGlobalKeyIsSharedPerAddress(t *testing.T) {
	h := newConfigsHub(t)
	h.api.Bodies = api.NewBodyBudget(api.DefaultBodyBudget, 100*time.Millisecond)
	var held []*heldBody
	var statuses []chan int
	send := func(remote string) (*heldBody, chan int) {
		body := newHeldBody()
		req := httptest.NewRequest("POST", "/api/v1/report", body)
		req.ContentLength = 4 << 20
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Bearer "+cfgGlobalKey)
		status := make(chan int, 1)
		go func() {
			w := httptest.NewRecorder()
			h.mux.ServeHTTP(w, req)
			status <- w.Code
		}()
		return body, status
	}
	b, st := send("203.0.113.9:5000")
	<-b.reading
	held, statuses = append(held, b), append(statuses, st)
	second, st2 := send("203.0.113.9:5001")
	select {
	case got := <-st2:
		if got != http.StatusServiceUnavailable {
			t.Errorf("a second 4 MiB body from the same address: %d, want 503", got)
		}
	case <-second.reading:
		close(second.release)
		t.Error("a second 4 MiB body from the same address was admitted")
	}
	for i := range 3 {
		res := h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: cfgGlobalKey,
			body: []byte(fmt.Sprintf(`{"customer_id":"manual-%d"}`, i)), remote: fmt.Sprintf("198.51.100.%d:4000", i+1)})
		if res.status != http.StatusOK {
			t.Errorf("manual node %d: %d %s", i, res.status, res.body)
		}
	}
	for i, b := range held {
		close(b.release)
		<-statuses[i]
	}
}
