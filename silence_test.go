package hub_test

import (
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// A weekly window keeps its local start across both changes of daylight
// saving time in Europe/Budapest (29 March and 25 October 2026).
func TestRecurrenceAcrossDST(t *testing.T) {
	tests := []struct {
		name       string
		rec        hub.Recurrence
		from, to   string // the series' bounds
		at         string // asked at
		start, end string // the window covering or following at (UTC)
	}{
		// Sunday 01:30 local for 2h: before the spring change CET (UTC+1),
		// on the day itself the window starts in CET and ends in CEST, a
		// week later it is CEST (UTC+2).
		{"spring, the week before", hub.Recurrence{Weekdays: []int{7}, Start: "01:30", Duration: "2h"},
			"2026-03-20T00:00:00Z", "2026-04-10T00:00:00Z", "2026-03-21T12:00:00Z", "2026-03-22T00:30:00Z", "2026-03-22T02:30:00Z"},
		{"spring, the day of the change", hub.Recurrence{Weekdays: []int{7}, Start: "01:30", Duration: "2h"},
			"2026-03-20T00:00:00Z", "2026-04-10T00:00:00Z", "2026-03-28T12:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T02:30:00Z"},
		{"spring, the week after", hub.Recurrence{Weekdays: []int{7}, Start: "01:30", Duration: "2h"},
			"2026-03-20T00:00:00Z", "2026-04-10T00:00:00Z", "2026-03-30T12:00:00Z", "2026-04-04T23:30:00Z", "2026-04-05T01:30:00Z"},
		// Every day 22:00 local for 2h across the autumn change.
		{"autumn, in summer time", hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "22:00", Duration: "2h"},
			"2026-10-20T00:00:00Z", "2026-10-30T00:00:00Z", "2026-10-24T20:30:00Z", "2026-10-24T20:00:00Z", "2026-10-24T22:00:00Z"},
		{"autumn, in winter time", hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "22:00", Duration: "2h"},
			"2026-10-20T00:00:00Z", "2026-10-30T00:00:00Z", "2026-10-25T20:30:00Z", "2026-10-25T21:00:00Z", "2026-10-25T23:00:00Z"},
		// ends_at bounds the series and cuts the last window short.
		{"the series' end cuts a window", hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "22:00", Duration: "2h"},
			"2026-10-20T00:00:00Z", "2026-10-25T21:30:00Z", "2026-10-25T21:10:00Z", "2026-10-25T21:00:00Z", "2026-10-25T21:30:00Z"},
		// A window that began before the series starts begins with it.
		{"the series' start cuts a window", hub.Recurrence{Weekdays: []int{1, 2, 3, 4, 5, 6, 7}, Start: "22:00", Duration: "2h"},
			"2026-10-25T21:30:00Z", "2026-10-30T00:00:00Z", "2026-10-25T21:40:00Z", "2026-10-25T21:30:00Z", "2026-10-25T23:00:00Z"},
		// Monday 23:00 for 3h runs into Tuesday: asked on Tuesday 01:00.
		{"a window past midnight", hub.Recurrence{Weekdays: []int{1}, Start: "23:00", Duration: "3h"},
			"2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z", "2026-11-24T00:00:00Z", "2026-11-23T22:00:00Z", "2026-11-24T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec
			s := &hub.Silence{CustomerID: "kovacs", Reason: "window", StartsAt: utc(tt.from), EndsAt: utc(tt.to), Recurrence: &rec}
			if err := s.Validate(utc(tt.from)); err != nil {
				t.Fatal(err)
			}
			at := utc(tt.at)
			from, to, ok := s.Window(at)
			if !ok || !from.Equal(utc(tt.start)) || !to.Equal(utc(tt.end)) {
				t.Fatalf("window at %s: %s .. %s (%v), want %s .. %s", tt.at, from, to, ok, tt.start, tt.end)
			}
			inside := !at.Before(from)
			if s.ActiveAt(at) != inside {
				t.Errorf("ActiveAt(%s) = %v, want %v", tt.at, !inside, inside)
			}
			wantState := hub.SilenceUpcoming
			if inside {
				wantState = hub.SilenceActive
			}
			if got := s.State(at); got != wantState {
				t.Errorf("state %s, want %s", got, wantState)
			}
			if !s.ActiveAt(from) || s.ActiveAt(to) || s.ActiveAt(from.Add(-time.Second)) {
				t.Errorf("a window is [start, end): %s .. %s", from, to)
			}
		})
	}
}

