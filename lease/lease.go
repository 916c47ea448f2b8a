// Package lease keeps this replica's leases: the right to run a job that
// must run on one replica at a time when several share a database.
//
// A Lease renews itself every TTL/3. A replica that dies stops renewing, so
// its leases expire in the database within TTL, and another replica takes
// each at its next renewal: within TTL + TTL/3 (8 s at the default TTL, so
// that mail waits seconds, not half a minute, when a replica dies). A clean
// Close releases the lease, and another replica takes it at its next
// renewal.
//
// A guarded job asks Held before each step of work. A step already under
// way when the lease is lost finishes: the guarded jobs are idempotent or
// compare-and-set, so a step that overlaps the new holder's costs work, not
// correctness.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// DefaultTTL is how long a lease lasts without a renewal. It bounds how long
// a job waits when its holder dies (TTL + TTL/3), and it costs each replica
// one small write per lease every TTL/3; the holder stops TTL/6 (1 s) before
// the grant ends, which is the clock skew between replicas it tolerates.
const DefaultTTL = 6 * time.Second

// Lease is one named lease, held for this replica as long as it can be.
type Lease struct {
	Name  string
	Owner string
	// TTL is how long a grant lasts (DefaultTTL); it is renewed every TTL/3.
	TTL    time.Duration
	Store  hub.LeaseService
	Now    func() time.Time
	Logger *slog.Logger

	// heldUntil is when this replica stops counting on its last grant, in
	// unix nanoseconds by Now; 0 when it has none.
	heldUntil atomic.Int64

	stepMu sync.Mutex
	logged bool // the state last logged, under stepMu

	loop loop.Loop
}

var _ hub.Lease = (*Lease)(nil)

// New returns a Lease with the default TTL and the system clock.
func New(name, owner string, store hub.LeaseService, logger *slog.Logger) *Lease {
	return &Lease{Name: name, Owner: owner, TTL: DefaultTTL, Store: store, Now: time.Now, Logger: logger}
}

// NewOwner returns an owner id unique to this process: the host name, the
// process id and a random suffix (pids repeat across restarts and
// containers).
func NewOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Held reports whether this replica holds the lease now. It turns false by
// itself TTL/6 before the last grant expires in the database when renewals
// fail, so the holder stops before another replica may start, even with
// clocks that disagree by up to TTL/6 (1 s at the default TTL).
func (l *Lease) Held() bool {
	until := l.heldUntil.Load()
	return until != 0 && l.Now().UnixNano() < until
}

// Step acquires or renews the lease once and says whether it is held. A
// failed renewal leaves the last grant to lapse by itself.
func (l *Lease) Step(ctx context.Context) (bool, error) {
	l.stepMu.Lock()
	defer l.stepMu.Unlock()
	asked := l.Now()
	ok, err := l.Store.AcquireLease(ctx, l.Name, l.Owner, l.ttl())
	switch {
	case err != nil:
	case ok:
		// The database counts the grant from a moment at or after asked.
		l.heldUntil.Store(asked.Add(l.ttl() - l.ttl()/6).UnixNano())
	default:
		l.heldUntil.Store(0)
	}
	l.logChange()
	return l.Held(), err
}

// logChange logs when the lease was gained or lost since the last log.
func (l *Lease) logChange() {
	held := l.Held()
	if held == l.logged {
		return
	}
	l.logged = held
	if held {
		l.Logger.Info("lease acquired: this replica runs the job", "lease", l.Name)
	} else {
		l.Logger.Info("lease lost: another replica runs the job", "lease", l.Name)
	}
}

func (l *Lease) ttl() time.Duration {
	if l.TTL <= 0 {
		return DefaultTTL
	}
	return l.TTL
}

// Open tries to acquire the lease at once, so that a replica alone takes
// it before its jobs first look, then renews it every TTL/3. A failure is
// logged and tried again at the next renewal.
func (l *Lease) Open(ctx context.Context) error {
	return l.loop.OpenAfterPass(ctx, loop.Config{
		Run: func(ctx context.Context) error {
			_, err := l.Step(ctx)
			return err
		},
		Interval: l.ttl() / 3,
		Logger:   l.Logger.With("lease", l.Name),
		Level:    slog.LevelWarn,
		Message:  "lease renewal failed",
		Name:     "lease renewal",
	})
}

// Close stops renewing and releases the lease, so that another replica
// takes it at its next renewal. Close the jobs the lease guards first.
func (l *Lease) Close(ctx context.Context) error {
	if err := l.loop.Close(ctx); err != nil {
		return err
	}
	return l.Release(ctx)
}

// Release gives the lease up now; it deletes the lease only where this
// replica is still its owner.
func (l *Lease) Release(ctx context.Context) error {
	l.stepMu.Lock()
	defer l.stepMu.Unlock()
	hadGrant := l.heldUntil.Swap(0) != 0
	l.logged = false
	if err := l.Store.ReleaseLease(ctx, l.Name, l.Owner); err != nil {
		return fmt.Errorf("release lease %s: %w", l.Name, err)
	}
	if hadGrant {
		l.Logger.Info("lease released", "lease", l.Name)
	}
	return nil
}
