package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

// fleetMatches fails unless db's fleet listing is what FindCustomers reads
// (customers, their JSON, their order) and its event counts are want's.
func fleetMatches(t *testing.T, step string, db *store.DB, truth *store.DB, since time.Time, want map[string]hub.EventCounts) *hub.Fleet {
	t.Helper()
	ctx := context.Background()
	fl, err := db.ListFleet(ctx)
	if err != nil {
		t.Fatalf("%s: list fleet: %v", step, err)
	}
	customers, err := truth.FindCustomers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []*hub.Customer
	for _, r := range fl.Rows {
		got = append(got, r.Customer)
		if b, _ := json.Marshal(r.Customer); string(b) != string(r.JSON) {
			t.Errorf("%s: %s: stored JSON %s, customer encodes as %s", step, r.Customer.ID, r.JSON, b)
		}
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(customers)
	if len(customers) == 0 {
		wj = []byte("null")
	}
	if string(gj) != string(wj) {
		t.Errorf("%s: listing\n%s\nwant\n%s", step, gj, wj)
	}
	counts := map[string]hub.EventCounts{}
	for _, r := range fl.Rows {
		if c := r.EventCounts(since); c != (hub.EventCounts{}) {
			counts[r.Customer.ID] = c
		}
	}
	if !fl.CanCount(since) {
		t.Errorf("%s: the listing cannot count since %s (it begins %s)", step, since, fl.EventsSince)
	}
	cj, _ := json.Marshal(counts)
	wcj, _ := json.Marshal(want)
	if string(cj) != string(wcj) {
		t.Errorf("%s: event counts %s, want %s", step, cj, wcj)
	}
	db2, err := db.CountRecentEvents(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(db2); string(b) != string(wcj) {
		t.Errorf("%s: CountRecentEvents %s, want %s", step, b, wcj)
	}
	return fl
}

// fleetSteps changes the fleet through writer step by step and checks after
// each that check passes.
func fleetSteps(t *testing.T, writer *store.DB, clock *clocktest.Clock, check func(step string, want map[string]hub.EventCounts)) {
	ctx := context.Background()
	want := map[string]hub.EventCounts{}
	check("empty", want)

	MustReport(t, writer, "manual-node")
	check("a first report creates a manual customer", want)

	MustConfig(t, writer, "managed-node", func(c *hub.CustomerConfig) { c.DisplayName = "Kovács" })
	check("a config creates a pending customer", want)

	clock.Add(time.Minute)
	MustReportBody(t, writer, `{"customer_id":"managed-node","health":"warn","controller_version":"v1.2.0","system":{"cpu_percent":12.5}}`)
	check("a report changes the latest", want)

	if _, err := writer.UpdateCustomerConfig(ctx, "managed-node", func(c *hub.CustomerConfig) error {
		c.DisplayName, c.MonitoringPaused = "Kovács <Kft.> & társa", true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("an edited config (name, paused)", want)

	if err := writer.SetCustomerBlocked(ctx, "managed-node", true); err != nil {
		t.Fatal(err)
	}
	check("blocked", want)

	MustEvent(t, writer, "manual-node", "disk_space_warning", hub.SeverityWarning)
	MustEvent(t, writer, "manual-node", "backup_failed", hub.SeverityError)
	MustEvent(t, writer, "managed-node", "container_restarted", hub.SeverityInfo)
	want["manual-node"] = hub.EventCounts{Errors: 1, Warnings: 1}
	check("events", want)

	if err := writer.RotateCustomerKey(ctx, "managed-node", hub.RandomHex(32), time.Hour); err != nil {
		t.Fatal(err)
	}
	check("a rotated key", want)

	MustConfig(t, writer, "never-node", nil)
	check("another config", want)
	if err := writer.DeleteCustomerConfig(ctx, "never-node"); err != nil {
		t.Fatal(err)
	}
	check("a customer that never reported deleted", want)
	if err := writer.DeleteCustomerConfig(ctx, "managed-node"); err != nil {
		t.Fatal(err)
	}
	check("a config deleted, the customer stays manual", want)

	// A day later the events fall out of the window.
	clock.Add(24*time.Hour + time.Minute)
	delete(want, "manual-node")
	check("a day later", want)
	MustEvent(t, writer, "managed-node", "backup_failed", hub.SeverityError)
	want["managed-node"] = hub.EventCounts{Errors: 1}
	check("a new event", want)
}

// The listing follows the hub's own writes at once: after every change it
// is what FindCustomers and the events table say.
func TestFleetViewFollowsOwnWrites(t *testing.T) {
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	fleetSteps(t, db, clock, func(step string, want map[string]hub.EventCounts) {
		t.Helper()
		fleetMatches(t, step, db, db, clock.Now().Add(-24*time.Hour), want)
	})
}

// Another replica's writes show within FleetFollow, with nothing else
// telling this replica of them.
func TestFleetViewFollowsAnotherReplica(t *testing.T) {
	clock := clocktest.New(epoch)
	wall := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	store.SetFleetWall(db, wall.Now)
	other := store.OpenReplica(t, db)
	ctx := context.Background()
	if _, err := db.ListFleet(ctx); err != nil { // the view is loaded
		t.Fatal(err)
	}
	fleetSteps(t, other, clock, func(step string, want map[string]hub.EventCounts) {
		t.Helper()
		wall.Add(store.FleetFollow)
		fleetMatches(t, step, db, other, clock.Now().Add(-24*time.Hour), want)
	})
	// Until FleetFollow has passed the listing may be the one it had.
	MustReport(t, other, "late-node")
	fl, err := db.ListFleet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range fl.Rows {
		if r.Customer.ID == "late-node" {
			t.Log("seen before FleetFollow passed (allowed)")
		}
	}
	wall.Add(store.FleetFollow)
	fl, err = db.ListFleet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first := fl.Rows[0].Customer.ID; first != "late-node" {
		t.Errorf("after FleetFollow the first row is %s, want late-node", first)
	}
}

// A listing handed out is never changed by a later refresh.
func TestFleetViewListingIsStable(t *testing.T) {
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "a-node")
	MustEvent(t, db, "a-node", "backup_failed", hub.SeverityError)
	ctx := context.Background()
	before, err := db.ListFleet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snapshot, _ := json.Marshal(before)
	MustReportBody(t, db, `{"customer_id":"a-node","health":"fail"}`)
	MustEvent(t, db, "a-node", "backup_failed", hub.SeverityError)
	MustReport(t, db, "b-node")
	after, err := db.ListFleet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(before); string(again) != string(snapshot) {
		t.Error("a refresh changed a listing already handed out")
	}
	if len(after.Rows) != 2 || after.Rows[0].Customer.Latest.Health != hub.HealthFail || after.Rows[0].EventCounts(epoch.Add(-time.Hour)).Errors != 2 {
		t.Errorf("the new listing misses the changes: %+v", after.Rows)
	}
}

// A host going down, and coming back with a report, changes its customer's
// fleet row ("host down") in a listing already loaded.
func TestFleetViewFollowsHostState(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs-csalad", nil)
	mustHost(t, db, "kovacs-csalad-3fa2c1", "kovacs-csalad", "k")
	hostsDown := func(step string, want int) {
		t.Helper()
		fl, err := db.ListFleet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range fl.Rows {
			if r.Customer.ID == "kovacs-csalad" {
				if r.Customer.HostsDown != want {
					t.Errorf("%s: hosts down %d, want %d", step, r.Customer.HostsDown, want)
				}
				return
			}
		}
		t.Fatalf("%s: no fleet row for kovacs-csalad", step)
	}
	if _, err := db.CreateHostReport(ctx, hostFixture(t)); err != nil {
		t.Fatal(err)
	}
	hostsDown("the host reports", 0)
	for range 3 { // up → stale → down
		clock.Add(2 * time.Hour)
		watches, err := db.FindDueWatches(ctx, hub.WatchHost, clock.Now(), 10)
		if err != nil {
			t.Fatal(err)
		}
		var updates []hub.WatchUpdate
		for _, w := range watches {
			if u, ok := w.Evaluate(clock.Now()); ok {
				updates = append(updates, u)
			}
		}
		if _, err := db.ApplyWatchUpdates(ctx, updates); err != nil {
			t.Fatal(err)
		}
	}
	hostsDown("the host is silent for hours", 1)
	clock.Add(time.Minute)
	if _, err := db.CreateHostReport(ctx, hostFixture(t)); err != nil {
		t.Fatal(err)
	}
	hostsDown("the host reports again", 0)
}
