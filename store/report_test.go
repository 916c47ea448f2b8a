package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
)

func mustParseReport(tb testing.TB, body string) *hub.Report {
	tb.Helper()
	r, err := hub.ParseReport([]byte(body), time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func exampleReport(tb testing.TB) *hub.Report {
	tb.Helper()
	body, err := os.ReadFile("../testdata/controller-report.json")
	if err != nil {
		tb.Fatal(err)
	}
	return mustParseReport(tb, string(body))
}

func TestCreateReportMakesManualCustomer(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)

	res, err := db.CreateReport(ctx, exampleReport(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.NewCustomer || res.CustomerBlocked || res.ReportID == 0 {
		t.Errorf("result = %+v", res)
	}
	c, err := db.FindCustomerByID(ctx, "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if c.Managed {
		t.Error("a customer created by a report must be manual")
	}
	if c.Latest == nil || c.Latest.ReportID != res.ReportID || !c.Latest.ReceivedAt.Equal(epoch) {
		t.Fatalf("latest = %+v", c.Latest)
	}
	if c.Latest.DiskPercent != 91.2 || c.Latest.ContainersRunning != 4 || c.Latest.Health != "warn" {
		t.Errorf("denormalized columns wrong: %+v", c.Latest)
	}

	clock.Add(15 * time.Minute)
	second, err := db.CreateReport(ctx, mustParseReport(t, `{"customer_id":"kovacs-csalad","health":"ok","unknown":{"kept":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if second.NewCustomer {
		t.Error("second report created the customer again")
	}
	latest, err := db.FindLatestReport(ctx, "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if string(latest.Body) != `{"customer_id":"kovacs-csalad","health":"ok","unknown":{"kept":true}}` {
		t.Errorf("body not kept as received: %s", latest.Body)
	}
	if !latest.Summary.ReceivedAt.Equal(epoch.Add(15*time.Minute)) || latest.Summary.Health != "ok" {
		t.Errorf("latest summary = %+v", latest.Summary)
	}
}

func TestFindLatestReportUnknown(t *testing.T) {
	db := MustOpenDB(t, nil)
	if _, err := db.FindLatestReport(context.Background(), "nobody"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("err = %v, want ENOTFOUND", err)
	}
}

func TestFindHistory(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	for i := range 5 {
		body := `{"customer_id":"ab","system":{"cpu_percent":` + string(rune('0'+i)) + `}}`
		if _, err := db.CreateReport(ctx, mustParseReport(t, body)); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Hour)
	}
	if _, err := db.CreateReport(ctx, mustParseReport(t, `{"customer_id":"other"}`)); err != nil {
		t.Fatal(err)
	}
	raw := func(id string, since time.Time) ([]hub.MetricPoint, error) {
		return db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: id, Resolution: hub.ResolutionRaw, Since: since})
	}
	points, err := raw("ab", epoch.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 3 {
		t.Fatalf("got %d points, want 3", len(points))
	}
	for i, p := range points {
		if want := float64(i + 2); p.CPUAvg != want {
			t.Errorf("point %d cpu = %v, want %v", i, p.CPUAvg, want)
		}
	}
	none, err := raw("nobody", epoch)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("history of unknown customer = %v, %v; want empty, nil", none, err)
	}
}

func TestReportOfBlockedCustomerIsStored(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	cfg := newConfig("ab")
	if err := db.CreateCustomerConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCustomerBlocked(ctx, "ab", true); err != nil {
		t.Fatal(err)
	}
	res, err := db.CreateReport(ctx, mustParseReport(t, `{"customer_id":"ab"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !res.CustomerBlocked || res.NewCustomer {
		t.Errorf("result = %+v, want blocked and not new", res)
	}
	if _, err := db.FindLatestReport(ctx, "ab"); err != nil {
		t.Errorf("blocked customer's report not stored: %v", err)
	}
}

func BenchmarkCreateReport20KB(b *testing.B) {
	ctx := context.Background()
	db := MustOpenDB(b, nil)
	body := realisticReport(b, 20<<10)
	r := mustParseReport(b, string(body))
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.CreateReport(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
