package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	hub "github.com/felhom/hub"
	"golang.org/x/sync/semaphore"
)

// DefaultBodyBudget bounds the request bodies being read and processed at
// once: 64 clients each sending 4 MiB must not take the hub past its
// 256 MiB memory limit.
const DefaultBodyBudget = 48 << 20

// DefaultBodyWait is how long a request waits for room in the body budget
// before it is told to come back later.
const DefaultBodyWait = 10 * time.Second

// LimitBodies admits a request with a body only while the bodies in flight
// fit in budget bytes, weighing each by its declared length (4 MiB when
// unknown). A request that finds no room within wait gets 503 with
// Retry-After; requests without a body pass freely.
func LimitBodies(budget int64, wait time.Duration, logger *slog.Logger, next http.Handler) http.Handler {
	sem := semaphore.NewWeighted(budget)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		weight := int64(hub.MaxBodyBytes)
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
