package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/felhom/hub/dispatch"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/notify"
	"github.com/felhom/hub/store"
)

const resendKey = "re_test_secret_key_0123456789"

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeResend is Resend's POST /emails with its idempotency semantics: a
// second request with a delivered key is answered without delivering.
type fakeResend struct {
	mu sync.Mutex
	// status answers request n (from 0); nil answers 200.
	status     func(n int) int
	requests   int
	bodies     map[string][]string // idempotency key -> request bodies
	deliveries map[string]int      // idempotency key -> mails delivered
	replays    int
	badAuth    int
}

func newFakeResend(t *testing.T, status func(n int) int) (*fakeResend, *httptest.Server) {
	f := &fakeResend{status: status, bodies: map[string][]string{}, deliveries: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeResend) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	n := f.requests
	f.requests++
	if r.Method != http.MethodPost || r.URL.Path != "/emails" || r.Header.Get("Authorization") != "Bearer "+resendKey {
		f.badAuth++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	f.bodies[key] = append(f.bodies[key], string(body))
	status := http.StatusOK
	if f.status != nil {
		status = f.status(n)
	}
	w.Header().Set("Content-Type", "application/json")
	if status != http.StatusOK {
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"statusCode":%d,"name":"test_error","message":"failing on purpose"}`, status)
		return
	}
	if f.deliveries[key] > 0 {
		f.replays++
	} else {
		f.deliveries[key]++
	}
	_, _ = io.WriteString(w, `{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}`)
}

func (f *fakeResend) snapshot() (requests int, deliveries map[string]int, bodies map[string][]string, replays int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := map[string]int{}
	for k, v := range f.deliveries {
		d[k] = v
	}
	b := map[string][]string{}
	for k, v := range f.bodies {
		b[k] = append([]string(nil), v...)
	}
	return f.requests, d, b, f.replays
}

// harness is a hub's notification path over a real database.
type harness struct {
	t      *testing.T
	path   string
	clock  *clocktest.Clock
	db     *store.DB
	events *dispatch.Worker
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "hub.db"), clock: clocktest.New(epoch)}
	h.open()
	ctx := context.Background()
	r, _ := hub.ParseReport([]byte(`{"customer_id":"kovacs-csalad","health":"ok","system":{"hostname":"felhom-kovacs"}}`), time.Now())
	if _, err := h.db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := h.db.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: "kovacs-csalad",
		Email: "kovacs.anna@example.hu", EnabledEvents: []string{"backup_failed", "disk_space_critical", "tunnel_down"}}); err != nil {
		t.Fatal(err)
	}
	return h
}

// open opens (or reopens) the database and the event dispatch.
func (h *harness) open() {
	h.t.Helper()
	h.db = store.NewDB(h.path)
	h.db.Now = h.clock.Now
	if err := h.db.Open(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	db := h.db
	h.t.Cleanup(func() { db.Close() })
	d, err := notify.NewDispatcher(h.db, notify.Policy{
		OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour,
	}, mustTemplates(h.t), "https://hub.felhom.eu")
	if err != nil {
		h.t.Fatal(err)
	}
	h.events = dispatch.NewWorker(h.db, d, discard)
}

// postEvents stores error events of the given types and dispatches them:
// each queues an operator and a customer mail.
func (h *harness) postEvents(types ...string) {
	h.t.Helper()
	for _, typ := range types {
		e := &hub.Event{CustomerID: "kovacs-csalad", Type: typ, Severity: hub.SeverityError, Source: hub.SourceController, Message: typ + " on /mnt/hdd1"}
		if err := h.db.CreateEvent(context.Background(), e); err != nil {
			h.t.Fatal(err)
		}
	}
	if _, err := h.events.RunOnce(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) sender(baseURL string) *notify.Sender {
	s := notify.NewSender(h.db, notify.NewResend(resendKey, baseURL), "Felhom <monitoring@felhom.eu>", 5, discard)
	s.Now = h.clock.Now
	s.Jitter = func() float64 { return 0.5 }
	return s
}

// drain runs the sender, moving the clock past every back-off, until the
// outbox has nothing pending.
func (h *harness) drain(s *notify.Sender) {
	h.t.Helper()
	for range 50 {
		if _, err := s.RunOnce(context.Background()); err != nil {
			h.t.Fatal(err)
		}
		if _, pending, _ := h.db.NextOutboxDue(context.Background()); !pending {
			return
		}
		h.clock.Add(notify.DefaultMaxDelay)
	}
	h.t.Fatal("the outbox never drained")
}

func (h *harness) statuses() map[string]int {
	h.t.Helper()
	rows, err := h.db.FindNotifications(context.Background(), hub.NotificationFilter{CustomerID: "kovacs-csalad"})
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Channel+":"+r.Status]++
	}
	return out
}

func TestSenderRetriesThroughAnOutage(t *testing.T) {
	h := newHarness(t)
	// Resend answers 503 to the first 7 requests, then recovers.
	fake, srv := newFakeResend(t, func(n int) int {
		if n < 7 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	h.postEvents("backup_failed", "disk_space_critical", "tunnel_down")
	h.drain(h.sender(srv.URL))

	requests, deliveries, bodies, replays := fake.snapshot()
	if len(deliveries) != 6 || replays != 0 || fake.badAuth != 0 {
		t.Fatalf("deliveries %v, replays %d, bad auth %d", deliveries, replays, fake.badAuth)
	}
	for key, n := range deliveries {
		if n != 1 {
			t.Errorf("mail %s delivered %d times", key, n)
		}
		// Every attempt of a mail carried the same key and the same body.
		for _, b := range bodies[key][1:] {
			if b != bodies[key][0] {
				t.Errorf("mail %s changed between attempts", key)
			}
		}
		if !strings.HasPrefix(key, "felhom-hub/event/") {
			t.Errorf("key %q", key)
		}
	}
	if requests != 6+7 {
		t.Fatalf("requests %d, want 13", requests)
	}
	if got := h.statuses(); got["operator:sent"] != 3 || got["customer:sent"] != 3 || len(got) != 2 {
		t.Fatalf("statuses %v", got)
	}
	var body struct {
		From    string   `json:"from"`
		To      []string `json:"to"`
		Subject string   `json:"subject"`
		Text    string   `json:"text"`
		HTML    string   `json:"html"`
	}
	for _, b := range bodies {
		if err := json.Unmarshal([]byte(b[0]), &body); err != nil {
			t.Fatal(err)
		}
		if body.From != "Felhom <monitoring@felhom.eu>" || len(body.To) != 1 || body.Subject == "" || body.Text == "" || body.HTML == "" {
			t.Fatalf("body %+v", body)
		}
	}
	if stats, _ := h.db.FindOutboxStats(context.Background()); len(stats) != 0 {
		t.Fatalf("outbox not empty: %v", stats)
	}
}

func TestSenderDoesNotRetryA400(t *testing.T) {
	h := newHarness(t)
	fake, srv := newFakeResend(t, func(int) int { return http.StatusBadRequest })
	h.postEvents("backup_failed")
	h.drain(h.sender(srv.URL))
	if requests, _, _, _ := fake.snapshot(); requests != 2 {
		t.Fatalf("requests %d, want one per mail", requests)
	}
	rows, _ := h.db.FindNotifications(context.Background(), hub.NotificationFilter{Status: hub.NotificationFailed})
	if len(rows) != 2 {
		t.Fatalf("failed rows %+v", rows)
	}
	for _, r := range rows {
		if r.Attempts != 1 || !strings.Contains(r.Error, "HTTP 400") || !strings.Contains(r.Error, "failing on purpose") ||
			strings.Contains(r.Error, resendKey) {
			t.Errorf("row %+v", r)
		}
	}
	if stats, _ := h.db.FindOutboxStats(context.Background()); stats["kovacs-csalad"] != (hub.OutboxStats{Failed: 2}) {
		t.Fatalf("stats %v", stats)
	}
}

func TestSenderGivesUpAfterMaxAttempts(t *testing.T) {
	h := newHarness(t)
	fake, srv := newFakeResend(t, func(int) int { return http.StatusTooManyRequests })
	h.postEvents("backup_failed")
	h.drain(h.sender(srv.URL))
	if requests, _, _, _ := fake.snapshot(); requests != 2*5 {
		t.Fatalf("requests %d, want 5 per mail", requests)
	}
	rows, _ := h.db.FindNotifications(context.Background(), hub.NotificationFilter{Status: hub.NotificationFailed})
	if len(rows) != 2 || rows[0].Attempts != 5 || !strings.Contains(rows[0].Error, "HTTP 429") {
		t.Fatalf("rows %+v", rows)
	}
}

func TestSenderDeliversAfterRestart(t *testing.T) {
	h := newHarness(t)
	fake, srv := newFakeResend(t, nil)
	h.postEvents("backup_failed", "tunnel_down")

	// A sender claims a mail and dies before sending it; the hub stops.
	if claimed, err := h.db.ClaimOutbox(context.Background(), "crashed", 1, 90*time.Second); err != nil || len(claimed) != 1 {
		t.Fatalf("claim %v %v", claimed, err)
	}
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	// A new hub: a new database handle and a new sender.
	h.open()
	s := h.sender(srv.URL)
	if n, err := s.RunOnce(context.Background()); err != nil || n != 3 {
		t.Fatalf("delivered %d %v, want the 3 mails not leased", n, err)
	}
	h.clock.Add(90*time.Second + time.Millisecond) // the lease has run out
	if n, err := s.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("delivered %d %v, want the crashed sender's mail", n, err)
	}
	_, deliveries, _, replays := fake.snapshot()
	if len(deliveries) != 4 || replays != 0 {
		t.Fatalf("deliveries %v, replays %d", deliveries, replays)
	}
	if got := h.statuses(); got["operator:sent"] != 2 || got["customer:sent"] != 2 {
		t.Fatalf("statuses %v", got)
	}
	// The events are not dispatched again after the restart.
	h.postEvents()
	if got := h.statuses(); len(got) != 2 {
		t.Fatalf("statuses after a second dispatch run %v", got)
	}
}

// lostAnswer delivers through Resend but reports a network error, as when
// the connection drops after Resend accepted the mail.
type lostAnswer struct {
	notify.Provider
	mu   sync.Mutex
	lost int
}

func (l *lostAnswer) Send(ctx context.Context, m *notify.Message) error {
	err := l.Provider.Send(ctx, m)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && l.lost < 1 {
		l.lost++
		return errors.New("read tcp: connection reset by peer")
	}
	return err
}

func TestSenderRetryAfterLostAnswerIsDeduplicated(t *testing.T) {
	h := newHarness(t)
	fake, srv := newFakeResend(t, nil)
	h.postEvents("backup_failed")
	s := h.sender(srv.URL)
	s.Provider = &lostAnswer{Provider: s.Provider}
	h.drain(s)
	requests, deliveries, _, replays := fake.snapshot()
	if requests != 3 || replays != 1 || len(deliveries) != 2 {
		t.Fatalf("requests %d, replays %d, deliveries %v", requests, replays, deliveries)
	}
	for key, n := range deliveries {
		if n != 1 {
			t.Errorf("mail %s delivered %d times", key, n)
		}
	}
}

func TestSendersInParallelDeliverOnce(t *testing.T) {
	h := newHarness(t)
	fake, srv := newFakeResend(t, nil)
	for range 5 {
		h.postEvents("backup_failed", "disk_space_critical", "tunnel_down")
		h.clock.Add(7 * time.Hour) // past every cooldown
	}
	var wg sync.WaitGroup
	for range 3 {
		s := h.sender(srv.URL)
		wg.Go(func() {
			if _, err := s.RunOnce(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	requests, deliveries, _, replays := fake.snapshot()
	if len(deliveries) != 30 || requests != 30 || replays != 0 {
		t.Fatalf("requests %d, deliveries %d, replays %d", requests, len(deliveries), replays)
	}
}

func TestSenderLoopWakesOnQueuedMail(t *testing.T) {
	h := newHarness(t)
	fake, srv := newFakeResend(t, nil)
	s := h.sender(srv.URL)
	s.PollInterval = time.Hour // only a wake-up can deliver in time
	h.db.NotificationsQueued = s.Notify
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	h.postEvents("backup_failed")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, d, _, _ := fake.snapshot(); len(d) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sender did not wake up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
