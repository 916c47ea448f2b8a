package hub

import "time"

// BackupSchedule is when a node's daily backup is due: every node must
// complete a backup (and a database dump) each local day, and the backup
// checker looks at At past local midnight whether it has. The checker and
// the dashboard read the same rule here, so a backup the checker calls
// missed is never shown as "ok".
type BackupSchedule struct {
	// Location is the zone of the local day; nil means UTC.
	Location *time.Location
	// At is the time of day of the check, as an offset from midnight.
	At time.Duration
}

func (b BackupSchedule) location() *time.Location {
	if b.Location == nil {
		return time.UTC
	}
	return b.Location
}

// DayStart returns the start of the local day t falls on: a backup counts
// for a day when it completed at or after it.
func (b BackupSchedule) DayStart(t time.Time) time.Time {
	loc := b.location()
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// RequiredSince returns the earliest completion that still counts as on
// schedule at now: the start of today once today's check has passed, the
// start of yesterday before it.
func (b BackupSchedule) RequiredSince(now time.Time) time.Time {
	start := b.DayStart(now)
	if check := start.Add(b.At); now.Before(check) {
		y, m, d := start.Date()
		return time.Date(y, m, d-1, 0, 0, 0, 0, start.Location())
	}
	return start
}

// Overdue reports whether a backup last completed at last (nil: never) is
// older than the schedule allows at now.
func (b BackupSchedule) Overdue(last *time.Time, now time.Time) bool {
	return last == nil || last.Before(b.RequiredSince(now))
}
