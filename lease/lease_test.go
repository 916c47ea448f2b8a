package lease_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/lease"
	"github.com/felhom/hub/store"
)

func openDB(t *testing.T, c *clocktest.Clock) *store.DB {
	t.Helper()
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = c.Now
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// replica returns a lease on the shared database as one replica holds it.
func replica(s hub.LeaseService, c *clocktest.Clock, owner string) *lease.Lease {
	l := lease.New("daily", owner, s, slog.New(slog.DiscardHandler))
	l.Now = c.Now
	return l
}

// step renews l once and fails the test on an error.
func step(t *testing.T, l *lease.Lease) bool {
	t.Helper()
	held, err := l.Step(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", l.Owner, err)
	}
	return held
}

// holders fails unless exactly want (by owner, "" for none) holds the lease.
func holders(t *testing.T, when string, want string, leases ...*lease.Lease) {
	t.Helper()
	for _, l := range leases {
		if got := l.Held(); got != (l.Owner == want) {
			t.Fatalf("%s: %s holds the lease: %v; want only %q to", when, l.Owner, got, want)
		}
	}
}

func TestOnlyOneReplicaHolds(t *testing.T) {
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := openDB(t, c)
	a, b := replica(db, c, "a"), replica(db, c, "b")
	holders(t, "before any step", "", a, b)
	if !step(t, a) || step(t, b) {
		t.Fatal("the first step did not go to a alone")
	}
	// Renewing every TTL/3 for a while: a keeps it, b never gets it.
	for range 30 {
		c.Add(lease.DefaultTTL / 3)
		step(t, b)
		step(t, a)
		holders(t, "while a renews", "a", a, b)
	}
}

func TestTakeoverWhenTheHolderStopsRenewing(t *testing.T) {
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := openDB(t, c)
	a, b := replica(db, c, "a"), replica(db, c, "b")
	step(t, a)
	step(t, b)
	// a dies now. b keeps stepping every TTL/3; a's grant lapses on a's own
	// clock TTL/6 before the database lets b take over.
	var took time.Duration
	for elapsed := time.Duration(0); took == 0; {
		c.Add(lease.DefaultTTL / 3)
		elapsed += lease.DefaultTTL / 3
		if elapsed > time.Minute {
			t.Fatal("b never took the lease over")
		}
		if elapsed >= lease.DefaultTTL && a.Held() {
			t.Fatalf("a still counts on its lease %v after its last renewal", elapsed)
		}
		if step(t, b) {
			took = elapsed
		}
	}
	if took <= lease.DefaultTTL || took > lease.DefaultTTL+lease.DefaultTTL/3 {
		t.Errorf("b took over %v after a's last renewal, want within (TTL, TTL+TTL/3]", took)
	}
	// Mail waits for the dispatch lease while nobody holds it: at the
	// default TTL a job must move to another replica within 10 s.
	if took > 10*time.Second {
		t.Errorf("b took over %v after a died, want within 10 s", took)
	}
	holders(t, "after the takeover", "b", a, b)
	// a comes back (a pause, not a death): it finds the lease taken.
	if step(t, a) {
		t.Fatal("a took the lease back from b")
	}
	holders(t, "after a's return", "b", a, b)
}

func TestReleaseHandsOverAtTheNextStep(t *testing.T) {
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := openDB(t, c)
	a, b := replica(db, c, "a"), replica(db, c, "b")
	if err := a.Open(context.Background()); err != nil { // steps at once
		t.Fatal(err)
	}
	step(t, b)
	holders(t, "after a opened", "a", a, b)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	holders(t, "after a's release", "", a, b)
	c.Add(time.Second) // well inside a's last grant
	if !step(t, b) {
		t.Fatal("b did not take the released lease at its next step")
	}
	holders(t, "after b's step", "b", a, b)
}

// failingStore grants once, then fails every call, as a database that
// went away would.
type failingStore struct {
	hub.LeaseService
	calls int
}

func (f *failingStore) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	f.calls++
	if f.calls == 1 {
		return f.LeaseService.AcquireLease(ctx, name, owner, ttl)
	}
	return false, hub.Unavailable(errors.New("disk I/O error"), "the database cannot be written now")
}

func TestHeldLapsesWhenRenewalsFail(t *testing.T) {
	c := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := openDB(t, c)
	a := replica(&failingStore{LeaseService: db}, c, "a")
	step(t, a)
	for elapsed := lease.DefaultTTL / 3; elapsed <= lease.DefaultTTL; elapsed += lease.DefaultTTL / 3 {
		c.Add(lease.DefaultTTL / 3)
		held, err := a.Step(context.Background())
		if err == nil {
			t.Fatal("the failing renewal did not fail")
		}
		// Two failed renewals are survived; the grant lapses TTL/6 before
		// it expires in the database.
		if want := elapsed < lease.DefaultTTL-lease.DefaultTTL/6; held != want || a.Held() != want {
			t.Fatalf("%v after the grant, renewals failing: held %v, want %v", elapsed, held, want)
		}
	}
}

func TestNewOwnerIsUniquePerProcess(t *testing.T) {
	a, b := lease.NewOwner(), lease.NewOwner()
	if a == b {
		t.Fatalf("two owners are both %q", a)
	}
	if parts := strings.Split(a, "-"); len(parts) < 3 {
		t.Fatalf("owner %q is not host-pid-random", a)
	}
}
