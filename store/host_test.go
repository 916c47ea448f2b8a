package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

// rawConn opens a second connection to the database, for setting the
// columns no store method writes.
func rawConn(t *testing.T, db *store.DB) *sql.DB {
	t.Helper()
	return store.OpenRaw(t, db)
}

func mustExec(t *testing.T, conn *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// hostFixture is the example host report, for host kovacs-csalad-3fa2c1.
func hostFixture(t *testing.T) *hub.HostReport {
	t.Helper()
	body, err := os.ReadFile("../api/testdata/host-report.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := hub.ParseHostReport(body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustHost(t *testing.T, db *store.DB, id, customerID, key string) {
	t.Helper()
	if err := db.UpsertHost(context.Background(), &hub.Host{ID: id, CustomerID: customerID}, key); err != nil {
		t.Fatal(err)
	}
}

func TestUpsertHostAndLookup(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs-csalad", nil)
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "host-key-1")

	h, err := db.FindHostByAPIKey(ctx, "host-key-1")
	if err != nil || h.ID != "kovacs-csalad-3fa2c1" || h.CustomerID != "kovacs-csalad" || h.MonitorState != hub.StateUnknown {
		t.Fatalf("by key: %+v, %v", h, err)
	}
	for _, key := range []string{"host-key-2", ""} {
		if _, err := db.FindHostByAPIKey(ctx, key); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
			t.Fatalf("key %q: err %v, want unauthorized", key, err)
		}
	}
	if _, err := db.FindHostByID(ctx, "nope"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("unknown host: %v", err)
	}
	// An upsert without a key keeps the key; one with a key replaces it.
	clock.Add(time.Minute)
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "")
	if _, err := db.FindHostByAPIKey(ctx, "host-key-1"); err != nil {
		t.Fatalf("key lost by an upsert without one: %v", err)
	}
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "host-key-2")
	if _, err := db.FindHostByAPIKey(ctx, "host-key-1"); hub.ErrorCode(err) != hub.EUNAUTHORIZED {
		t.Fatalf("old key still valid: %v", err)
	}
	h, err = db.FindHostByID(ctx, "kovacs-csalad-3fa2c1")
	if err != nil || !h.UpdatedAt.Equal(clock.Now()) || !h.CreatedAt.Equal(epoch) {
		t.Fatalf("host %+v, %v", h, err)
	}
	if got := hub.GuestID("kovacs-csalad-3fa2c1", 101); got != "kovacs-csalad-3fa2c1/101" {
		t.Fatalf("GuestID = %q", got)
	}
}

