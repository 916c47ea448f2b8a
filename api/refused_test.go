package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/internal/clocktest"
)

// countingRefusals is a RefusedReportService that counts its writes.
type countingRefusals struct {
	mu     sync.Mutex
	ids    []string
	writes int
	added  []hub.RefusedReportCount
	fail   bool
}

func (c *countingRefusals) AddRefusedReports(_ context.Context, counts []hub.RefusedReportCount, _ time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("database down")
	}
	c.writes++
	c.added = append(c.added, counts...)
	return nil
}

func (c *countingRefusals) FindRefusedReports(context.Context, string, time.Time) (hub.RefusedReports, error) {
	return hub.RefusedReports{}, nil
}

func (c *countingRefusals) FindCustomerIDs(context.Context) ([]string, error) {
	return c.ids, nil
}

func (c *countingRefusals) total(id string) (n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.added {
		if a.CustomerID == id {
			n += a.Refused
		}
	}
	return n
}

func TestRefusedReportsCounter(t *testing.T) {
	ctx := context.Background()
	c := clocktest.New(epoch)
	st := &countingRefusals{ids: []string{"kovacs", "nagy"}}
	r := api.NewRefusedReports(st, slog.New(slog.DiscardHandler))
	r.Now, r.MaxPending = c.Now, 3
	if r.Note("kovacs", hub.RefusedUnknownKey) {
		t.Error("counted before the customers were loaded")
	}
	if err := r.Tick(ctx); err != nil { // loads the ids; nothing to write
		t.Fatal(err)
	}
	if st.writes != 0 {
		t.Errorf("%d writes with nothing counted", st.writes)
	}
	for range 1000 {
		if !r.Note("kovacs", hub.RefusedUnknownKey) {
			t.Fatal("an existing customer was not counted")
		}
	}
	for _, id := range []string{"nobody", "", "../../etc", strings.Repeat("a", 100)} {
		if r.Note(id, hub.RefusedUnknownKey) {
			t.Errorf("%q counted: it is no customer", id)
		}
	}
	c.Add(30 * time.Second)
	r.Note("nagy", hub.RefusedNoKey)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if st.writes != 0 {
		t.Errorf("written %d times within the first minute: the counts must wait", st.writes)
	}
	c.Add(30 * time.Second)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if st.writes != 1 || st.total("kovacs") != 1000 || st.total("nagy") != 1 {
		t.Fatalf("after a minute: %d writes, kovacs %d, nagy %d; want one write of 1000 and 1", st.writes, st.total("kovacs"), st.total("nagy"))
	}
	// A write that fails keeps the counts for the next.
	c.Add(time.Minute)
	r.Note("kovacs", hub.RefusedOtherCustomer)
	st.fail = true
	if err := r.Tick(ctx); err == nil {
		t.Error("a failed write was not reported")
	}
	st.fail = false
	c.Add(time.Minute)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if st.total("kovacs") != 1001 {
		t.Errorf("after a failed write: %d, want 1001", st.total("kovacs"))
	}
	// Memory is bounded: customer-hours past MaxPending are dropped.
	for h := range 5 {
		c.Add(time.Hour)
		r.Note("kovacs", hub.RefusedUnknownKey)
		_ = h
	}
	c.Add(time.Minute)
	before := len(st.added)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(st.added) - before; got != 3 {
		t.Errorf("%d customer-hours written, want MaxPending = 3", got)
	}
}

// refusedEnv is rotationEnv with two customers known to the counter.
func refusedEnv(t *testing.T) (*testHub, *api.RefusedReports, string, string) {
	h, refused := rotationEnv(t)
	kovacs, nagy := h.customer("kovacs"), h.customer("nagy")
	if err := refused.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h, refused, kovacs, nagy
}

func TestRefusedReportsCountedAndLogged(t *testing.T) {
	ctx := context.Background()
	h, refused, kovacsKey, nagyKey := refusedEnv(t)
	wrongKey := "wrong-key-" + hub.NewAPIKey()
	for range 3 {
		if got := h.reportStatus(wrongKey, "kovacs"); got != http.StatusUnauthorized {
			t.Fatalf("unknown key: %d", got)
		}
	}
	// customer_id need not come first; a body that is no JSON, or that
	// names no customer, or one that does not exist, is not counted.
	for _, body := range []string{
		`{"reported_at":"2026-11-22T09:45:03Z","system":{"hostname":"x","nested":[1,{"a":"b"}]},"customer_id":"kovacs"}`,
		`not json`, `{"system":{}}`, `{"customer_id":"nobody"}`, `{"customer_id":"KOVACS"}`,
		`{"padding":"` + strings.Repeat("x", 5000) + `","customer_id":"kovacs"}`,
	} {
		if status, _ := h.do("POST", "/api/v1/report", wrongKey, []byte(body)); status != http.StatusUnauthorized && status != http.StatusBadRequest {
			t.Fatalf("%.40s: %d", body, status)
		}
	}
	if got := h.env.do("POST", "/api/v1/report", "", `{"customer_id":"kovacs"}`); got.status != http.StatusUnauthorized {
		t.Fatalf("no key: %d", got.status)
	}
	h.clock.Add(time.Second)
	if got := h.reportStatus(nagyKey, "kovacs"); got != http.StatusForbidden {
		t.Fatalf("another customer's key: %d", got)
	}
	// Nothing is written per request.
	since := epoch.Add(-24 * time.Hour)
	if got, _ := h.db.FindRefusedReports(ctx, "kovacs", since); got.Refused != 0 {
		t.Errorf("written before the minute was up: %+v", got)
	}
	h.clock.Add(time.Minute)
	if err := refused.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := h.db.FindRefusedReports(ctx, "kovacs", since)
	if err != nil {
		t.Fatal(err)
	}
	if got.Refused != 6 || !got.LastAt.Equal(epoch.Add(time.Second)) || got.LastReason != "API key of another customer (nagy)" {
		t.Errorf("refused = %+v; want 3 unknown key + 1 later in the body + 1 no key + 1 of nagy, last the 403", got)
	}
	if other, _ := h.db.FindRefusedReports(ctx, "nobody", since); other.Refused != 0 {
		t.Errorf("a customer that does not exist got counts: %+v", other)
	}
	// A valid key of the customer is never a refusal.
	if status := h.reportStatus(kovacsKey, "kovacs"); status != http.StatusOK {
		t.Fatal(status)
	}

	logs := h.logs.String()
	if n := strings.Count(logs, `msg="report refused"`); n != 6 {
		t.Errorf("%d refusal log lines, want 6:\n%s", n, logs)
	}
	if !strings.Contains(logs, `msg="report refused" customer_id=kovacs reason="unknown API key"`) {
		t.Errorf("the log does not name the claimed customer:\n%s", logs)
	}
	for _, key := range []string{wrongKey, nagyKey} {
		for _, part := range []string{key, key[:8], key[len(key)-8:]} {
			if strings.Contains(logs, part) {
				t.Fatalf("the log holds (part of) a key %q", part)
			}
		}
	}
	if strings.Contains(logs, "customer_id=nobody") {
		t.Error("a refusal for a customer that does not exist was logged")
	}
}
