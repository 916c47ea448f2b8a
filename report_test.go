package hub_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	hub "github.com/felhom/hub"
)

// testNow is the receipt time of the parser tests.
var testNow = time.Date(2026, 11, 22, 9, 46, 0, 0, time.UTC)

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
	r, err := hub.ParseReport(body, testNow)
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
		HasCPU:           true, HasMem: true, HasDisk: true,
		CheckProblems: []hub.CheckProblem{{Name: "disk_space", Status: "warn", Note: "91 %"},
			{Name: "containers", Status: "warn"}},
	}
	if s.ReportedAt == nil || !s.ReportedAt.Equal(time.Date(2026, 11, 22, 9, 45, 3, 0, time.UTC)) {
		t.Errorf("ReportedAt = %v", s.ReportedAt)
	}
	if s.LastBackupAt == nil || !s.LastBackupAt.Equal(time.Date(2026, 11, 22, 2, 14, 51, 0, time.UTC)) {
		t.Errorf("LastBackupAt = %v", s.LastBackupAt)
	}
	s.ReportedAt, s.LastBackupAt = nil, nil
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Summarize() =\n%+v\nwant\n%+v", s, want)
	}
}

func TestParseReportMinimal(t *testing.T) {
	r, err := hub.ParseReport([]byte(`{"customer_id":"ab"}`), testNow)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summarize(time.Now())
	if !s.MonitoringEnabled {
		t.Error("monitoring_enabled must default to true when absent")
	}
	r, err = hub.ParseReport([]byte(`{"customer_id":"ab","monitoring_enabled":false,"storage":[{"total_bytes":0,"used_bytes":5}]}`), testNow)
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
		{`{"customer_id":42}`, "customer_id must be a string"},
		{`{"Customer_ID":"AB"}`, "customer_id must be"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			_, err := hub.ParseReport([]byte(tt.body), testNow)
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
		r, err := hub.ParseReport(body, testNow)
		if err != nil {
			if code := hub.ErrorCode(err); code != hub.EINVALID {
				t.Fatalf("error code %s for %q", code, body)
			}
			return
		}
		if hub.ValidateCustomerID(r.CustomerID) != nil {
			t.Fatalf("accepted invalid customer id %q", r.CustomerID)
		}
		s := r.Summarize(testNow)
		for _, v := range []float64{s.CPUPercent, s.MemPercent, s.DiskPercent} {
			if !(v >= 0 && v <= 100) {
				t.Fatalf("percentage %v out of 0..100 in %+v", v, s)
			}
		}
		if s.ContainersRunning > s.ContainersTotal {
			t.Fatalf("impossible summary %+v", s)
		}
		if !utf8.Valid(r.Raw) || !json.Valid(r.Raw) {
			t.Fatalf("stored body is not valid UTF-8 JSON: %q", r.Raw)
		}
		if len(r.Problems) > hub.MaxFieldProblems {
			t.Fatalf("%d problems, more than %d", len(r.Problems), hub.MaxFieldProblems)
		}
	})
}
