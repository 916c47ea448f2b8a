package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/config"
	"github.com/felhom/hub/fleetsim"
)

// benchHub boots a full hub (API and dashboard, no login) and stores n
// customers with a week-typical latest report and a few events each.
func benchHub(b *testing.B, n int) *Main {
	b.Helper()
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.DataDir = b.TempDir()
	cfg.Registry.Image = ""
	cfg.Log.Level = "error"
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})))
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close(context.Background()) })
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("bench-%05d", i)
			node := fleetsim.NewNode(id, uint64(i), 20<<10)
			r, err := hub.ParseReport(node.Report(time.Now(), true), time.Now())
			if err == nil {
				_, err = m.DB.CreateReport(ctx, r)
			}
			for j := 0; err == nil && j < 3; j++ {
				err = m.DB.CreateEvent(ctx, &hub.Event{CustomerID: id, Type: "disk_space_warning", Severity: "warning",
					Source: hub.SourceController, Message: "a disk is filling up"})
			}
			if err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	// Let the dispatcher work through the seeded events before measuring.
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		pending, err := m.DB.FindUndispatchedEvents(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(pending) == 0 {
			return m
		}
	}
	b.Fatal("the seeded events were not dispatched within 5 minutes")
	return nil
}

// measure serves path in process and reports p50 and p99 server time.
func measure(b *testing.B, h http.Handler, path, key string) {
	var durations []time.Duration
	for b.Loop() {
		req := httptest.NewRequest("GET", path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		durations = append(durations, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, rec.Code)
		}
	}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(durations[len(durations)/2]), "p50-ms")
	b.ReportMetric(ms(durations[min(len(durations)-1, len(durations)*99/100)]), "p99-ms")
	b.ReportMetric(0, "ns/op") // the percentiles are the figures
}

// BenchmarkPages measures the dashboard's fleet page, a customer page and
// the fleet API at 1,000 and 10,000 customers (issue 9, benchmark 2).
func BenchmarkPages(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		m := benchHub(b, n) // on the parent, so it outlives the sub-benchmarks
		setup := func(*testing.B) {}
		b.Run(fmt.Sprintf("%d/fleet-page", n), func(b *testing.B) {
			setup(b)
			measure(b, m.server.Handler, "/", "")
		})
		b.Run(fmt.Sprintf("%d/customer-page", n), func(b *testing.B) {
			setup(b)
			measure(b, m.server.Handler, "/customers/bench-00042", "")
		})
		b.Run(fmt.Sprintf("%d/fleet-api", n), func(b *testing.B) {
			setup(b)
			measure(b, m.server.Handler, "/api/v1/customers", m.GlobalKey)
		})
	}
}
