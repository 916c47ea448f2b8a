package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

const day = 24 * time.Hour

func TestResolutionForTierBoundaries(t *testing.T) {
	tiers := hub.DefaultHistoryTiers
	for _, tc := range []struct {
		period time.Duration
		want   string
	}{
		{time.Hour, hub.ResolutionRaw},
		{24 * time.Hour, hub.ResolutionRaw},
		{7 * day, hub.ResolutionRaw},
		{7*day + time.Hour, hub.ResolutionHourly},
		{8 * day, hub.ResolutionHourly},
		{30 * day, hub.ResolutionHourly},
		{31 * day, hub.ResolutionDaily},
		{90 * day, hub.ResolutionDaily},
	} {
		if got := tiers.ResolutionFor(tc.period); got != tc.want {
			t.Errorf("ResolutionFor(%v) = %s, want %s", tc.period, got, tc.want)
		}
	}
}

func TestHistoryTierLengths(t *testing.T) {
	for _, tc := range []struct {
		fullDays, maxDays        int
		raw, hourly, daily, full time.Duration
	}{
		// The defaults: bodies and raw points a week, hourly a month.
		{7, 90, 7 * day, 30 * day, 90 * day, 7 * day},
		// Bodies kept shorter than raw points: rows stay 7 days, bodies 3.
		{3, 90, 7 * day, 30 * day, 90 * day, 3 * day},
		// Bodies kept longer: rows stay as long as their bodies.
		{14, 90, 14 * day, 30 * day, 90 * day, 14 * day},
		// Nothing outlives max_days.
		{2, 5, 5 * day, 5 * day, 5 * day, 2 * day},
		{7, 20, 7 * day, 20 * day, 20 * day, 7 * day},
	} {
		tiers := hub.NewHistoryTiers(tc.fullDays, tc.maxDays)
		if tiers.RawFor() != tc.raw || tiers.HourlyFor() != tc.hourly || tiers.DailyFor() != tc.daily || tiers.FullFor != tc.full {
			t.Errorf("full_days %d, max_days %d: raw %v hourly %v daily %v full %v; want %v %v %v %v",
				tc.fullDays, tc.maxDays, tiers.RawFor(), tiers.HourlyFor(), tiers.DailyFor(), tiers.FullFor,
				tc.raw, tc.hourly, tc.daily, tc.full)
		}
	}
}
