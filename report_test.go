package hub_test

import (
	"os"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func mustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseReportExample(t *testing.T) {
	body := mustReadFile(t, "testdata/controller-report.json")
	r, err := hub.ParseReport(body)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Raw) != string(body) {
		t.Error("Raw is not the body as received")
	}
	received := time.Date(2026, 11, 22, 9, 46, 0, 0, time.UTC)
	s := r.Summarize(received)
	want := hub.ReportSummary{
		ReceivedAt: received, ControllerVersion: "v1.4.2", ControllerURL: "https://kovacs-csalad.felhom.eu",
		Health: "warn", MonitoringEnabled: true, Hostname: "felhom-kovacs",
		CPUPercent: 7.4, MemPercent: 37.5, DiskPercent: 91.2, ContainersTotal: 5, ContainersRunning: 4,
		LastBackupStatus: "ok",
	}
	if s.ReportedAt == nil || !s.ReportedAt.Equal(time.Date(2026, 11, 22, 9, 45, 3, 0, time.UTC)) {
		t.Errorf("ReportedAt = %v", s.ReportedAt)
	}
	if s.LastBackupAt == nil || !s.LastBackupAt.Equal(time.Date(2026, 11, 22, 2, 14, 51, 0, time.UTC)) {
		t.Errorf("LastBackupAt = %v", s.LastBackupAt)
	}
	s.ReportedAt, s.LastBackupAt = nil, nil
	if s != want {
		t.Errorf("Summarize() =\n%+v\nwant\n%+v", s, want)
	}
}

func TestParseReportMinimal(t *testing.T) {
	r, err := hub.ParseReport([]byte(`{"customer_id":"ab"}`))
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summarize(time.Now())
	if !s.MonitoringEnabled {
		t.Error("monitoring_enabled must default to true when absent")
	}
	r, err = hub.ParseReport([]byte(`{"customer_id":"ab","monitoring_enabled":false,"storage":[{"total_bytes":0,"used_bytes":5}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Summarize(time.Now()); s.MonitoringEnabled || s.DiskPercent != 0 {
		t.Errorf("got monitoring %v disk %v, want false and 0", s.MonitoringEnabled, s.DiskPercent)
	}
}

func TestParseReportErrors(t *testing.T) {
	tests := []struct {
		body, wantInError string
	}{
		{``, "empty"},
		{`   `, "empty"},
		{`[]`, "JSON object"},
		{`"x"`, "JSON object"},
		{`null`, "JSON object"},
		{`{`, "malformed JSON"},
		{`{"customer_id":"ab"} {}`, "malformed JSON"},
		{`{"customer_id":"ab",}`, "malformed JSON"},
		{`{}`, "customer_id is required"},
		{`{"customer_id":""}`, "customer_id is required"},
		{`{"customer_id":"A"}`, "customer_id must be"},
		{`{"customer_id":"../../x"}`, "customer_id must be"},
		{`{"customer_id":42}`, "field customer_id: expected a string"},
		{`{"customer_id":"ab","system":{"cpu_percent":"high"}}`, "field system.cpu_percent: expected a number"},
		{`{"customer_id":"ab","system":[]}`, "field system: expected an object"},
		{`{"customer_id":"ab","storage":{}}`, "field storage: expected an array"},
		{`{"customer_id":"ab","monitoring_enabled":"yes"}`, "field monitoring_enabled: expected true or false"},
		{`{"customer_id":"ab","containers":[{"state":1}]}`, "field containers.state: expected a string"},
		{`{"customer_id":"ab","reported_at":"yesterday"}`, "reported_at must be an RFC 3339 time"},
		{`{"customer_id":"ab","reported_at":12}`, "field reported_at: expected a string"},
		{`{"customer_id":"ab","backups":{"last_backup_at":"2026-13-01"}}`, "backups.last_backup_at must be an RFC 3339"},
		{`{"customer_id":"ab","health":"great"}`, "health must be one of"},
		{`{"customer_id":"ab","system":{"cpu_percent":-1}}`, "system.cpu_percent must not be negative"},
		{`{"customer_id":"ab","storage":[{"total_bytes":-1}]}`, "storage[0]"},
		{`{"customer_id":"ab","system":{"mem_total_bytes":1e999}}`, "field system.mem_total_bytes"},
		{`{"customer_id":"ab","controller_version":"` + strings.Repeat("1", 65) + `"}`, "controller_version is longer"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			_, err := hub.ParseReport([]byte(tt.body))
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("error = %v, want EINVALID", err)
			}
			if msg := hub.ErrorMessage(err); !strings.Contains(msg, tt.wantInError) {
				t.Errorf("message %q does not contain %q", msg, tt.wantInError)
			}
		})
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add(mustReadFile(f, "testdata/controller-report.json"))
	f.Add([]byte(`{"customer_id":"ab","system":{"mem_total_bytes":0,"mem_used_bytes":1}}`))
	f.Add([]byte(`{"customer_id":"ab","storage":[{"total_bytes":1e308,"used_bytes":1e308}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := hub.ParseReport(body)
		if err != nil {
			if code := hub.ErrorCode(err); code != hub.EINVALID {
				t.Fatalf("error code %s for %q", code, body)
			}
			return
		}
		if hub.ValidateCustomerID(r.CustomerID) != nil {
			t.Fatalf("accepted invalid customer id %q", r.CustomerID)
		}
		s := r.Summarize(time.Now())
		if s.MemPercent < 0 || s.DiskPercent < 0 || s.ContainersRunning > s.ContainersTotal {
			t.Fatalf("impossible summary %+v", s)
		}
	})
}
