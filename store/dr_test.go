package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

// countEvents counts a customer's events of one type.
func countEvents(tb testing.TB, db *store.DB, customerID, typ string) int {
	tb.Helper()
	events, err := db.FindEvents(context.Background(), hub.EventFilter{CustomerID: customerID})
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func readiness(id, grade string, at time.Time, codes ...string) *hub.DRReadiness {
	bundleAt := at.Add(-time.Hour)
	r := &hub.DRReadiness{CustomerID: id, Grade: grade, CheckedAt: at, BundleAt: &bundleAt, Reasons: []hub.DRReason{}}
	for _, c := range codes {
		r.Reasons = append(r.Reasons, hub.DRReason{Code: c, Message: c})
	}
	return r
}

// Each grade change is stored with its event once: saving the same grade
// again, on this handle or on a fresh one (a restart), raises nothing.
func TestDRReadinessEventsOncePerChange(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs-csalad", nil)
	save := func(db *store.DB, r *hub.DRReadiness) *hub.Event {
		t.Helper()
		ev, err := db.SaveDRReadiness(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := save(db, readiness("kovacs-csalad", hub.DRReady, clock.Now())); ev != nil {
		t.Errorf("first check ready raised %s", ev.Type)
	}
	steps := []struct {
		grade string
		codes []string
		want  string
	}{
		{hub.DRAtRisk, []string{hub.DRBundleStale}, hub.EventDRBundleStale},
		{hub.DRAtRisk, []string{hub.DRBundleStale}, ""},
		{hub.DRNotRecoverable, []string{hub.DRBundleStale, hub.DRResticPrimaryMissing}, hub.EventDRBundleIncomplete},
		{hub.DRAtRisk, []string{hub.DRDiskNotOnNode}, ""}, // better, not ready: nothing
		{hub.DRReady, nil, hub.EventDRReady},
		{hub.DRAtRisk, []string{hub.DRAppNotInBundle}, hub.EventDRBundleDrift},
	}
	for i, st := range steps {
		clock.Add(time.Hour)
		ev := save(db, readiness("kovacs-csalad", st.grade, clock.Now(), st.codes...))
		got := ""
		if ev != nil {
			got = ev.Type
		}
		if got != st.want {
			t.Errorf("step %d (%s): event %q, want %q", i, st.grade, got, st.want)
		}
	}
	// A restart: a new handle on the same database still knows the grade.
	again := db
	if !onPostgres() {
		db.Close()
		again = store.NewDB(db.Path)
		again.Now = clock.Now
		if err := again.Open(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { again.Close() })
	}
	clock.Add(time.Hour)
	if ev := save(again, readiness("kovacs-csalad", hub.DRAtRisk, clock.Now(), hub.DRAppNotInBundle)); ev != nil {
		t.Errorf("the same grade after a restart raised %s", ev.Type)
	}
	for typ, want := range map[string]int{hub.EventDRBundleStale: 1, hub.EventDRBundleIncomplete: 1,
		hub.EventDRBundleDrift: 1, hub.EventDRReady: 1} {
		if got := countEvents(t, again, "kovacs-csalad", typ); got != want {
			t.Errorf("%s stored %d times, want %d", typ, got, want)
		}
	}
	got, err := again.FindDRReadiness(ctx, "kovacs-csalad")
	if err != nil || got.Grade != hub.DRAtRisk || len(got.Reasons) != 1 || got.Reasons[0].Code != hub.DRAppNotInBundle {
		t.Errorf("stored readiness %+v, %v", got, err)
	}
	all, err := again.FindDRReadinesses(ctx)
	if err != nil || len(all) != 1 {
		t.Errorf("FindDRReadinesses: %d, %v", len(all), err)
	}
}

// Two replicas judging the same change at once store it, and its event,
// once.
func TestDRReadinessConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs-csalad", nil)
	const n = 8
	var wg sync.WaitGroup
	events := make(chan *hub.Event, n)
	for range n {
		wg.Go(func() {
			ev, err := db.SaveDRReadiness(ctx, readiness("kovacs-csalad", hub.DRNotRecoverable, clock.Now(), hub.DRResticPrimaryMissing))
			if err != nil {
				t.Error(err)
			}
			events <- ev
		})
	}
	wg.Wait()
	close(events)
	raised := 0
	for ev := range events {
		if ev != nil {
			raised++
		}
	}
	if raised != 1 || countEvents(t, db, "kovacs-csalad", hub.EventDRBundleIncomplete) != 1 {
		t.Errorf("%d saves raised %d events (%d stored), want 1", n, raised, countEvents(t, db, "kovacs-csalad", hub.EventDRBundleIncomplete))
	}
}

// A link is consumed by exactly one of many concurrent requests; then it
// is used, and an expired link is expired.
func TestRecoveryLinkConsumedOnce(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs-csalad", nil)
	link, token, err := hub.NewRecoveryLink("kovacs-csalad", "reinstall", "operator", time.Hour, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRecoveryLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	const n = 16
	outcomes := make(chan string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			res, err := db.ConsumeRecoveryLink(ctx, "kovacs-csalad", hub.HashSecret(token))
			if err != nil {
				t.Error(err)
				return
			}
			outcomes <- res.Outcome
		})
	}
	close(start)
	wg.Wait()
	close(outcomes)
	counts := map[string]int{}
	for o := range outcomes {
		counts[o]++
	}
	if counts[hub.RetrievalOK] != 1 || counts[hub.RetrievalUsed] != n-1 {
		t.Errorf("outcomes of %d racing consumers: %v, want one ok and the rest used", n, counts)
	}
	// Another customer's path with the right token is no link at all.
	if res, _ := db.ConsumeRecoveryLink(ctx, "szabo-kft", hub.HashSecret(token)); res.Outcome != hub.RetrievalDenied {
		t.Errorf("token under another customer: %s", res.Outcome)
	}
	expiring, token2, _ := hub.NewRecoveryLink("kovacs-csalad", "later", "operator", time.Hour, clock.Now())
	if err := db.CreateRecoveryLink(ctx, expiring); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	if res, _ := db.ConsumeRecoveryLink(ctx, "kovacs-csalad", hub.HashSecret(token2)); res.Outcome != hub.RetrievalExpired {
		t.Errorf("a link at its expiry: %s, want expired", res.Outcome)
	}
	// Retrieval rows read back newest first.
	for _, outcome := range []string{hub.RetrievalDenied, hub.RetrievalOK} {
		if err := db.CreateRetrieval(ctx, &hub.Retrieval{CustomerID: "kovacs-csalad", Resource: hub.RetrievalRecovery,
			Via: hub.RetrievalByLink, Outcome: outcome, Client: "203.0.113.9", Detail: "reason: reinstall"}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.FindRetrievals(ctx, "kovacs-csalad", 10)
	if err != nil || len(rows) != 2 || rows[0].Outcome != hub.RetrievalOK || rows[1].Client != "203.0.113.9" {
		t.Errorf("retrievals %+v, %v", rows, err)
	}
}
