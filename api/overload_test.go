package api_test

import (
	"bytes"
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
	handler := api.LimitBodies(8<<20, 50*time.Millisecond, slog.New(slog.DiscardHandler),
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
