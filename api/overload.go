package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"golang.org/x/sync/semaphore"
)

// DefaultBodyBudget bounds the request bodies being read and processed at
// once: 64 clients each sending 4 MiB must not take the hub past its
// 256 MiB memory limit. A 4 MiB report costs about 12 MiB of live heap
// while it is parsed and stored; 48 MiB let the heap peak at 359 MiB.
const DefaultBodyBudget = 24 << 20

// DefaultBodyWait is how long a request waits for room in the body budget
// before it is told to come back later.
const DefaultBodyWait = 10 * time.Second

// DefaultBodiesPerHolder bounds the bodies one holder has in flight at
// once. A holder is a customer (its customer key and the keys of all its
// hosts together) or, for the global key that manual nodes share, one
// client address.
const DefaultBodiesPerHolder = 4

// DefaultHolderShares divides the body budget: one holder may hold at most
// 1/DefaultHolderShares of it in bytes (never less than one body of
// hub.MaxBodyBytes), so that a slow or hostile node leaves the rest to
// everyone else. With the default budget that is 6 MiB of 24: it takes
// four misbehaving customers at once to make an honest node wait, and
// the server's read time-out cuts every slow body off in the end.
const DefaultHolderShares = 4

// BodyBudget bounds the API request bodies in flight. A body is admitted
// only after its request has authenticated, so that clients without a key
// cannot hold the budget by sending slowly; each is weighed by its
// declared length (hub.MaxBodyBytes when unknown), and each holder gets
// only its share of the budget.
type BodyBudget struct {
	total *semaphore.Weighted
	wait  time.Duration
	// perHolder bounds each holder to this many bodies, holderBytes to
	// this many bytes.
	perHolder   int64
	holderBytes int64

	mu      sync.Mutex
	holders map[string]*holderLimit
}

// holderLimit is the share of one holder; it is forgotten once no request
// of the holder holds or waits for room.
type holderLimit struct {
	users  int // requests holding or waiting, under BodyBudget.mu
	bodies *semaphore.Weighted
	bytes  *semaphore.Weighted
}

// NewBodyBudget admits bodies while they fit in budget bytes, waiting at
// most wait for room.
func NewBodyBudget(budget int64, wait time.Duration) *BodyBudget {
	return &BodyBudget{
		total:       semaphore.NewWeighted(budget),
		wait:        wait,
		perHolder:   DefaultBodiesPerHolder,
		holderBytes: max(budget/DefaultHolderShares, hub.MaxBodyBytes),
		holders:     map[string]*holderLimit{},
	}
}

// holderShare returns the limit of holder, counting the caller as a user
// until it calls putHolder.
func (b *BodyBudget) holderShare(holder string) *holderLimit {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.holders[holder]
	if !ok {
		l = &holderLimit{
			bodies: semaphore.NewWeighted(b.perHolder),
			bytes:  semaphore.NewWeighted(b.holderBytes),
		}
		b.holders[holder] = l
	}
	l.users++
	return l
}

// putHolder ends the caller's use of holder's limit.
func (b *BodyBudget) putHolder(holder string, l *holderLimit) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l.users--; l.users == 0 {
		delete(b.holders, holder)
	}
}

// errBusy is the answer when the budget has no room.
var errBusy = hub.Errorf(hub.EUNAVAILABLE, "the hub is busy; retry later")

// ticket is a request's claim on the body budget; the route wrapper
// (guard) makes it once the request has authenticated, and releases it when
// the handler returns.
type ticket struct {
	budget *BodyBudget
	// holder names whose share the body is taken from (principal.holder).
	holder  string
	weight  int64
	share   *holderLimit
	claimed bool
}

// claim takes room for a body of weight bytes: first in the holder's
// share, then in the whole budget, so that a holder waiting for its own
// share never queues in front of others for the budget.
func (t *ticket) claim(ctx context.Context, weight int64) error {
	if t.claimed {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.budget.wait)
	defer cancel()
	share := t.budget.holderShare(t.holder)
	if err := share.bodies.Acquire(ctx, 1); err != nil {
		t.budget.putHolder(t.holder, share)
		return errBusy
	}
	if err := share.bytes.Acquire(ctx, weight); err != nil {
		share.bodies.Release(1)
		t.budget.putHolder(t.holder, share)
		return errBusy
	}
	if err := t.budget.total.Acquire(ctx, weight); err != nil {
		share.bytes.Release(weight)
		share.bodies.Release(1)
		t.budget.putHolder(t.holder, share)
		return errBusy
	}
	t.weight, t.share, t.claimed = weight, share, true
	return nil
}

func (t *ticket) release() {
	if !t.claimed {
		return
	}
	t.budget.total.Release(t.weight)
	t.share.bytes.Release(t.weight)
	t.share.bodies.Release(1)
	t.budget.putHolder(t.holder, t.share)
	t.share, t.claimed = nil, false
}

// readBody reads the whole request body, at most hub.MaxBodyBytes, once
// the body budget has room for it in the share of c's holder.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, c *caller) ([]byte, error) {
	if r.ContentLength > hub.MaxBodyBytes {
		return nil, tooLarge()
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return []byte{}, nil
	}
	weight := int64(hub.MaxBodyBytes)
	if r.ContentLength > 0 {
		weight = r.ContentLength
	}
	if err := c.ticket.claim(r.Context(), weight); err != nil {
		s.Logger.Warn("request body budget exhausted", "method", r.Method, "path", r.URL.Path)
		return nil, err
	}
	if r.ContentLength > 0 {
		// The length is known: one allocation of exactly that size, where
		// io.ReadAll would double its way up to twice as much.
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, hub.Errorf(hub.EINVALID, "could not read request body")
		}
		return body, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, hub.MaxBodyBytes)
	body, err := io.ReadAll(r.Body)
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return nil, tooLarge()
	case err != nil:
		return nil, hub.Errorf(hub.EINVALID, "could not read request body")
	}
	return body, nil
}

func tooLarge() error {
	return hub.Errorf(hub.ETOOLARGE, "request body is larger than %d MiB", hub.MaxBodyBytes>>20)
}

// LimitBodies admits a request with a body only while the bodies in flight
// fit in budget bytes, weighing each by its declared length, at most
// maxBody (the most the handler behind reads of one body; maxBody when the
// length is unknown). A request that finds no room within wait gets 503
// with Retry-After; requests without a body pass freely. The API budgets
// its own bodies after authentication (BodyBudget); this guards the others.
func LimitBodies(budget, maxBody int64, wait time.Duration, logger *slog.Logger, next http.Handler) http.Handler {
	sem := semaphore.NewWeighted(budget)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		weight := maxBody
		if r.ContentLength > 0 && r.ContentLength < weight {
			weight = r.ContentLength
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		err := sem.Acquire(ctx, weight)
		cancel()
		if err != nil {
			logger.Warn("request body budget exhausted", "method", r.Method, "path", r.URL.Path)
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the hub is busy; retry later"})
			return
		}
		defer sem.Release(weight)
		next.ServeHTTP(w, r)
	})
}
