package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

// mustWait returns how long limits must wait, failing the test on error.
func mustWait(tb testing.TB, db *store.DB, limits ...hub.RateLimit) time.Duration {
	tb.Helper()
	wait, err := db.RateLimitWait(context.Background(), limits...)
	if err != nil {
		tb.Fatal(err)
	}
	return wait
}

// mustAdd counts an event against limits.
func mustAdd(tb testing.TB, db *store.DB, limits ...hub.RateLimit) {
	tb.Helper()
	if err := db.AddRateLimitEvents(context.Background(), limits...); err != nil {
		tb.Fatal(err)
	}
}

// mustTake takes an event from limits and reports whether they allowed it.
func mustTake(tb testing.TB, db *store.DB, limits ...hub.RateLimit) bool {
	tb.Helper()
	ok, err := db.TakeRateLimitEvents(context.Background(), limits...)
	if err != nil {
		tb.Fatal(err)
	}
	return ok
}

// TestRateLimitMatchesTokenBucket checks that the GCRA state behaves as the
// token bucket it replaced: burst events at once, then one per every.
func TestRateLimitMatchesTokenBucket(t *testing.T) {
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	a := hub.RateLimit{Key: "test:a", Burst: 3, Every: time.Minute}
	for i := range 3 {
		if w := mustWait(t, db, a); w != 0 {
			t.Fatalf("event %d must not wait: %v", i, w)
		}
		mustAdd(t, db, a)
	}
	if w := mustWait(t, db, a); w != time.Minute {
		t.Fatalf("wait = %v, want 1m", w)
	}
	clock.Add(45 * time.Second)
	if w := mustWait(t, db, a); w != 15*time.Second {
		t.Fatalf("wait after 45 s = %v, want 15s", w)
	}
	clock.Add(15 * time.Second)
	if w := mustWait(t, db, a); w != 0 {
		t.Fatalf("wait after 1 m = %v, want 0", w)
	}
	// One event spends the refilled token: the next waits a full interval.
	mustAdd(t, db, a)
	if w := mustWait(t, db, a); w != time.Minute {
		t.Fatalf("wait after the refilled event = %v, want 1m", w)
	}
	// Idle for longer than the whole bucket: burst events at once again.
	clock.Add(time.Hour)
	for range 3 {
		mustAdd(t, db, a)
	}
	if w := mustWait(t, db, a); w != time.Minute {
		t.Fatalf("wait after an idle hour and a burst = %v, want 1m", w)
	}
	if w := mustWait(t, db, hub.RateLimit{Key: "test:b", Burst: 3, Every: time.Minute}); w != 0 {
		t.Fatalf("another key waits: %v", w)
	}
	// Several limits wait for the longest.
	b := hub.RateLimit{Key: "test:b", Burst: 1, Every: 3 * time.Minute}
	mustAdd(t, db, b)
	if w := mustWait(t, db, a, b); w != 3*time.Minute {
		t.Fatalf("wait of a and b = %v, want 3m", w)
	}
}

func TestTakeRateLimitEvents(t *testing.T) {
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	address := hub.RateLimit{Key: "test:address", Burst: 5, Every: 20 * time.Second}
	account := hub.RateLimit{Key: "test:account", Burst: 2, Every: 6 * time.Second}
	for i := range 2 {
		if !mustTake(t, db, address, account) {
			t.Fatalf("take %d refused", i)
		}
	}
	if mustTake(t, db, address, account) {
		t.Fatal("the account's third take in a burst of 2 was allowed")
	}
	// The refusal by the account did not spend the address: three left.
	for i := range 3 {
		if !mustTake(t, db, address) {
			t.Fatalf("address take %d refused after the account's refusal", i)
		}
	}
	if mustTake(t, db, address) {
		t.Fatal("the address's sixth take in a burst of 5 was allowed")
	}
	if w := mustWait(t, db, address); w != 20*time.Second {
		t.Fatalf("address wait = %v, want 20s", w)
	}
	clock.Add(6 * time.Second)
	if !mustTake(t, db, account) {
		t.Fatal("the account's token did not come back after 6 s")
	}
}

