package api

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/felhom/hub/internal/httpx"
)

// Middleware wraps a handler with panic recovery and one log line per
// request. The line has method, path, status, size, duration and the
// request id (X-Request-Id, checked by saneRequestID or minted, and echoed
// in the response): never another header, a query string or a body, so no
// secret can reach the log. Probes and scrapes (ProbePaths) are logged at
// debug level.
func Middleware(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		level := slog.LevelInfo
		if ProbePaths[r.URL.Path] {
			level = slog.LevelDebug
		}
		id := requestID(r)
		w.Header().Set(RequestIDHeader, id)
		rec := &httpx.Recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
					"request_id", id, "panic", v, "stack", string(debug.Stack()))
				if rec.Status == 0 {
					writeJSON(rec, http.StatusInternalServerError, map[string]string{"error": "internal error"})
				}
			}
			logger.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.Status),
				slog.Int64("bytes", rec.Bytes),
				slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("remote", r.RemoteAddr),
				slog.String("request_id", id))
		}()
		next.ServeHTTP(rec, r)
	})
}
