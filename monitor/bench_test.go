package monitor_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/felhom/hub/internal/clocktest"
)

// seedNodes writes n reporting nodes straight into a migrated database, in
// one transaction (100,000 reports through CreateReport would take minutes).
// Every node is up with its stale deadline spread over the next 30 minutes.
func seedNodes(b *testing.B, path string, n int, now time.Time) {
	b.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	insCustomer, err := tx.Prepare(`INSERT INTO customers (id, created_at, latest_report_id, latest_received_at,
		monitor_state, state_changed_at, next_deadline) VALUES (?, ?, ?, ?, 'up', ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	insReport, err := tx.Prepare(`INSERT INTO reports (id, customer_id, received_at, body) VALUES (?, ?, ?, '{}')`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("node-%06d", i)
		received := now.Add(-time.Duration(i%1800) * time.Second).UnixMilli()
		if _, err := insReport.Exec(i+1, id, received); err != nil {
			b.Fatal(err)
		}
		deadline := received + (30 * time.Minute).Milliseconds()
		if _, err := insCustomer.Exec(id, received, i+1, received, received, deadline); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStalenessPass100k measures one staleness pass over 100,000 nodes:
// "quiet" with nothing due (the usual minute), "100-due" with 100 silent
// nodes crossing their stale threshold (100 transitions and events).
func BenchmarkStalenessPass100k(b *testing.B) {
	const nodes = 100_000
	now := epoch
	clock := clocktest.New(now)
	path := filepath.Join(b.TempDir(), "hub.db")
	db := openDB(b, path, clock)
	seedNodes(b, path, nodes, now)
	ctx := context.Background()
	round := 0 // shared by every run of the sub-benchmark

	b.Run("quiet", func(b *testing.B) {
		checker := newChecker(db, clock)
		for b.Loop() {
			res, err := checker.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if res.Due != 0 {
				b.Fatalf("due %d, want 0", res.Due)
			}
		}
	})

	b.Run("100-due", func(b *testing.B) {
		conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		checker := newChecker(db, clock)
		for b.Loop() {
			b.StopTimer()
			// Re-arm 100 nodes as silent past their deadline, each with a
			// report id it has not had, as if it had reported once more.
			lo := (round * 100) % nodes
			round++
			if _, err := conn.Exec(`UPDATE customers SET monitor_state = 'up', next_deadline = ?,
					latest_report_id = latest_report_id + ?
				WHERE id >= ? AND id < ?`, now.Add(-time.Second).UnixMilli(), round*nodes,
				fmt.Sprintf("node-%06d", lo), fmt.Sprintf("node-%06d", lo+100)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := checker.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if len(res.Events) != 100 {
				b.Fatalf("events %d, want 100", len(res.Events))
			}
		}
	})
}
