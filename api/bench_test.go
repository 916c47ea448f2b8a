package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	hub "github.com/felhom/hub"
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
// concurrent clients (16 per core on 2 cores) into a real SQLite database,
// for fleets of 100 and 10,000 customers, each posting with its own key.
func BenchmarkReportIngest20KB(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchmarkIngest(b, n) })
	}
}

func benchmarkIngest(b *testing.B, customers int) {
	e := newEnv(b)
	template := benchReport(b, "bench-00000", 20<<10)
	bodies := make([][]byte, customers)
	keys := make([]string, customers)
	for i := range bodies {
		id := fmt.Sprintf("bench-%05d", i)
		bodies[i] = bytes.Replace(template, []byte(`"bench-00000"`), []byte(`"`+id+`"`), 1)
		cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
		cfg.MintCredentials()
		if err := e.db.CreateCustomerConfig(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
		keys[i] = cfg.APIKey
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetBytes(int64(len(template)))
	b.SetParallelism(16)
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)) % customers
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/report", bytes.NewReader(bodies[i]))
			req.Header.Set("Authorization", "Bearer "+keys[i])
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
