package hub

import (
	"context"
	"encoding/json"
	"time"
)

// History resolutions: how the points of a history answer were sampled.
const (
	// ResolutionRaw is one point per report.
	ResolutionRaw = "raw"
	// ResolutionHourly is one point per hour: the average and maximum of
	// the hour's reports.
	ResolutionHourly = "hourly"
	// ResolutionDaily is one point per UTC day.
	ResolutionDaily = "daily"
)

// The report streams whose history the hub keeps.
const (
	// StreamReports is the controller reports of a customer.
	StreamReports = "reports"
	// StreamHostReports is the host agent reports of a host.
	StreamHostReports = "host_reports"
)

// The tiers whose length is not configurable.
const (
	// RawPointsFor is how long one point per report is kept at least.
	RawPointsFor = 7 * 24 * time.Hour
	// HourlyPointsFor is how long hourly rollups are kept.
	HourlyPointsFor = 30 * 24 * time.Hour
)

// HistoryTiers says how long each tier of history is kept. Whatever the
// tiers, a customer's and a host's latest report is kept forever.
type HistoryTiers struct {
	// FullFor keeps whole report bodies (retention.full_days).
	FullFor time.Duration
	// MaxAge is the most any history is kept (retention.max_days): the
	// daily rollups last this long.
	MaxAge time.Duration
}

// DefaultHistoryTiers are the tiers of the default configuration.
var DefaultHistoryTiers = NewHistoryTiers(7, 90)

// NewHistoryTiers returns the tiers for retention.full_days and max_days.
func NewHistoryTiers(fullDays, maxDays int) HistoryTiers {
	return HistoryTiers{FullFor: time.Duration(fullDays) * 24 * time.Hour, MaxAge: time.Duration(maxDays) * 24 * time.Hour}
}

// RawFor is how long report rows, one point each, are kept: as long as
// their bodies or RawPointsFor, whichever is longer, but never past MaxAge.
func (t HistoryTiers) RawFor() time.Duration { return min(max(RawPointsFor, t.FullFor), t.MaxAge) }

// HourlyFor is how long hourly rollups are kept.
func (t HistoryTiers) HourlyFor() time.Duration { return min(HourlyPointsFor, t.MaxAge) }

// DailyFor is how long daily rollups are kept.
func (t HistoryTiers) DailyFor() time.Duration { return t.MaxAge }

// ResolutionFor returns the finest resolution whose tier covers a period
// ending now: raw up to 7 days, hourly up to 30 days, daily beyond.
func (t HistoryTiers) ResolutionFor(period time.Duration) string {
	switch {
	case period <= RawPointsFor:
		return ResolutionRaw
	case period <= HourlyPointsFor:
		return ResolutionHourly
	}
	return ResolutionDaily
}

// Filter returns the filter of a subject's history over the period ending
// at now, at the finest resolution whose tier covers it. The API and the
// dashboard both read history through it, so that they cannot drift.
func (t HistoryTiers) Filter(stream, subjectID string, period time.Duration, now time.Time) MetricFilter {
	return MetricFilter{Stream: stream, SubjectID: subjectID, Resolution: t.ResolutionFor(period), Since: now.Add(-period)}
}

// BucketSize returns the length of one point of a rolled-up resolution.
func BucketSize(resolution string) time.Duration {
	switch resolution {
	case ResolutionHourly:
		return time.Hour
	case ResolutionDaily:
		return 24 * time.Hour
	}
	return 0
}

// MetricPoint is one point of a metric history. Every resolution has the
// same shape: a raw point is one report, whose average and maximum are its
// value.
type MetricPoint struct {
	// Time is when the report was received, or the start of the bucket.
	Time time.Time `json:"time"`
	// ReportID is the report of a raw point; 0 for rolled-up points.
	ReportID int64 `json:"report_id,omitempty"`
	// Samples is how many reports the point stands for.
	Samples int     `json:"samples"`
	CPUAvg  float64 `json:"cpu_avg"`
	CPUMax  float64 `json:"cpu_max"`
	MemAvg  float64 `json:"mem_avg"`
	MemMax  float64 `json:"mem_max"`
	DiskAvg float64 `json:"disk_avg"`
	DiskMax float64 `json:"disk_max"`
	// Unread is the bit set (UnreadCPU, UnreadMem, UnreadDisk) of the
	// metrics the point has no value for: its numbers above are 0 then.
	Unread int `json:"-"`
}

// MetricFilter selects the points of one customer's or host's history.
type MetricFilter struct {
	// Stream is StreamReports (SubjectID is a customer) or
	// StreamHostReports (SubjectID is a host).
	Stream     string
	SubjectID  string
	Resolution string
	// Since is the start of the period; a rolled-up answer starts with the
	// bucket Since falls in.
	Since time.Time
}

// ArchivedReport is a report body from the full tier.
type ArchivedReport struct {
	ID         int64           `json:"report_id"`
	SubjectID  string          `json:"-"`
	ReceivedAt time.Time       `json:"received_at"`
	Body       json.RawMessage `json:"report"`
}

// HistoryService reads the history tiers.
type HistoryService interface {
	// FindMetrics returns the points of a customer's or host's history,
	// oldest first.
	FindMetrics(ctx context.Context, f MetricFilter) ([]MetricPoint, error)
	// FindArchivedReport returns one report of a customer (StreamReports)
	// or host (StreamHostReports) as received; ENOTFOUND when the subject
	// has no such report or its body is past retention.full_days.
	FindArchivedReport(ctx context.Context, stream, subjectID string, reportID int64) (*ArchivedReport, error)
}

// HistoryMaintenance keeps the tiers. Each call does one small batch in its
// own transaction and says how much it did, so callers can pace the work.
type HistoryMaintenance interface {
	// RollUpHistory folds up to limit reports of each stream, not rolled
	// up yet, into the hourly and daily rollups.
	RollUpHistory(ctx context.Context, limit int) (int, error)
	// CompactHistory looks at up to limit reports of each stream that have
	// not been looked at yet and stores their bodies as deltas against the
	// day's keyframe; plain JSON bodies of older versions are compressed.
	CompactHistory(ctx context.Context, limit int) (int, error)
	// PruneHistory trims each tier to its length, step by step in small
	// transactions; it never deletes a report not rolled up yet, nor a
	// customer's or host's latest report.
	PruneHistory(ctx context.Context) ([]PruneResult, error)
	// ReclaimSpace returns up to pages free pages to the operating system
	// and says how many are left.
	ReclaimSpace(ctx context.Context, pages int) (int64, error)
}
