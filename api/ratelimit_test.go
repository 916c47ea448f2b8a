package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/store"
)

// replica is a second API server over the same database, as another
// replica of the hub would be.
func (h *configsHub) replica() *configsHub {
	h.t.Helper()
	s := newServer(h.db, cfgGlobalKey, h.clock.Now, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	s.Register(mux)
	return &configsHub{t: h.t, db: h.db, clock: h.clock, mux: mux, api: s}
}

// restart closes the database and serves it again from a new server, as a
// restarted hub would.
func (h *configsHub) restart() *configsHub {
	h.t.Helper()
	if err := h.db.Close(); err != nil {
		h.t.Fatal(err)
	}
	db := store.NewDB(h.db.Path)
	db.Now = h.clock.Now
	if err := db.Open(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	return (&configsHub{t: h.t, db: db, clock: h.clock}).replica()
}

// getRecovery asks for a customer's recovery bundle with a password from
// a client address.
func (h *configsHub) getRecovery(id, password, remote string) cfgResponse {
	return h.do(cfgRequest{method: "GET", path: "/api/v1/recovery/" + id, password: password, remote: remote})
}

// TestRetrievalLimitSharedBetweenReplicas spreads the guesses of one
// address over two API servers on one database: the limit counts them all.
func TestRetrievalLimitSharedBetweenReplicas(t *testing.T) {
	a := newConfigsHub(t)
	b := a.replica()
	_, password := a.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	const attacker = "203.0.113.7:5555"
	for i := range 10 {
		replica := []*configsHub{a, b}[i%2]
		if res := replica.getRecovery("kovacs-csalad", "guess", attacker); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, res.status)
		}
	}
	for name, replica := range map[string]*configsHub{"a": a, "b": b} {
		res := replica.getRecovery("kovacs-csalad", password, attacker)
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" {
			t.Errorf("replica %s, 11th attempt: %d Retry-After=%q", name, res.status, res.header.Get("Retry-After"))
		}
	}
	a.clock.Add(time.Minute)
	if res := b.getRecovery("kovacs-csalad", password, attacker); res.status != http.StatusOK {
		t.Fatalf("after a minute: %d %s", res.status, res.body)
	}
}

// TestRetrievalLimitSurvivesRestart restarts the hub between the guesses
// and the next attempt.
func TestRetrievalLimitSurvivesRestart(t *testing.T) {
	h := newConfigsHub(t)
	_, password := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	const attacker = "203.0.113.7:5555"
	for i := range 10 {
		if res := h.getRecovery("kovacs-csalad", "guess", attacker); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, res.status)
		}
	}
	h = h.restart()
	res := h.getRecovery("kovacs-csalad", password, attacker)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" {
		t.Fatalf("after the restart: %d Retry-After=%q", res.status, res.header.Get("Retry-After"))
	}
}

