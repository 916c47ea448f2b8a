package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	_ "time/tzdata" // the wall-clock jobs need Europe/Budapest on any host

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// HubZone is the zone of the daily jobs' wall-clock times.
const HubZone = "Europe/Budapest"

// LoadHubZone returns the Europe/Budapest location from the embedded data.
func LoadHubZone() *time.Location {
	loc, err := time.LoadLocation(HubZone)
	if err != nil {
		panic(fmt.Sprintf("monitor: %s missing from embedded tzdata: %v", HubZone, err))
	}
	return loc
}

// DailyJob runs once a day at a wall-clock time.
type DailyJob struct {
	Name string
	// At is the time of day, in minutes after local midnight.
	At int
	// Run does the job for the slot: the scheduled time it stands for,
	// which is earlier than the clock when a missed run is made up.
	Run func(ctx context.Context, slot time.Time) error
}

// LatestSlot returns the last time at or before now at which a job set for
// at minutes after midnight in loc was due. On the spring DST day a time in
// the skipped hour falls an hour later; the job still runs once that day.
func LatestSlot(now time.Time, loc *time.Location, at int) time.Time {
	y, m, d := now.In(loc).Date()
	slot := time.Date(y, m, d, at/60, at%60, 0, 0, loc)
	if slot.After(now) {
		slot = time.Date(y, m, d-1, at/60, at%60, 0, 0, loc)
	}
	return slot
}

// LocalMidnight returns the start of the local day t falls on.
func LocalMidnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// Scheduler runs daily jobs at their wall-clock time. Each job's last slot
// is recorded in job_runs, so a job runs once per slot, and a job whose slot
// passed while the hub was down runs once at start-up (for the latest slot
// only). On a hub's very first start nothing counts as missed: the current
// slot is recorded without running.
type Scheduler struct {
	Jobs []DailyJob
	Runs hub.JobRunService
	// Lease, when set, must be held for jobs to run: with several replicas
	// only its holder runs them. A job running when it is lost finishes (the
	// jobs are idempotent and job_runs only moves forward); no other starts.
	Lease    hub.Lease
	Location *time.Location
	// Interval is how often the clock is looked at.
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger

	lastSlot map[string]time.Time
	loop     loop.Loop
}

// DefaultSchedulerInterval is how often the Scheduler looks at the clock.
const DefaultSchedulerInterval = 30 * time.Second

// Open starts the loop: due jobs run now, then the clock is looked at every
// Interval.
func (s *Scheduler) Open() error {
	if s.Interval <= 0 {
		s.Interval = DefaultSchedulerInterval
	}
	// The clock is looked at every Interval rather than woken at the next
	// slot: the Lease may come to this replica at any time, and a failed
	// job is tried again at the next look.
	return s.loop.Open(loop.Config{
		Run:      s.RunDue,
		Interval: s.Interval,
		Logger:   s.Logger,
		Level:    slog.LevelError,
		Message:  "daily jobs failed",
		Name:     "daily jobs",
	})
}

// Close stops the loop, waiting for a running job until ctx ends.
func (s *Scheduler) Close(ctx context.Context) error { return s.loop.Close(ctx) }

// RunDue runs every job whose latest slot has not run yet. A failed job is
// logged and tried again at the next look; the others still run. Without
// the Lease it runs nothing, and it looks again before each job.
func (s *Scheduler) RunDue(ctx context.Context) error {
	if s.lastSlot == nil || s.Lease != nil {
		// With a Lease, another replica may have run a job since the last
		// look: the runs are read afresh, or a slot it ran would run again.
		s.lastSlot = map[string]time.Time{}
	}
	now := s.Now()
	for _, job := range s.Jobs {
		if !hub.LeaseHeld(s.Lease) {
			return nil
		}
		slot := LatestSlot(now, s.Location, job.At)
		last, err := s.last(ctx, job.Name, slot)
		if err != nil {
			return err
		}
		if !slot.After(last) {
			continue
		}
		logger := s.Logger.With("job", job.Name, "slot", slot.In(s.Location).Format(time.RFC3339))
		logger.Info("daily job starting")
		if err := job.Run(ctx, slot); err != nil {
			logger.Error("daily job failed", slog.Any("error", err))
			continue
		}
		if err := s.record(ctx, job.Name, slot); err != nil {
			return err
		}
		logger.Info("daily job done", "took", s.Now().Sub(now).String())
	}
	return nil
}

// last returns the job's last slot. A job that has never run gets the
// current slot recorded as its start.
func (s *Scheduler) last(ctx context.Context, job string, slot time.Time) (time.Time, error) {
	if t, ok := s.lastSlot[job]; ok {
		return t, nil
	}
	t, err := s.Runs.FindJobRun(ctx, job)
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
		return slot, s.record(ctx, job, slot)
	case err != nil:
		return time.Time{}, err
	}
	s.lastSlot[job] = t
	return t, nil
}

func (s *Scheduler) record(ctx context.Context, job string, slot time.Time) error {
	if err := s.Runs.RecordJobRun(ctx, job, slot); err != nil {
		return err
	}
	s.lastSlot[job] = slot
	return nil
}
