package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/notify"
)

// hangingResend is Resend that hangs, until the request is given up, for
// the recipients in hang while it is on, and delivers every other mail
// (each idempotency key once).
type hangingResend struct {
	mu         sync.Mutex
	hang       map[string]bool
	hanging    int            // requests hanging now
	hangs      int            // requests that hung
	deliveries map[string]int // idempotency key -> deliveries
	// duringHang counts the deliveries made while a request hung.
	duringHang int
	started    chan struct{} // gets a value when a request starts hanging
}

func newHangingResend(t *testing.T, hang ...string) (*hangingResend, *httptest.Server) {
	f := &hangingResend{hang: map[string]bool{}, deliveries: map[string]int{}, started: make(chan struct{}, 100)}
	for _, to := range hang {
		f.hang[to] = true
	}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *hangingResend) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		To []string `json:"to"`
	}
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	if len(body.To) == 1 && f.hang[body.To[0]] {
		f.hanging++
		f.hangs++
		f.mu.Unlock()
		f.started <- struct{}{}
		<-r.Context().Done() // the sender gave up
		f.mu.Lock()
		f.hanging--
		f.mu.Unlock()
		return
	}
	defer f.mu.Unlock()
	f.deliveries[r.Header.Get("Idempotency-Key")]++
	if f.hanging > 0 {
		f.duringHang++
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}`)
}

func (f *hangingResend) setHang(to string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang[to] = on
}

func (f *hangingResend) snapshot() (deliveries map[string]int, hangs, duringHang int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := map[string]int{}
	for k, v := range f.deliveries {
		d[k] = v
	}
	return d, f.hangs, f.duringHang
}

// A provider that hangs for one recipient: the other mails go out while
// it hangs, the hung ones are retried after their back-off and then
// delivered, and no mail is delivered twice.
func TestSenderHangingRecipientDoesNotHoldOthers(t *testing.T) {
	h := newHarness(t)
	const customer = "kovacs.anna@example.hu"
	fake, srv := newHangingResend(t, customer)
	h.postEvents("backup_failed", "tunnel_down", "disk_space_critical") // 3 operator + 3 customer mails
	s := h.sender(srv.URL)
	s.SendTimeout = time.Second

	n, err := s.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deliveries, hangs, duringHang := fake.snapshot()
	if n != 3 || len(deliveries) != 3 || hangs != 3 {
		t.Fatalf("first run: %d sent, %d delivered, %d hung; want the 3 operator mails sent, the 3 customer mails hung", n, len(deliveries), hangs)
	}
	if duringHang == 0 {
		t.Error("no mail was delivered while a send hung: one hanging recipient holds the others")
	}
	if got := h.statuses(); got["operator:sent"] != 3 || got["customer:queued"] != 3 {
		t.Fatalf("statuses %v", got)
	}
	rows, _ := h.db.FindNotifications(context.Background(), hub.NotificationFilter{CustomerID: "kovacs-csalad", Status: hub.NotificationQueued})
	for _, r := range rows {
		if r.Attempts != 1 || r.Error == "" {
			t.Errorf("hung mail: attempts %d, error %q", r.Attempts, r.Error)
		}
	}

	// Not before the back-off: nothing is tried again.
	if n, err := s.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("within the back-off: %d %v", n, err)
	}
	if _, hangs, _ := fake.snapshot(); hangs != 3 {
		t.Errorf("a hung mail was retried before its back-off: %d hangs", hangs)
	}
	// The provider recovers; after the back-off the mails go out once.
	fake.setHang(customer, false)
	h.clock.Add(notify.DefaultBaseDelay)
	if n, err := s.RunOnce(context.Background()); err != nil || n != 3 {
		t.Fatalf("after the back-off: %d %v", n, err)
	}
	deliveries, _, _ = fake.snapshot()
	if len(deliveries) != 6 {
		t.Errorf("%d mails delivered, want 6", len(deliveries))
	}
	for key, n := range deliveries {
		if n != 1 {
			t.Errorf("mail %s delivered %d times", key, n)
		}
	}
	if got := h.statuses(); got["operator:sent"] != 3 || got["customer:sent"] != 3 {
		t.Errorf("statuses %v", got)
	}
}

// Close while the provider hangs: the send is cancelled at once, Close
// returns without error long before its deadline, and the mail goes back
// to the queue, due now and leased to no one, not failed.
func TestSenderCloseCancelsHangingSend(t *testing.T) {
	h := newHarness(t)
	fake, srv := newHangingResend(t, "ops@felhom.eu", "kovacs.anna@example.hu")
	h.postEvents("backup_failed")
	s := h.sender(srv.URL)
	s.SendTimeout = time.Hour // only Close can end the send
	s.MaxAttempts = 1         // a send that counted as failing would fail for good
	s.DrainTimeout = 50 * time.Millisecond
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-fake.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the sends never reached the provider")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Close took until its deadline")
	}
	if got := h.statuses(); got["operator:queued"] != 1 || got["customer:queued"] != 1 {
		t.Fatalf("statuses after Close %v, want both mails back in the queue", got)
	}
	// Another sender takes them at once (same clock): no lease is held.
	claimed, err := h.db.ClaimOutbox(context.Background(), "next-run", 10, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d %v after Close, want both mails", len(claimed), err)
	}
}