func TestRateLimitInvalid(t *testing.T) {
	db := MustOpenDB(t, clocktest.New(epoch))
	ctx := context.Background()
	for _, l := range []hub.RateLimit{
		{Key: "", Burst: 1, Every: time.Second},
		{Key: "k", Burst: 0, Every: time.Second},
		{Key: "k", Burst: 1, Every: time.Microsecond},
	} {
		if _, err := db.RateLimitWait(ctx, l); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("wait %+v: %v, want EINVALID", l, err)
		}
		if err := db.AddRateLimitEvents(ctx, l); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("add %+v: %v, want EINVALID", l, err)
		}
		if _, err := db.TakeRateLimitEvents(ctx, l); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("take %+v: %v, want EINVALID", l, err)
		}
	}
}

// TestRateLimitSurvivesReopen restarts the hub: the limit holds.
func TestRateLimitSurvivesReopen(t *testing.T) {
	clock := clocktest.New(epoch)
	path := filepath.Join(t.TempDir(), "hub.db")
	open := func() *store.DB {
		db := store.NewDB(path)
		db.Now = clock.Now
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	l := hub.RateLimit{Key: "test:restart", Burst: 2, Every: time.Minute}
	db := open()
	mustAdd(t, db, l)
	mustAdd(t, db, l)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	if w := mustWait(t, db, l); w != time.Minute {
		t.Fatalf("wait after reopening = %v, want 1m", w)
	}
}

// TestRateLimitConcurrent counts events from many goroutines on two handles
// of one database file, as two replicas would: none is lost, and takes
// never exceed the burst.
func TestRateLimitConcurrent(t *testing.T) {
	clock := clocktest.New(epoch)
	path := filepath.Join(t.TempDir(), "hub.db")
	var replicas []*store.DB
	for range 2 {
		db := store.NewDB(path)
		db.Now = clock.Now
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		replicas = append(replicas, db)
	}
	const goroutines, each = 16, 10
	added := hub.RateLimit{Key: "test:added", Burst: 5, Every: time.Second}
	taken := hub.RateLimit{Key: "test:taken", Burst: 7, Every: time.Hour}
	var wg sync.WaitGroup
	var allowed atomic.Int64
	for g := range goroutines {
		db := replicas[g%len(replicas)]
		wg.Go(func() {
			for range each {
				if err := db.AddRateLimitEvents(context.Background(), added); err != nil {
					t.Error(err)
					return
				}
				ok, err := db.TakeRateLimitEvents(context.Background(), taken)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	// 160 events at one instant: tat = now + 160 s, and the first 5 were
	// the burst.
	want := time.Duration(goroutines*each-added.Burst+1) * time.Second
	for i, db := range replicas {
		if w := mustWait(t, db, added); w != want {
			t.Errorf("replica %d: wait = %v, want %v (events lost)", i, w, want)
		}
	}
	if got := allowed.Load(); got != int64(taken.Burst) {
		t.Errorf("%d takes allowed, want the burst of %d", got, taken.Burst)
	}
}

func TestPruneRateLimits(t *testing.T) {
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	short := hub.RateLimit{Key: "test:short", Burst: 1, Every: time.Minute}
	long := hub.RateLimit{Key: "test:long", Burst: 1, Every: time.Hour}
	for i := range 3 {
		mustAdd(t, db, hub.RateLimit{Key: "test:idle:" + string(rune('a'+i)), Burst: 1, Every: time.Second})
	}
	mustAdd(t, db, short)
	mustAdd(t, db, long)
	clock.Add(2 * time.Minute)
	// The retention cutoff is far in the past; expired rate limits go anyway.
	results, err := db.Prune(context.Background(), clock.Now().Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]int64{}
	for _, r := range results {
		deleted[r.Step] = r.Deleted
	}
	if deleted["rate_limits"] != 4 {
		t.Fatalf("deleted %v, want rate_limits 4 (three idle keys and short)", deleted)
	}
	if w := mustWait(t, db, long); w != 58*time.Minute {
		t.Errorf("the live key was pruned: wait %v, want 58m", w)
	}
	if w := mustWait(t, db, short); w != 0 {
		t.Errorf("an expired key still waits %v", w)
	}
}