func TestSilenceStates(t *testing.T) {
	now := utc("2026-11-22T09:45:00Z")
	s := &hub.Silence{CustomerID: "kovacs", Reason: "disk swap", StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)}
	if err := s.Validate(now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want string
	}{{now, hub.SilenceUpcoming}, {now.Add(time.Hour), hub.SilenceActive}, {now.Add(2 * time.Hour), hub.SilenceExpired}} {
		if got := s.State(c.at); got != c.want {
			t.Errorf("at %s: %s, want %s", c.at, got, c.want)
		}
	}
	ended := now.Add(90 * time.Minute)
	s.EndedAt = &ended
	if s.State(ended) != hub.SilenceExpired || !s.ActiveAt(ended.Add(-time.Second)) {
		t.Errorf("ended early: state %s at its end", s.State(ended))
	}
	// A series whose last window has passed is over before its end.
	w := &hub.Silence{EventTypes: []string{"node_down"}, Reason: "weekly", StartsAt: utc("2026-11-23T00:00:00Z"),
		EndsAt: utc("2026-11-24T12:00:00Z"), Recurrence: &hub.Recurrence{Weekdays: []int{1}, Start: "02:00", Duration: "1h"}}
	if err := w.Validate(w.StartsAt); err != nil {
		t.Fatal(err)
	}
	if got := w.State(utc("2026-11-23T03:00:00Z")); got != hub.SilenceExpired {
		t.Errorf("after the last window: %s", got)
	}
}

func TestParseSilenceRefuses(t *testing.T) {
	now := utc("2026-11-22T09:45:00Z")
	tests := []struct{ body, names string }{
		{`{"ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "scope"},
		{`{"customer_id":"","host_id":"","event_types":[],"ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "scope"},
		{`{"customer_id":"kovacs","reason":"x"}`, "ends_at"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-22T12:00:00Z"}`, "reason"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-22T12:00:00Z","reason":"   "}`, "reason"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-22T12:00:00Z","reason":"a\u0000b"}`, "reason"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-22T12:00:00Z","reason":"line\nbreak"}`, "reason"},
		{`{"customer_id":"kovacs","ends_at":"2026-12-23T12:00:00Z","reason":"x"}`, "30 days"},
		{`{"customer_id":"kovacs","starts_at":"2026-11-25T00:00:00Z","ends_at":"2026-12-25T00:00:01Z","reason":"x"}`, "30 days"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-22T09:00:00Z","reason":"x"}`, "ends_at"},
		{`{"customer_id":"kovacs","ends_at":"tomorrow","reason":"x"}`, "RFC 3339"},
		{`{"customer_id":"Kovács","ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "customer_id"},
		{`{"host_id":"../x","ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "host_id"},
		{`{"event_types":["Node Down"],"ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "event_types"},
		{`{"customer_id":5,"ends_at":"2026-11-22T12:00:00Z","reason":"x"}`, "customer_id"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-22T12:00:00Z","reason":"x","mute":true}`, "unknown field"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[],"start":"22:00","duration":"2h"}}`, "recurrence.weekdays"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[8],"start":"22:00","duration":"2h"}}`, "recurrence.weekdays"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1,1],"start":"22:00","duration":"2h"}}`, "recurrence.weekdays"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1],"start":"24:00","duration":"2h"}}`, "recurrence.start"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1],"start":"9:00","duration":"2h"}}`, "recurrence.start"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1],"start":"22:00","duration":"0s"}}`, "recurrence.duration"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1],"start":"22:00","duration":"200h"}}`, "recurrence.duration"},
		{`{"customer_id":"kovacs","ends_at":"2026-11-29T12:00:00Z","reason":"x","recurrence":{"weekdays":[1],"start":"22:00","duration":"soon"}}`, "recurrence.duration"},
		{`[]`, "JSON object"},
	}
	for _, tt := range tests {
		s, err := hub.ParseSilence([]byte(tt.body))
		if err == nil {
			err = s.Validate(now)
		}
		if hub.ErrorCode(err) != hub.EINVALID || !strings.Contains(hub.ErrorMessage(err), tt.names) {
			t.Errorf("%s: %v, want an invalid error naming %q", tt.body, err, tt.names)
		}
	}
	s, err := hub.ParseSilence([]byte(`{"host_id":"kovacs-3fa2c1","event_types":["host_down","host_down"],"ends_at":"2026-11-22T12:00:00Z","reason":" swap "}`))
	if err == nil {
		err = s.Validate(now)
	}
	if err != nil || !s.StartsAt.Equal(now) || s.Reason != "swap" || len(s.EventTypes) != 1 {
		t.Errorf("a good silence: %+v, %v", s, err)
	}
}
