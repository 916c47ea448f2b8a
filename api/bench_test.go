package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// benchReport returns a controller report of about size bytes.
func benchReport(tb testing.TB, id string, size int) []byte {
	tb.Helper()
	var report map[string]any
	if err := json.Unmarshal(exampleReport(tb), &report); err != nil {
		tb.Fatal(err)
	}
	report["customer_id"] = id
	containers := report["containers"].([]any)
	for i := 0; ; i++ {
		b, _ := json.Marshal(report)
		if len(b) >= size {
			return b
		}
		containers = append(containers, map[string]any{
			"name": fmt.Sprintf("app%d-server", i), "app": fmt.Sprintf("app%d", i),
			"image": fmt.Sprintf("ghcr.io/example/app%d:v1.%d", i, i%9), "state": "running", "health": "healthy",
		})
		report["containers"] = containers
	}
}

// BenchmarkReportIngest20KB posts 20 KB reports over loopback HTTP from 32
// concurrent clients (16 per core on 2 cores) into a real SQLite database.
func BenchmarkReportIngest20KB(b *testing.B) {
	e := newEnv(b)
	bodies := make([][]byte, 100)
	for i := range bodies {
		bodies[i] = benchReport(b, fmt.Sprintf("bench-%03d", i), 20<<10)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetBytes(int64(len(bodies[0])))
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/report", bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Authorization", "Bearer "+globalKey)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// BenchmarkCustomerList measures GET /api/v1/customers (server side, in
// process) over fleets of 1,000 and 10,000 customers with a report each
// and some events.
func BenchmarkCustomerList(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := newEnv(b)
			seedFleet(b, e, n)
			req := httptestRequest("GET", "/api/v1/customers", globalKey)
			b.ResetTimer()
			for b.Loop() {
				rec := serve(e, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
