package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
)

// seedFleet stores n customers with one report each, every tenth with an
// error event, concurrently so that the group-commit writer batches them.
func seedFleet(tb testing.TB, e *env, n int) {
	tb.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("fleet-%05d", i)
			r, err := hub.ParseReport(fleetsim.NewNode(id, uint64(i), 2<<10).Report(e.clock.Now(), true), time.Now())
			if err == nil {
				_, err = e.db.CreateReport(ctx, r)
			}
			if err == nil && i%10 == 0 {
				err = e.db.CreateEvent(ctx, &hub.Event{CustomerID: id, Type: "backup_failed", Severity: "error", Source: hub.SourceController, Message: "failed"})
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

func httptestRequest(method, path, key string) *http.Request {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// serve runs a request through the env's handler in process.
func serve(e *env, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(rec, req)
	return rec
}
