package registry_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLease is a lease the test hands out and takes back.
type fakeLease struct{ held atomic.Bool }

func (l *fakeLease) Held() bool { return l.held.Load() }

// TestWatcherChecksOnlyWithTheLease drives the watcher's loop step: without
// the lease it never calls the registry; with it, it checks once per
// Interval, and a replica that takes the lease over checks at once.
func TestWatcherChecksOnlyWithTheLease(t *testing.T) {
	ctx := context.Background()
	f := newFakeRegistry(t)
	w, db := newWatcher(t, f, "admin", "gitea-pat")
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	w.Now = func() time.Time { return now }
	w.Interval = 30 * time.Minute
	versions := &notifyingVersions{VersionService: db, stored: make(chan string, 10)}
	w.Versions = versions
	var l fakeLease
	w.Lease = &l
	step := func(when string, want bool) {
		t.Helper()
		checked, err := w.CheckIfDue(ctx)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if checked != want {
			t.Fatalf("%s: checked %v, want %v", when, checked, want)
		}
	}

	step("without the lease", false)
	if n := f.tokenCalls.Load(); n != 0 {
		t.Fatalf("the registry was called %d times without the lease", n)
	}
	l.held.Store(true)
	step("lease taken", true)
	now = now.Add(time.Minute)
	step("a minute later", false)
	now = now.Add(29 * time.Minute)
	step("an interval later", true)
	l.held.Store(false)
	now = now.Add(30 * time.Minute)
	step("lease lost", false)
	if n := len(versions.stored); n != 2 {
		t.Errorf("%d checks stored a version, want 2", n)
	}
}
