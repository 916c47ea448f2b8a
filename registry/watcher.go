package registry

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// Watcher checks the registry every Interval and records the newest
// controller release.
type Watcher struct {
	Client   *Client
	Interval time.Duration
	Timeout  time.Duration
	Versions hub.VersionService
	// Lease, when set, must be held for the loop to check: with several
	// replicas one calls the registry. The loop then looks every minute (at
	// most every Interval), so that a replica that takes the lease over
	// checks soon; it still checks only Interval after its own last check.
	Lease  hub.Lease
	Logger *slog.Logger
	Now    func() time.Time

	mu        sync.Mutex
	lastCheck time.Time // of the loop, by Now; only the loop's goroutine uses it
	loop      loop.Loop

	attemptMu sync.Mutex
	attempts  hub.RegistryAttempts
}

// Attempts says how reading the registry has gone on this replica: never
// tried, failed (why, and when it is tried again) or read.
func (w *Watcher) Attempts() hub.RegistryAttempts {
	w.attemptMu.Lock()
	defer w.attemptMu.Unlock()
	a := w.attempts
	a.Configured = w.Client != nil && w.Client.Image != ""
	return a
}

// recordAttempt notes a check that ended with err at now.
func (w *Watcher) recordAttempt(now time.Time, err error) {
	w.attemptMu.Lock()
	defer w.attemptMu.Unlock()
	w.attempts = hub.RegistryAttempts{LastAttempt: now, NextAttempt: now.Add(w.interval())}
	if err != nil {
		// The client's errors name no credential; Redact makes sure.
		w.attempts.LastError = hub.Redact(err.Error(), w.Client.Password)
	}
}

// leaseLook is how often a Watcher with a Lease looks whether it is due.
const leaseLook = time.Minute

// NewWatcher returns a watcher for image with the hub's defaults.
func NewWatcher(image, username, password string, versions hub.VersionService, logger *slog.Logger) *Watcher {
	return &Watcher{
		Client:   &Client{Image: image, Username: username, Password: password, HTTP: &http.Client{Timeout: 30 * time.Second}},
		Interval: 30 * time.Minute,
		Timeout:  60 * time.Second,
		Versions: versions,
		Logger:   logger,
		Now:      time.Now,
	}
}

// Open starts checking: once now, then every Interval.
func (w *Watcher) Open() error {
	if w.Client == nil || w.Client.Image == "" {
		return nil
	}
	return w.loop.Open(loop.Config{
		Run: func(ctx context.Context) error {
			checked, err := w.CheckIfDue(ctx)
			if !checked {
				return loop.ErrSkip // a look that did not check ends no failure
			}
			return err
		},
		Interval: w.look(),
		Logger:   w.Logger,
		Level:    slog.LevelWarn,
		Message:  "registry check failed",
		Name:     "registry check",
	})
}

// Close stops checking and waits for a check in flight.
func (w *Watcher) Close(ctx context.Context) error { return w.loop.Close(ctx) }

func (w *Watcher) interval() time.Duration {
	if w.Interval <= 0 {
		return 30 * time.Minute
	}
	return w.Interval
}

// look is the loop's tick: Interval, or a minute at most with a Lease.
func (w *Watcher) look() time.Duration {
	if w.Lease != nil {
		return min(w.interval(), leaseLook)
	}
	return w.interval()
}

// CheckIfDue checks when the Lease is held and Interval has passed since
// the last check it made, and says whether it checked. It is the loop's
// step; it is not safe to call concurrently.
func (w *Watcher) CheckIfDue(ctx context.Context) (bool, error) {
	if !hub.LeaseHeld(w.Lease) {
		return false, nil
	}
	now := w.Now()
	// Half a tick of slack: the loop times each look from the start of the
	// last, so a check that began a tick ago reads as just under a tick.
	if !w.lastCheck.IsZero() && now.Sub(w.lastCheck) < w.interval()-w.look()/2 {
		return false, nil
	}
	w.lastCheck = now // a failed check waits for the next Interval too
	_, err := w.Check(ctx)
	w.recordAttempt(now, err)
	return true, err
}

// Check lists the tags once and records the newest release.
func (w *Watcher) Check(ctx context.Context) (*hub.ControllerVersion, error) {
	w.mu.Lock() // one check at a time: the client caches its token
	defer w.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	tags, err := w.Client.Tags(ctx)
	if err != nil {
		return nil, err
	}
	tag, ok := Latest(tags)
	if !ok {
		return nil, errors.New("registry lists no release tag (x.y.z) for the controller image")
	}
	v := &hub.ControllerVersion{Image: w.Client.Image, Version: tag, CheckedAt: w.Now().UTC()}
	if err := w.Versions.SetLatestControllerVersion(ctx, v); err != nil {
		return nil, err
	}
	w.Logger.Info("latest controller version", "version", tag, "tags", len(tags))
	return v, nil
}
