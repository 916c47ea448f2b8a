package store_test

import (
	"context"
	"fmt"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/store"
)

// MustReport stores a minimal report of a customer and returns its result.
func MustReport(tb testing.TB, db *store.DB, customerID string) *hub.ReportResult {
	tb.Helper()
	return MustReportBody(tb, db, fmt.Sprintf(`{"customer_id":%q,"health":"ok"}`, customerID))
}

// MustReportBody stores a report body.
func MustReportBody(tb testing.TB, db *store.DB, body string) *hub.ReportResult {
	tb.Helper()
	r, err := hub.ParseReport([]byte(body))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := db.CreateReport(context.Background(), r)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// MustConfig creates a managed customer; edit may change the config first.
func MustConfig(tb testing.TB, db *store.DB, id string, edit func(*hub.CustomerConfig)) *hub.CustomerConfig {
	tb.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
	if edit != nil {
		edit(cfg)
	}
	cfg.MintCredentials()
	if err := db.CreateCustomerConfig(context.Background(), cfg); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// MustEvent stores a posted event.
func MustEvent(tb testing.TB, db *store.DB, customerID, typ, severity string) *hub.Event {
	tb.Helper()
	e := &hub.Event{CustomerID: customerID, Type: typ, Severity: severity, Source: hub.SourceController, Message: typ}
	if err := db.CreateEvent(context.Background(), e); err != nil {
		tb.Fatal(err)
	}
	return e
}

// nodeWatch returns the node's watch as the checker reads it, failing when
// the node has no deadline.
func nodeWatch(tb testing.TB, db *store.DB, id string, clock *Clock) hub.Watch {
	tb.Helper()
	ws, err := db.FindDueWatches(context.Background(), hub.WatchNode, clock.Now().AddDate(100, 0, 0), 1000000)
	if err != nil {
		tb.Fatal(err)
	}
	for _, w := range ws {
		if w.ID == id {
			return w
		}
	}
	tb.Fatalf("node %s has no deadline", id)
	return hub.Watch{}
}