// TestRetrievalLimitConcurrentFailures guesses one customer's password from
// many addresses at once through two replicas: every failure answered 401
// is counted, none lost to a race.
func TestRetrievalLimitConcurrentFailures(t *testing.T) {
	a := newConfigsHub(t)
	replicas := []*configsHub{a, a.replica()}
	_, password := a.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	const guessers = 40
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range guessers {
		wg.Go(func() {
			res := replicas[i%2].getRecovery("kovacs-csalad", "guess", fmt.Sprintf("[2001:db8:%x::1]:1", i))
			mu.Lock()
			statuses[res.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	// Each attempt takes its event before the password is checked, in one
	// atomic step: exactly the burst is answered, however parallel.
	failures := statuses[http.StatusUnauthorized]
	if failures != 20 || statuses[http.StatusTooManyRequests] != guessers-20 {
		t.Fatalf("statuses %v: want exactly the burst of 20 failures, the rest 429", statuses)
	}
	// All at one instant: tat = now + failures·3 min, of which the burst's
	// first 19 intervals do not wait. The next wrong guess is refused...
	res := a.getRecovery("kovacs-csalad", "guess", "198.51.100.1:1")
	want := strconv.Itoa((failures - 19) * 180)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != want {
		t.Fatalf("after %d failures: %d Retry-After=%q, want 429 and %s", failures, res.status, res.header.Get("Retry-After"), want)
	}
	// ...but the right password, counted only when it fails, is not.
	if res := a.getRecovery("kovacs-csalad", password, "198.51.100.2:1"); res.status != http.StatusOK {
		t.Fatalf("right password after %d failures: %d %s", failures, res.status, res.body)
	}
}

// brokenLimits is a rate-limit store whose reads or writes fail.
type brokenLimits struct {
	hub.RateLimitService
	failWait, failAdd bool
	// failCustomerTake fails only the takes of per-customer limits (the
	// count of a failure); failRefund the refunds.
	failCustomerTake, failRefund bool
}

func (b *brokenLimits) RefundRateLimitEvents(ctx context.Context, limits ...hub.RateLimit) error {
	if b.failRefund {
		return errDiskIO
	}
	return b.RateLimitService.RefundRateLimitEvents(ctx, limits...)
}

var errDiskIO = errors.New("disk I/O error")

func (b *brokenLimits) RateLimitWait(ctx context.Context, limits ...hub.RateLimit) (time.Duration, error) {
	if b.failWait {
		return 0, errDiskIO
	}
	return b.RateLimitService.RateLimitWait(ctx, limits...)
}

func (b *brokenLimits) TakeRateLimitEvents(ctx context.Context, limits ...hub.RateLimit) (bool, error) {
	if b.failAdd {
		return false, errDiskIO
	}
	for _, l := range limits {
		if b.failCustomerTake && strings.HasPrefix(l.Key, "retrieval:customer:") {
			return false, errDiskIO
		}
	}
	return b.RateLimitService.TakeRateLimitEvents(ctx, limits...)
}

// TestRetrievalLimitDatabaseFailure: when an attempt cannot be counted, it
// is not let through unchecked, right password or not: 503 with
// Retry-After, never 500 and never an ordinary 401. A refusal whose wait
// cannot be read is 503 too.
func TestRetrievalLimitDatabaseFailure(t *testing.T) {
	h := newConfigsHub(t)
	_, password := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	broken := &brokenLimits{RateLimitService: h.db}
	h.api.RateLimits = broken
	tests := []struct {
		name                         string
		failWait, failAdd            bool
		failCustomerTake, failRefund bool
		password                     string
		want                         int
	}{
		{"write fails, wrong password", false, true, false, false, "guess", http.StatusServiceUnavailable},
		{"write fails, no password", false, true, false, false, "", http.StatusServiceUnavailable},
		{"write fails, right password", false, true, false, false, password, http.StatusServiceUnavailable},
		{"read fails, right password", true, false, false, false, password, http.StatusServiceUnavailable},
		{"read fails, wrong password", true, false, false, false, "guess", http.StatusServiceUnavailable},
		// A failure that cannot be counted against the customer is not
		// answered as an ordinary 401 either.
		{"failure count fails, wrong password", false, false, true, false, "guess", http.StatusServiceUnavailable},
		{"failure count fails, right password", false, false, true, false, password, http.StatusOK},
		// A refund that cannot be written leaves the attempt counted.
		{"refund fails, right password", false, false, false, true, password, http.StatusOK},
		{"healthy, right password", false, false, false, false, password, http.StatusOK},
		{"healthy, wrong password", false, false, false, false, "guess", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken.failWait, broken.failAdd = tt.failWait, tt.failAdd
			broken.failCustomerTake, broken.failRefund = tt.failCustomerTake, tt.failRefund
			for _, path := range []string{"/api/v1/recovery/kovacs-csalad", "/api/v1/config/kovacs-csalad"} {
				res := h.do(cfgRequest{method: "GET", path: path, password: tt.password})
				if res.status != tt.want {
					t.Fatalf("%s: %d %s, want %d", path, res.status, res.body, tt.want)
				}
				if tt.want == http.StatusServiceUnavailable && (res.header.Get("Retry-After") == "" || res.errorText() == "") {
					t.Errorf("%s: 503 without Retry-After or message: %q %s", path, res.header.Get("Retry-After"), res.body)
				}
			}
		})
	}
}

// TestRetrievalRightPasswordDuringParallelGuessing: 40 wrong guesses and
// 10 right passwords at once, from as many addresses, through two
// replicas. Exactly the burst of failures is answered 401, the rest of the
// guesses 429, and every right password 200.
func TestRetrievalRightPasswordDuringParallelGuessing(t *testing.T) {
	a := newConfigsHub(t)
	replicas := []*configsHub{a, a.replica()}
	_, password := a.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	const guessers, owners = 40, 10
	var (
		wg                  sync.WaitGroup
		mu                  sync.Mutex
		guesses, rightTries = map[int]int{}, map[int]int{}
	)
	for i := range guessers + owners {
		wg.Go(func() {
			pw, got := "guess", guesses
			if i >= guessers {
				pw, got = password, rightTries
			}
			res := replicas[i%2].getRecovery("kovacs-csalad", pw, fmt.Sprintf("[2001:db8:%x::1]:1", i))
			mu.Lock()
			got[res.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if guesses[http.StatusUnauthorized] != 20 || guesses[http.StatusTooManyRequests] != guessers-20 {
		t.Errorf("wrong guesses: %v, want exactly 20 401 and the rest 429", guesses)
	}
	if rightTries[http.StatusOK] != owners {
		t.Errorf("right passwords: %v, want all %d 200", rightTries, owners)
	}
}
