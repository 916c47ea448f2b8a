package monitor_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
)

func TestCheckerTransitions(t *testing.T) {
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	checker := newChecker(db, clock)
	report(t, db, "a-node") // at epoch

	steps := []struct {
		at     time.Duration
		report bool
		want   []string // events of this step
	}{
		{at: 0, want: nil}, // first sight: no event
		{at: 29 * time.Minute},
		{at: 30 * time.Minute}, // at the threshold, not over it
		{at: 30*time.Minute + 59*time.Second, want: []string{hub.EventNodeStale}},
		{at: 31*time.Minute + 59*time.Second},
		{at: 59 * time.Minute},
		{at: 60*time.Minute + 30*time.Second, want: []string{hub.EventNodeDown}},
		{at: 5 * time.Hour},
		{at: 5*time.Hour + 10*time.Second, report: true, want: []string{hub.EventNodeRecovered}},
		{at: 5*time.Hour + time.Minute},
		{at: 5*time.Hour + 40*time.Minute + 11*time.Second, want: []string{hub.EventNodeStale}},
		{at: 5*time.Hour + 41*time.Minute, report: true, want: []string{hub.EventNodeRecovered}},
	}
	var all []string
	for _, s := range steps {
		clock.Set(epoch.Add(s.at))
		before := len(eventTypes(t, db, "a-node"))
		if s.report {
			report(t, db, "a-node")
		}
		mustPass(t, checker)
		got := eventTypes(t, db, "a-node")[before:]
		if !equal(got, s.want) {
			t.Fatalf("at +%v: events %v, want %v", s.at, got, s.want)
		}
		all = append(all, got...)
	}
	want := []string{hub.EventNodeStale, hub.EventNodeDown, hub.EventNodeRecovered, hub.EventNodeStale, hub.EventNodeRecovered}
	if !equal(all, want) {
		t.Fatalf("all events %v, want %v", all, want)
	}
}

func TestCheckerSkips(t *testing.T) {
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	mustConfig(t, db, "never-reported", nil)
	mustConfig(t, db, "blocked", func(c *hub.CustomerConfig) { c.Status = hub.ConfigBlocked })
	report(t, db, "blocked")
	mustConfig(t, db, "paused", func(c *hub.CustomerConfig) { c.MonitoringPaused = true })
	report(t, db, "paused")
	mustReport(t, db, `{"customer_id":"disabled","monitoring_enabled":false}`)

	checker := newChecker(db, clock)
	for range 3 * 60 {
		clock.Add(time.Minute)
		if res := mustPass(t, checker); len(res.Events) != 0 {
			t.Fatalf("at %v: events %v", clock.Now(), res.Events)
		}
	}
	// Lifting the block re-arms the switch: the node is stale one stale
	// threshold after the checker last looked at it, then down.
	ctx := context.Background()
	if err := db.SetCustomerBlocked(ctx, "blocked", false); err != nil {
		t.Fatal(err)
	}
	for range 60 {
		clock.Add(time.Minute)
		mustPass(t, checker)
	}
	if got, want := eventTypes(t, db, "blocked"), []string{hub.EventNodeStale, hub.EventNodeDown}; !equal(got, want) {
		t.Fatalf("after unblocking: %v, want %v", got, want)
	}
	for _, id := range []string{"never-reported", "paused", "disabled"} {
		if got := eventTypes(t, db, id); len(got) != 0 {
			t.Errorf("%s: events %v", id, got)
		}
	}
}

