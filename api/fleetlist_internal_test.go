package api

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// The streamed fleet list is byte for byte what writeJSON made of the
// customer views before: the API's JSON did not change.
func TestWriteFleetIsTheCustomerViewsJSON(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)
	reported := now.Add(-3 * time.Minute)
	customers := []*hub.Customer{
		{ID: "a-node", Managed: true, DisplayName: `Kovács <Kft.> & "társa"` + "\u2028", Domain: "a.felhom.eu", CreatedAt: now.Add(-48 * time.Hour),
			Latest: &hub.ReportSummary{ReportID: 7, ReceivedAt: now.Add(-2 * time.Minute), ReportedAt: &reported, ControllerVersion: "v1.2.0",
				Health: hub.HealthWarn, MonitoringEnabled: true, CPUPercent: 12.5, MemPercent: 99.999, ContainersTotal: 3, ContainersRunning: 2}},
		{ID: "b-node", Managed: true, Blocked: true, CreatedAt: now},
		{ID: "c-node", CreatedAt: now.Add(-time.Hour), Latest: &hub.ReportSummary{ReportID: 9, ReceivedAt: now.Add(-2 * time.Hour), ControllerVersion: "v1.3.0", MonitoringEnabled: true}},
		{ID: "d-node", Managed: true, MonitoringPaused: true, CreatedAt: now, Latest: &hub.ReportSummary{ReportID: 10, ReceivedAt: now, MonitoringEnabled: true}},
	}
	events := map[string][]hub.EventMark{
		"a-node": {{ID: 1, ReceivedAt: now.Add(-25 * time.Hour), Severity: hub.SeverityError}, {ID: 2, ReceivedAt: now.Add(-time.Hour), Severity: hub.SeverityError},
			{ID: 3, ReceivedAt: now, Severity: hub.SeverityWarning}},
		"c-node": {{ID: 4, ReceivedAt: now.Add(-24 * time.Hour), Severity: hub.SeverityWarning}},
	}
	fl := &hub.Fleet{EventsSince: now.Add(-25 * time.Hour)}
	for _, c := range customers {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		fl.Rows = append(fl.Rows, &hub.FleetRow{Customer: c, JSON: b, Events: events[c.ID]})
	}
	s := &Server{Thresholds: hub.DefaultThresholds}
	for _, latest := range []string{"", "v1.3.0", "v2 <beta>"} {
		for _, counts := range []map[string]hub.EventCounts{nil, {"c-node": {Errors: 5, Warnings: 6}}} {
			views := make([]customerView, len(customers))
			for i, c := range customers {
				ec := fl.Rows[i].EventCounts(now.Add(-recentEventsPeriod))
				if counts != nil {
					ec = counts[c.ID]
				}
				views[i] = customerView{Customer: c, Status: c.Status(now, s.Thresholds), Errors24h: ec.Errors, Warnings24h: ec.Warnings,
					UpdateAvailable: c.Latest != nil && hub.UpdateAvailable(c.Latest.ControllerVersion, latest)}
			}
			want := httptest.NewRecorder()
			writeJSON(want, 200, map[string]any{"customers": views, "latest_controller_version": latest})
			got := httptest.NewRecorder()
			s.writeFleet(got, fl, now, counts, latest)
			if got.Body.String() != want.Body.String() {
				t.Errorf("latest %q, counts %v:\n got %s\nwant %s", latest, counts, got.Body, want.Body)
			}
			if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") ||
				got.Header().Get("Cache-Control") != want.Header().Get("Cache-Control") {
				t.Errorf("status or headers differ: %d %v, want %d %v", got.Code, got.Header(), want.Code, want.Header())
			}
		}
	}

	// An empty fleet, and a row that could not be encoded.
	want := httptest.NewRecorder()
	writeJSON(want, 200, map[string]any{"customers": []customerView{}, "latest_controller_version": ""})
	got := httptest.NewRecorder()
	s.writeFleet(got, &hub.Fleet{}, now, nil, "")
	if got.Body.String() != want.Body.String() {
		t.Errorf("empty fleet: %s, want %s", got.Body, want.Body)
	}
	got = httptest.NewRecorder()
	s.writeFleet(got, &hub.Fleet{Rows: []*hub.FleetRow{{Customer: customers[0]}}}, now, nil, "")
	if got.Code != 500 || got.Body.String() != "{\"error\":\"internal error\"}\n" {
		t.Errorf("unencodable row: %d %s", got.Code, got.Body)
	}
}
