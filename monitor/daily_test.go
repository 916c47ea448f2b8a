package monitor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
)

var budapest = monitor.LoadHubZone()

// local returns a Budapest wall-clock time.
func local(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, budapest)
}

func TestLatestSlot(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		now  time.Time
		at   int
		want time.Time
	}{
		{"before the time: yesterday's", utc("2026-11-22T03:59:00Z"), 5 * 60, utc("2026-11-21T04:00:00Z")},
		{"at the time", utc("2026-11-22T04:00:00Z"), 5 * 60, utc("2026-11-22T04:00:00Z")},
		{"after the time", utc("2026-11-22T22:59:00Z"), 5 * 60, utc("2026-11-22T04:00:00Z")},
		{"after local midnight, before UTC midnight", utc("2026-11-22T23:30:00Z"), 5 * 60, utc("2026-11-22T04:00:00Z")},
		// 2027-03-28: clocks go 02:00 CET -> 03:00 CEST; 05:00 is UTC+2.
		{"spring DST day 05:00", utc("2027-03-28T03:00:00Z"), 5 * 60, utc("2027-03-28T03:00:00Z")},
		{"spring DST day before 05:00", utc("2027-03-28T02:59:00Z"), 5 * 60, utc("2027-03-27T04:00:00Z")},
		{"spring DST day 04:30", utc("2027-03-28T02:30:00Z"), 4*60 + 30, utc("2027-03-28T02:30:00Z")},
		// 2027-10-31: clocks go 03:00 CEST -> 02:00 CET; 05:00 is UTC+1.
		{"autumn DST day 05:00", utc("2027-10-31T04:00:00Z"), 5 * 60, utc("2027-10-31T04:00:00Z")},
		{"autumn DST day 04:59 (UTC+1)", utc("2027-10-31T03:59:00Z"), 5 * 60, utc("2027-10-30T03:00:00Z")},
		{"day after autumn DST", utc("2027-11-01T04:00:00Z"), 5 * 60, utc("2027-11-01T04:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := monitor.LatestSlot(tt.now, budapest, tt.at); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got.UTC(), tt.want)
			}
		})
	}
}

func TestLocalMidnight(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{local(2027, 3, 28, 5, 0), "2027-03-27T23:00:00Z"},  // CET midnight
		{local(2027, 3, 29, 5, 0), "2027-03-28T22:00:00Z"},  // CEST midnight
		{local(2027, 10, 31, 5, 0), "2027-10-30T22:00:00Z"}, // CEST midnight
		{local(2027, 11, 1, 0, 30), "2027-10-31T23:00:00Z"}, // CET midnight
	} {
		if got := monitor.LocalMidnight(tt.t, budapest).UTC().Format(time.RFC3339); got != tt.want {
			t.Errorf("midnight of %v = %s, want %s", tt.t, got, tt.want)
		}
	}
}

// recorder is a daily job that records its slots.
type recorder struct {
	slots []time.Time
	err   error
	onRun func() // when set, called as the job runs
}

func (r *recorder) run(_ context.Context, slot time.Time) error {
	if r.onRun != nil {
		r.onRun()
	}
	if r.err != nil {
		return r.err
	}
	r.slots = append(r.slots, slot)
	return nil
}