// TestCheckerFirstSeenOld upgrades a database made before the dead man's
// switch existed: a node whose latest report is already old does not alert
// until it has reported once.
func TestCheckerFirstSeenOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	init, err := os.ReadFile("../store/migrations/sqlite/001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		string(init),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, '001_init.sql', 0)`,
		fmt.Sprintf(`INSERT INTO customers (id, created_at) VALUES ('old-node', %d)`, epoch.UnixMilli()),
		fmt.Sprintf(`INSERT INTO reports (id, customer_id, received_at, body) VALUES (1, 'old-node', %d, '{}')`, epoch.UnixMilli()),
		fmt.Sprintf(`UPDATE customers SET latest_report_id = 1, latest_received_at = %d`, epoch.UnixMilli()),
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	clock := clocktest.New(epoch.Add(24 * time.Hour))
	db := openDB(t, path, clock)
	checker := newChecker(db, clock)
	for range 120 {
		clock.Add(time.Minute)
		mustPass(t, checker)
	}
	if got := eventTypes(t, db, "old-node"); len(got) != 0 {
		t.Fatalf("events %v before the first report", got)
	}
	report(t, db, "old-node") // first sight: up, no recovery
	clock.Add(31 * time.Minute)
	mustPass(t, checker)
	if got, want := eventTypes(t, db, "old-node"), []string{hub.EventNodeStale}; !equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// TestCheckerRestart stops the hub between transitions: state survives and
// nothing fires twice.
func TestCheckerRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	clock := clocktest.New(epoch)
	db := openDB(t, path, clock)
	report(t, db, "a-node")
	checker := newChecker(db, clock)
	mustPass(t, checker)

	restart := func() {
		t.Helper()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = openDB(t, path, clock)
		checker = newChecker(db, clock)
	}
	for _, s := range []struct {
		at      time.Duration
		restart bool
		want    []string
	}{
		{at: 31 * time.Minute, want: []string{hub.EventNodeStale}},
		{at: 32 * time.Minute, restart: true, want: []string{hub.EventNodeStale}},
		{at: 33 * time.Minute, restart: true, want: []string{hub.EventNodeStale}},
		{at: 61 * time.Minute, want: []string{hub.EventNodeStale, hub.EventNodeDown}},
		{at: 62 * time.Minute, restart: true, want: []string{hub.EventNodeStale, hub.EventNodeDown}},
		// A restart over a threshold (a short one, under the outage grace)
		// still fires at the first pass.
		{at: 63 * time.Minute, restart: true, want: []string{hub.EventNodeStale, hub.EventNodeDown}},
	} {
		clock.Set(epoch.Add(s.at))
		if s.restart {
			restart()
		}
		mustPass(t, checker)
		if got := eventTypes(t, db, "a-node"); !equal(got, s.want) {
			t.Fatalf("at +%v: events %v, want %v", s.at, got, s.want)
		}
	}

	// A deadline crossed while the hub restarts fires at the first pass.
	report(t, db, "b-node")
	clock.Add(29 * time.Minute)
	mustPass(t, checker)
	clock.Add(2 * time.Minute)
	restart()
	mustPass(t, checker)
	if got, want := eventTypes(t, db, "b-node"), []string{hub.EventNodeStale}; !equal(got, want) {
		t.Fatalf("b-node: %v, want %v", got, want)
	}
}

// TestCheckerOutageCredit restarts the hub after hours down: nodes, which
// could not report to it, are not declared down for the hub's own silence.
func TestCheckerOutageCredit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	clock := clocktest.New(epoch)
	db := openDB(t, path, clock)
	report(t, db, "comes-back")
	report(t, db, "died")
	clock.Add(10 * time.Minute)
	mustPass(t, newChecker(db, clock))

	clock.Add(3 * time.Hour) // the hub is down
	checker := newChecker(db, clock)
	mustPass(t, checker)
	if got := eventTypes(t, db, "died"); len(got) != 0 {
		t.Fatalf("events right after the outage: %v", got)
	}
	clock.Add(5 * time.Minute)
	report(t, db, "comes-back")
	// "died" had 10m of silence before the outage: stale 20m after it.
	clock.Add(15*time.Minute - time.Second)
	mustPass(t, checker)
	if got := eventTypes(t, db, "died"); len(got) != 0 {
		t.Fatalf("events before the credited deadline: %v", got)
	}
	clock.Add(2 * time.Second)
	mustPass(t, checker)
	for id, want := range map[string][]string{"died": {hub.EventNodeStale}, "comes-back": {}} {
		if got := eventTypes(t, db, id); !equal(got, want) {
			t.Errorf("%s: %v, want %v", id, got, want)
		}
	}
}

// TestTwoCheckers runs two checkers, as two hub processes, against one
// database at once: every transition is stored exactly once.
func TestTwoCheckers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	clock := clocktest.New(epoch)
	db1 := openDB(t, path, clock)
	db2 := openDB(t, path, clock)
	const nodes = 60
	for i := range nodes {
		report(t, db1, fmt.Sprintf("node-%02d", i))
	}
	c1, c2 := newChecker(db1, clock), newChecker(db2, clock)
	c1.BatchSize, c2.BatchSize = 7, 7 // many small batches interleave
	for range 70 {
		clock.Add(time.Minute)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, c := range []*monitor.StalenessChecker{c1, c2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.RunOnce(context.Background())
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range nodes {
		id := fmt.Sprintf("node-%02d", i)
		if got, want := eventTypes(t, db1, id), []string{hub.EventNodeStale, hub.EventNodeDown}; !equal(got, want) {
			t.Fatalf("%s: %v, want %v", id, got, want)
		}
	}
}
