package fleetsim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// SeedEvents posts n error and warning events spread over the fleet's
// nodes (one in four an error), from concurrency workers, each with the
// node's own key. The hub stamps them received now, so all of them fall in
// the fleet view's last 24 hours.
func (f *Fleet) SeedEvents(ctx context.Context, n, concurrency int) error {
	if len(f.Nodes) == 0 {
		return fmt.Errorf("no nodes")
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	now := time.Now().UTC()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				node := f.Nodes[i%len(f.Nodes)]
				severity, typ := "warning", "disk_space_warning"
				if i%4 == 0 {
					severity, typ = "error", "backup_failed"
				}
				err := f.Client.Do(ctx, "POST", "/api/v1/event", node.Key, map[string]any{
					"customer_id": node.CustomerID, "event_type": typ, "severity": severity,
					"message":     fmt.Sprintf("seeded event %d", i),
					"occurred_at": now.Add(-time.Duration(i%1440) * time.Minute).Format(time.RFC3339),
				}, nil)
				if err != nil {
					errs <- fmt.Errorf("event %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// ReadResult is the latency of repeated GETs of one path.
type ReadResult struct {
	Path     string
	Requests int
	Errors   int
	P50, P99 time.Duration
	Bytes    int64 // of the last answer
}

func (r ReadResult) String() string {
	return fmt.Sprintf("GET %s: %d reads, p50 %s, p99 %s, %d errors, %d bytes", r.Path, r.Requests,
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Errors, r.Bytes)
}

// Read GETs path (with the global key) one request at a time, count times
// or until ctx ends, and measures each answer read whole.
func (f *Fleet) Read(ctx context.Context, path string, count int) ReadResult {
	res := ReadResult{Path: path}
	var lat []time.Duration
	for i := 0; (count <= 0 || i < count) && ctx.Err() == nil; i++ {
		t0 := time.Now()
		n, err := f.get(ctx, path)
		if ctx.Err() != nil {
			break
		}
		lat = append(lat, time.Since(t0))
		res.Bytes = n
		if err != nil {
			res.Errors++
		}
	}
	res.Requests = len(lat)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		res.P50 = lat[len(lat)/2]
		res.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return res
}

func (f *Fleet) get(ctx context.Context, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", f.Client.BaseURL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+f.Client.GlobalKey)
	resp, err := f.Client.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, &StatusError{Method: "GET", Path: path, Status: resp.StatusCode}
	}
	return n, nil
}
