package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/store"
)

func TestConcurrentReportsAllStored(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := fmt.Sprintf(`{"customer_id":"node-%02d","system":{"cpu_percent":%d}}`, w, i)
				r, err := hub.ParseReport([]byte(body), time.Now())
				if err != nil {
					errs <- err
					return
				}
				if _, err := db.CreateReport(ctx, r); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	customers, err := db.FindCustomers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(customers) != writers {
		t.Fatalf("%d customers, want %d", len(customers), writers)
	}
	for _, c := range customers {
		h, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: c.ID, Resolution: hub.ResolutionRaw, Since: epoch.AddDate(-1, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != each {
			t.Errorf("%s has %d reports, want %d", c.ID, len(h), each)
		}
		if c.Latest == nil || c.Latest.ReportID != h[len(h)-1].ReportID {
			t.Errorf("%s: latest is not the last report stored", c.ID)
		}
	}
}

func TestCancelledReportIsNotStored(t *testing.T) {
	db := MustOpenDB(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.CreateReport(ctx, mustParseReport(t, `{"customer_id":"ab"}`)); err == nil {
		t.Fatal("a report with a cancelled context was accepted")
	}
	if _, err := db.FindCustomerByID(context.Background(), "ab"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("cancelled report created the customer: %v", err)
	}
}

func TestReportAfterCloseIsRefused(t *testing.T) {
	db := MustOpenDB(t, nil)
	db.Close()
	_, err := db.CreateReport(context.Background(), mustParseReport(t, `{"customer_id":"ab"}`))
	if hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Fatalf("err = %v, want EUNAVAILABLE", err)
	}
}

func TestBodiesCompressedAndLegacyReadable(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	body := realisticReport(t, 20<<10)
	r := mustParseReport(t, string(body))
	res, err := db.CreateReport(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	raw := store.OpenRaw(t, db)
	var stored []byte
	if err := raw.QueryRow(`SELECT body FROM report_bodies WHERE report_id = $1`, res.ReportID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored)*5 > len(body) {
		t.Errorf("stored %d bytes for a %d-byte report: not compressed", len(stored), len(body))
	}
	got, err := db.FindLatestReport(ctx, "bench-customer")
	if err != nil || string(got.Body) != string(body) {
		t.Fatalf("body does not round-trip: %v", err)
	}
	// A body stored before compression (plain JSON, inline) still reads back.
	if _, err := raw.Exec(`DELETE FROM report_bodies WHERE report_id = $1`, res.ReportID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE reports SET body = $1 WHERE id = $2`, body, res.ReportID); err != nil {
		t.Fatal(err)
	}
	got, err = db.FindLatestReport(ctx, "bench-customer")
	if err != nil || string(got.Body) != string(body) {
		t.Fatalf("legacy body: %v", err)
	}
}