func TestScheduler(t *testing.T) {
	clock := clocktest.New(local(2027, 3, 27, 10, 0))
	db := openDB(t, "", clock)
	var backup, prune recorder
	newScheduler := func() *monitor.Scheduler {
		return &monitor.Scheduler{
			Jobs: []monitor.DailyJob{
				{Name: "prune", At: 4*60 + 30, Run: prune.run},
				{Name: "backup_check", At: 5 * 60, Run: backup.run},
			},
			Runs: db, Location: budapest, Now: clock.Now, Logger: discard,
		}
	}
	s := newScheduler()
	runDue := func() {
		t.Helper()
		if err := s.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string, r *recorder, want ...time.Time) {
		t.Helper()
		if len(r.slots) != len(want) {
			t.Fatalf("%s: runs %v, want %v", step, r.slots, want)
		}
		for i := range want {
			if !r.slots[i].Equal(want[i]) {
				t.Fatalf("%s: runs %v, want %v", step, r.slots, want)
			}
		}
	}

	runDue()
	check("first start runs nothing", &backup)
	check("first start runs nothing", &prune)

	// Through the spring DST night in 30 s steps: each job once, on time.
	for clock.Now().Before(local(2027, 3, 28, 12, 0)) {
		clock.Add(30 * time.Second)
		runDue()
	}
	check("spring DST day", &prune, local(2027, 3, 28, 4, 30))
	check("spring DST day", &backup, local(2027, 3, 28, 5, 0))

	// A restart the same day runs nothing again.
	s = newScheduler()
	runDue()
	check("restart", &backup, local(2027, 3, 28, 5, 0))

	// Down from noon on the 28th to noon on the 31st: the missed job runs
	// once at start-up, for the latest slot only.
	clock.Set(local(2027, 3, 31, 12, 0))
	s = newScheduler()
	runDue()
	runDue()
	check("after an outage", &backup, local(2027, 3, 28, 5, 0), local(2027, 3, 31, 5, 0))
	check("after an outage", &prune, local(2027, 3, 28, 4, 30), local(2027, 3, 31, 4, 30))

	// A failing job is tried again at the next look; the other job runs.
	prune.err = errors.New("disk full")
	clock.Set(local(2027, 4, 1, 5, 0))
	runDue()
	check("failing prune", &backup, local(2027, 3, 28, 5, 0), local(2027, 3, 31, 5, 0), local(2027, 4, 1, 5, 0))
	prune.err = nil
	clock.Add(30 * time.Second)
	runDue()
	check("retried prune", &prune, local(2027, 3, 28, 4, 30), local(2027, 3, 31, 4, 30), local(2027, 4, 1, 4, 30))
}

// TestSchedulerDSTHours sets a job inside the hours the DST changes skip or
// repeat: it still runs exactly once on each of those days.
func TestSchedulerDSTHours(t *testing.T) {
	for _, day := range []time.Time{local(2027, 3, 28, 0, 0), local(2027, 10, 31, 0, 0)} {
		t.Run(day.Format("2006-01-02"), func(t *testing.T) {
			clock := clocktest.New(day.Add(-12 * time.Hour))
			db := openDB(t, "", clock)
			var job recorder
			s := &monitor.Scheduler{
				Jobs: []monitor.DailyJob{{Name: "job", At: 2*60 + 30, Run: job.run}},
				Runs: db, Location: budapest, Now: clock.Now, Logger: discard,
			}
			for clock.Now().Before(day.Add(24 * time.Hour)) {
				if err := s.RunDue(context.Background()); err != nil {
					t.Fatal(err)
				}
				clock.Add(time.Minute)
			}
			if len(job.slots) != 1 {
				t.Fatalf("runs %v, want one", job.slots)
			}
		})
	}
}

func TestBackupChecker(t *testing.T) {
	days := []struct {
		name string
		day  time.Time // local midnight
	}{
		{"ordinary day", local(2026, 11, 22, 0, 0)},
		{"spring DST day", local(2027, 3, 28, 0, 0)},
		{"autumn DST day", local(2027, 10, 31, 0, 0)},
	}
	backups := []struct {
		name   string
		at     time.Duration // after local midnight; negative: the day before
		missed bool
	}{
		{"none", 0, true},
		{"a minute before midnight", -time.Minute, true},
		{"at midnight", 0, false},
		{"just after midnight", time.Minute, false},
		{"at 02:30 local", 2*time.Hour + 30*time.Minute, false},
	}
	for _, d := range days {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			clock := clocktest.New(d.day.Add(-12 * time.Hour))
			db := openDB(t, "", clock)
			for i := range backups {
				report(t, db, fmt.Sprintf("node-%d", i))
			}
			for i, b := range backups {
				id := fmt.Sprintf("node-%d", i)
				if b.name != "none" {
					e := &hub.Event{CustomerID: id, Type: hub.EventBackupCompleted, Severity: "info",
						Source: hub.SourceController, Message: "ok", OccurredAt: d.day.Add(b.at)}
					if err := db.CreateEvent(ctx, e); err != nil {
						t.Fatal(err)
					}
				}
				e := &hub.Event{CustomerID: id, Type: hub.EventDBDumpCompleted, Severity: "info",
					Source: hub.SourceController, Message: "ok", OccurredAt: d.day.Add(90 * time.Minute)}
				if err := db.CreateEvent(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			// 05:00 local; not midnight+5h, which is 04:00 on the autumn day.
			at5 := local(d.day.Year(), d.day.Month(), d.day.Day(), 5, 0)
			slot := monitor.LatestSlot(at5, budapest, 5*60)
			if !slot.Equal(at5) {
				t.Fatalf("slot %v, want %v", slot, at5)
			}
			clock.Set(slot)
			checker := &monitor.BackupChecker{Nodes: db, Events: db, Location: budapest, Now: clock.Now, Logger: discard}
			for run := range 3 { // re-runs add nothing
				clock.Add(time.Minute)
				if err := checker.Run(ctx, slot); err != nil {
					t.Fatal(err)
				}
				for i, b := range backups {
					id := fmt.Sprintf("node-%d", i)
					var want []string
					if b.missed {
						want = []string{hub.EventExpectedBackupMissed}
					}
					var got []string
					for _, typ := range eventTypes(t, db, id) {
						if hub.EventTypeSource(typ) == hub.SourceHub {
							got = append(got, typ)
						}
					}
					if !equal(got, want) {
						t.Errorf("run %d, backup %s: hub events %v, want %v", run, b.name, got, want)
					}
				}
			}
		})
	}
}

