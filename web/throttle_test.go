package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/store"
	"github.com/felhom/hub/web"
)

// Replica is a second dashboard over the harness's database, as another
// replica of the hub would be; mutate adjusts its server first.
func (h *Harness) Replica(mutate func(*web.Server)) *Harness {
	h.t.Helper()
	srv := &web.Server{}
	*srv = *h.Server
	if mutate != nil {
		mutate(srv)
	}
	handler, err := srv.Handler()
	if err != nil {
		h.t.Fatal(err)
	}
	r := *h
	r.Server, r.Handler = srv, handler
	return &r
}

// Restart closes the database and serves it again from a new dashboard,
// as a restarted hub would.
func (h *Harness) Restart() *Harness {
	h.t.Helper()
	if err := h.DB.Close(); err != nil {
		h.t.Fatal(err)
	}
	db := store.NewDB(h.DB.Path)
	db.Now = h.Clock.Now
	if err := db.Open(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	r := h.Replica(func(s *web.Server) {
		s.Customers, s.Reports, s.Sessions, s.RateLimits = db, db, db, db
		s.Operators, s.Tokens, s.Audit = db, db, db
	})
	r.DB = db
	return r
}

// login posts the login form from remote to a dashboard.
func login(h *Harness, remote, password string) *Response {
	req := httptestRequest("POST", "/login", url.Values{"password": {password}})
	req.RemoteAddr = remote
	return serve(h, req)
}

// TestLoginThrottleSharedBetweenReplicas spreads one address's guesses
// over two dashboards on one database: the throttle counts them all.
func TestLoginThrottleSharedBetweenReplicas(t *testing.T) {
	a := MustHarness(t, nil)
	b := a.Replica(nil)
	const guesser = "203.0.113.66:1234"
	for i := range 5 {
		replica := []*Harness{a, b}[i%2]
		expectStatus(t, login(replica, guesser, "guess"), http.StatusUnauthorized)
	}
	for _, replica := range []*Harness{a, b} {
		resp := login(replica, guesser, testPassword)
		expectStatus(t, resp, http.StatusTooManyRequests)
		expectContains(t, resp.Body, "Too many failed logins")
	}
	a.Clock.Add(20 * time.Second)
	expectStatus(t, login(b, guesser, testPassword), http.StatusSeeOther)
}

// TestLoginThrottleSurvivesRestart restarts the hub between the guesses
// and the next attempt.
func TestLoginThrottleSurvivesRestart(t *testing.T) {
	h := MustHarness(t, nil)
	const guesser = "203.0.113.66:1234"
	for range 5 {
		expectStatus(t, login(h, guesser, "guess"), http.StatusUnauthorized)
	}
	h = h.Restart()
	expectStatus(t, login(h, guesser, testPassword), http.StatusTooManyRequests)
	h.Clock.Add(20 * time.Second)
	expectStatus(t, login(h, guesser, testPassword), http.StatusSeeOther)
}

// TestLoginThrottleConcurrent sends one address's guesses all at once to
// two replicas: the check and the count are one step, so exactly the
// burst gets through, however the requests interleave.
func TestLoginThrottleConcurrent(t *testing.T) {
	a := MustHarness(t, nil)
	replicas := []*Harness{a, a.Replica(nil)}
	const guesses = 30
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range guesses {
		wg.Go(func() {
			resp := login(replicas[i%2], "203.0.113.66:1234", "guess")
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[http.StatusUnauthorized] != 5 || statuses[http.StatusTooManyRequests] != guesses-5 {
		t.Fatalf("statuses %v, want 5 × 401 (the burst) and %d × 429", statuses, guesses-5)
	}
}

// failingLimits is a rate-limit store whose database fails.
type failingLimits struct{ hub.RateLimitService }

func (failingLimits) TakeRateLimitEvents(context.Context, ...hub.RateLimit) (bool, error) {
	return false, hub.Unavailable(errors.New("disk I/O error"), "the database cannot be written now; retry later")
}

// TestLoginThrottleDatabaseFailure: when the throttle cannot be checked,
// the login is refused as throttled, never let through and never a 500.
func TestLoginThrottleDatabaseFailure(t *testing.T) {
	h := MustHarness(t, func(s *web.Server) { s.RateLimits = failingLimits{} })
	c := h.Client()
	resp := c.Post("/login", url.Values{"password": {testPassword}})
	expectStatus(t, resp, http.StatusTooManyRequests)
	expectContains(t, resp.Body, "Too many failed logins")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if c.Cookies["hub_session"] != nil {
		t.Error("a login was let through while the throttle could not be checked")
	}
	if !strings.Contains(h.Logs.String(), "login throttle cannot be checked") {
		t.Error("the failure was not logged")
	}
}
