package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// BenchmarkFindCustomers10k reads the whole fleet view of 10,000 customers.
func BenchmarkFindCustomers10k(b *testing.B) {
	ctx := context.Background()
	db := MustOpenDB(b, nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range 10000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := hub.ParseReport([]byte(fmt.Sprintf(`{"customer_id":"fleet-%05d","health":"ok","system":{"cpu_percent":3}}`, i)), time.Now())
			if err == nil {
				_, err = db.CreateReport(ctx, r)
			}
			if err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.ResetTimer()
	for b.Loop() {
		cs, err := db.FindCustomers(ctx)
		if err != nil || len(cs) != 10000 {
			b.Fatal(len(cs), err)
		}
	}
}