// TestHostReservedColumns: neither identity upserts nor the report path
// touch the columns reserved for desired state.
func TestHostReservedColumns(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	conn := rawConn(t, db)
	MustConfig(t, db, "kovacs-csalad", nil)
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "k")
	mustExec(t, conn, `UPDATE hosts SET desired_json = '{"want":1}', desired_generation = 7, dr_record_json = '{"dr":true}'`)

	r := hostFixture(t)
	res, err := db.CreateHostReport(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.CustomerID != "kovacs-csalad" || res.CustomerBlocked {
		t.Fatalf("result %+v", res)
	}
	for _, g := range r.Guests {
		if err := db.UpsertGuestFromReport(ctx, r.HostID, g); err != nil {
			t.Fatal(err)
		}
	}
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "")
	mustExec(t, conn, `UPDATE guests SET api_key = 'reserved-key', desired_spec_json = '{"cores":8}' WHERE vmid = 101`)

	// The next report changes what the guest is.
	clock.Add(15 * time.Minute)
	r.Guests[0].Status = "stopped"
	r.Guests[0].Name = "renamed"
	if _, err := db.CreateHostReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := db.UpsertGuestFromReport(ctx, r.HostID, r.Guests[0]); err != nil {
		t.Fatal(err)
	}

	var desired, dr string
	var gen int64
	if err := conn.QueryRow(`SELECT desired_json, desired_generation, dr_record_json FROM hosts`).Scan(&desired, &gen, &dr); err != nil {
		t.Fatal(err)
	}
	if desired != `{"want":1}` || gen != 7 || dr != `{"dr":true}` {
		t.Fatalf("reserved host columns changed: %q %d %q", desired, gen, dr)
	}
	var apiKey, spec, name, status string
	if err := conn.QueryRow(`SELECT api_key, desired_spec_json, display_name, status FROM guests WHERE id = 'kovacs-csalad-3fa2c1/101'`).
		Scan(&apiKey, &spec, &name, &status); err != nil {
		t.Fatal(err)
	}
	if apiKey != "reserved-key" || spec != `{"cores":8}` {
		t.Fatalf("reserved guest columns changed: %q %q", apiKey, spec)
	}
	if name != "renamed" || status != "stopped" {
		t.Fatalf("reality not updated: %q %q", name, status)
	}

	hosts, err := db.FindHosts(ctx, "kovacs-csalad")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || len(hosts[0].Guests) != 2 || hosts[0].Latest == nil {
		t.Fatalf("hosts %+v", hosts)
	}
	h := hosts[0]
	if h.Hostname != "pve-kovacs" || h.AgentVersion != "0.2.0" || h.PVEVersion != "8.2.7" || h.MonitorState != hub.StateUp {
		t.Fatalf("host reality %+v", h)
	}
	want := hub.HostReportSummary{ReportID: h.Latest.ReportID, ReceivedAt: clock.Now(), ReportedAt: h.Latest.ReportedAt,
		AgentVersion: "0.2.0", Hostname: "pve-kovacs", CPUPercent: 11.3, MemPercent: 56.3, DiskPercent: 30,
		GuestTotal: 2, GuestRunning: 0, CloudflaredStatus: "running"}
	if got := *h.Latest; !reflect.DeepEqual(got, want) {
		t.Fatalf("latest %+v\nwant   %+v", got, want)
	}
	var spec101 map[string]any
	if err := json.Unmarshal(h.Guests[0].Spec, &spec101); err != nil || spec101["cores"] != 4.0 {
		t.Fatalf("guest spec %s", h.Guests[0].Spec)
	}
}

func TestCreateHostReportUnknownHost(t *testing.T) {
	db := MustOpenDB(t, clocktest.New(epoch))
	_, err := db.CreateHostReport(context.Background(), hostFixture(t))
	if hub.ErrorCode(err) != hub.EINVALID {
		t.Fatalf("err %v, want invalid", err)
	}
}

func TestHostWatches(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs-csalad", nil)
	mustHost(t, db, "never-reported", "kovacs-csalad", "k1")
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "k2")
	if _, err := db.CreateHostReport(ctx, hostFixture(t)); err != nil {
		t.Fatal(err)
	}
	due, err := db.FindDueWatches(ctx, hub.WatchHost, clock.Now().AddDate(1, 0, 0), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].ID != "kovacs-csalad-3fa2c1" || due[0].CustomerID != "kovacs-csalad" ||
		due[0].Name != "kovacs-csalad-3fa2c1 (pve-kovacs)" || !due[0].NextDeadline.Equal(epoch.Add(30*time.Minute)) {
		t.Fatalf("due %+v, want only the reporting host", due)
	}
}

func TestPruneHostReports(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs-csalad", nil)
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "k")
	for range 3 {
		if _, err := db.CreateHostReport(ctx, hostFixture(t)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(91 * 24 * time.Hour)
	results, err := db.Prune(ctx, clock.Now().Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Step == "host_reports" && r.Deleted != 2 {
			t.Fatalf("deleted %d host reports, want 2 (all but the latest)", r.Deleted)
		}
	}
	hosts, err := db.FindHosts(ctx, "kovacs-csalad")
	if err != nil || hosts[0].Latest == nil {
		t.Fatalf("latest host report pruned: %+v %v", hosts, err)
	}
}

func TestDeleteCustomerConfigKeepsCustomerWithHosts(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	MustConfig(t, db, "kovacs-csalad", nil)
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "k")
	if err := db.DeleteCustomerConfig(ctx, "kovacs-csalad"); err != nil {
		t.Fatal(err)
	}
}