func TestBackupCheckerDBDump(t *testing.T) {
	ctx := context.Background()
	day := local(2027, 10, 31, 0, 0)
	clock := clocktest.New(day.Add(-time.Hour))
	db := openDB(t, "", clock)
	report(t, db, "a-node")
	e := &hub.Event{CustomerID: "a-node", Type: hub.EventBackupCompleted, Severity: "info",
		Source: hub.SourceController, Message: "ok", OccurredAt: day.Add(2 * time.Hour)}
	if err := db.CreateEvent(ctx, e); err != nil {
		t.Fatal(err)
	}
	clock.Set(local(2027, 10, 31, 5, 0))
	checker := &monitor.BackupChecker{Nodes: db, Events: db, Location: budapest, Now: clock.Now, Logger: discard}
	if err := checker.Run(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	events, err := db.FindEvents(ctx, hub.EventFilter{CustomerID: "a-node", Severities: []string{"warning"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Type != hub.EventExpectedDBDumpMissed || events[0].Source != hub.SourceHub {
		t.Fatalf("events %+v, want one expected_dbdump_missed", events)
	}
	if want := "expected_dbdump_missed:a-node:2027-10-31"; events[0].DedupeKey != want {
		t.Errorf("dedupe key %q, want %q", events[0].DedupeKey, want)
	}
}

func TestPruner(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	report(t, db, "a-node")
	report(t, db, "a-node")
	clock.Add(91 * 24 * time.Hour)
	p := &monitor.Pruner{Store: db, MaxAge: 90 * 24 * time.Hour, Now: clock.Now, Logger: discard}
	if err := p.Run(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindLatestReport(ctx, "a-node"); err != nil {
		t.Fatalf("latest report pruned: %v", err)
	}
	history, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "a-node", Resolution: hub.ResolutionRaw, Since: epoch.Add(-time.Hour)})
	if err != nil || len(history) != 1 {
		t.Fatalf("history %v, %v; want only the latest report", history, err)
	}
}

// TestPrunerClearsExpiredRateLimits: the daily prune deletes rate-limit
// state that limits nothing any more, whatever the retention.
func TestPrunerClearsExpiredRateLimits(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := openDB(t, "", clock)
	expired := hub.RateLimit{Key: "test:expired", Burst: 1, Every: time.Minute}
	live := hub.RateLimit{Key: "test:live", Burst: 1, Every: 48 * time.Hour}
	if err := db.AddRateLimitEvents(ctx, expired, live); err != nil {
		t.Fatal(err)
	}
	clock.Add(24 * time.Hour)
	var logs bytes.Buffer
	p := &monitor.Pruner{Store: db, MaxAge: 90 * 24 * time.Hour, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := p.Run(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "step=rate_limits deleted=1 ") {
		t.Errorf("want one expired rate limit pruned; logs:\n%s", logs.String())
	}
	if wait, err := db.RateLimitWait(ctx, live); err != nil || wait != 24*time.Hour {
		t.Errorf("the live limit waits %v (%v), want 24h", wait, err)
	}
}
