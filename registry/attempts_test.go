package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The watcher remembers its last attempt: never, failed (why, with no
// credential in it, and when it tries again) or read.
func TestWatcherAttempts(t *testing.T) {
	f := newFakeRegistry(t)
	w, _ := newWatcher(t, f, "admin", "wrong-password-for-gitea")
	if a := w.Attempts(); !a.Configured || !a.LastAttempt.IsZero() {
		t.Fatalf("before any check: %+v", a)
	}
	if checked, err := w.CheckIfDue(context.Background()); !checked || err == nil {
		t.Fatalf("CheckIfDue = %v, %v; want a failed check", checked, err)
	}
	a := w.Attempts()
	if !a.LastAttempt.Equal(w.Now()) || a.LastError == "" || !a.NextAttempt.Equal(w.Now().Add(30*time.Minute)) {
		t.Fatalf("after a failure: %+v", a)
	}
	if strings.Contains(a.LastError, "wrong-password-for-gitea") {
		t.Errorf("the error holds the password: %q", a.LastError)
	}

	good, _ := newWatcher(t, f, "admin", "gitea-pat")
	if _, err := good.CheckIfDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := good.Attempts(); a.LastError != "" || a.LastAttempt.IsZero() {
		t.Errorf("after a success: %+v", a)
	}
}
