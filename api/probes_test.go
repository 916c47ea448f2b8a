package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/felhom/hub/api"
)

// /livez answers without the database; /readyz answers what Ready says,
// with its reason, and falls back to the database's ping without one.
func TestProbes(t *testing.T) {
	var reason atomic.Pointer[string]
	e := newEnvWith(t, func(s *api.Server, _ *env, _ *slog.Logger) {
		s.Ready = func(ctx context.Context) error {
			if r := reason.Load(); r != nil {
				return errors.New(*r)
			}
			return nil
		}
	})
	e.do("GET", "/readyz", "", nil).mustStatus(t, http.StatusOK)
	draining := "draining: the hub is shutting down"
	reason.Store(&draining)
	r := e.do("GET", "/readyz", "", nil).mustStatus(t, http.StatusServiceUnavailable)
	if r.json["error"] != draining || r.header.Get("Retry-After") == "" {
		t.Errorf("/readyz while draining: %s (Retry-After %q)", r.body, r.header.Get("Retry-After"))
	}
	e.do("GET", "/livez", "", nil).mustStatus(t, http.StatusOK)
	e.do("POST", "/livez", "", nil).mustStatus(t, http.StatusMethodNotAllowed)

	// Without Ready: the database's ping. With the database gone, liveness
	// still answers: a restart would not bring the database back.
	plain := newEnv(t)
	plain.do("GET", "/readyz", "", nil).mustStatus(t, http.StatusOK)
	plain.db.Close()
	plain.do("GET", "/readyz", "", nil).mustStatus(t, http.StatusServiceUnavailable)
	if r := plain.do("GET", "/livez", "", nil).mustStatus(t, http.StatusOK); r.json["version"] != "test" {
		t.Errorf("/livez = %s", r.body)
	}
	plain.do("GET", "/healthz", "", nil).mustStatus(t, http.StatusServiceUnavailable)
}
