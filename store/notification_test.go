package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

func TestNotificationPrefs(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))

	err := db.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: "nobody", Email: "a@example.hu"})
	if hub.ErrorCode(err) != hub.EINVALID {
		t.Fatalf("unknown customer: %v", err)
	}
	if _, err := db.FindNotificationPrefs(ctx, "kovacs"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("no prefs: %v", err)
	}
	MustReport(t, db, "kovacs")
	six := 6
	want := &hub.NotificationPrefs{CustomerID: "kovacs", Email: "anna@example.hu",
		EnabledEvents: []string{"backup_failed", "node_down"}, CooldownHours: &six}
	if err := db.SetNotificationPrefs(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindNotificationPrefs(ctx, "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != want.Email || fmt.Sprint(got.EnabledEvents) != fmt.Sprint(want.EnabledEvents) ||
		got.CooldownHours == nil || *got.CooldownHours != 6 || !got.UpdatedAt.Equal(epoch) {
		t.Fatalf("got %+v", got)
	}
	// Replacing clears what is not given.
	if err := db.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: "kovacs"}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindNotificationPrefs(ctx, "kovacs")
	if got.Email != "" || len(got.EnabledEvents) != 0 || got.EnabledEvents == nil || got.CooldownHours != nil {
		t.Fatalf("after replace %+v", got)
	}

	// A managed customer that never reported can be deleted with its
	// preferences.
	MustConfig(t, db, "pending", nil)
	if err := db.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: "pending", Email: "p@example.hu"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCustomerConfig(ctx, "pending"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindNotificationPrefs(ctx, "pending"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Fatalf("preferences of a deleted customer: %v", err)
	}
}

// queueMail plans one queued operator mail with the given key.
func queueMail(key string) hub.NotificationPlanner {
	return func(st *hub.NotificationState) ([]*hub.PlannedNotification, error) {
		return []*hub.PlannedNotification{{
			Channel: hub.ChannelOperator, EventType: "backup_failed", Recipient: "ops@felhom.eu", Status: hub.NotificationQueued,
			Email:    &hub.Email{IdempotencyKey: key, To: "ops@felhom.eu", Subject: "s " + key, Text: "t", HTML: "<p>h</p>"},
			Cooldown: &hub.CooldownKey{Channel: hub.ChannelOperator, Key: "backup_failed"},
		}, {
			Channel: hub.ChannelCustomer, EventType: "backup_failed", Status: hub.NotificationSkipped, Reason: hub.SkipNotEnabled,
		}}, nil
	}
}

func TestEnqueueNotificationsWithEvent(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "kovacs")
	e := MustEvent(t, db, "kovacs", "backup_failed", "error")

	var wakeups int
	db.NotificationsQueued = func() { wakeups++ }

	// A failing planner stores nothing and leaves the event queued.
	boom := errors.New("boom")
	if _, err := db.EnqueueNotifications(ctx, "kovacs", e.ID, func(*hub.NotificationState) ([]*hub.PlannedNotification, error) {
		return nil, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if undispatched, _ := db.FindUndispatchedEvents(ctx, 10); len(undispatched) != 1 {
		t.Fatalf("event left the queue after a failed dispatch")
	}
	if n, _ := db.FindNotifications(ctx, hub.NotificationFilter{}); len(n) != 0 {
		t.Fatalf("rows after a failed dispatch: %d", len(n))
	}

	// The planner sees the customer's state.
	var seen *hub.NotificationState
	plan := queueMail("k1")
	done, err := db.EnqueueNotifications(ctx, "kovacs", e.ID, func(st *hub.NotificationState) ([]*hub.PlannedNotification, error) {
		seen = st
		return plan(st)
	})
	if err != nil || !done {
		t.Fatalf("enqueue: %v %v", done, err)
	}
	if seen.Customer == nil || seen.Customer.ID != "kovacs" || seen.Prefs != nil || len(seen.LastSent) != 0 || !seen.Now.Equal(epoch) {
		t.Fatalf("state %+v", seen)
	}
	if wakeups != 1 {
		t.Fatalf("wakeups %d", wakeups)
	}
	if undispatched, _ := db.FindUndispatchedEvents(ctx, 10); len(undispatched) != 0 {
		t.Fatalf("event still queued")
	}
	// A second dispatch of the same event does nothing.
	done, err = db.EnqueueNotifications(ctx, "kovacs", e.ID, queueMail("k2"))
	if err != nil || done {
		t.Fatalf("second enqueue: %v %v", done, err)
	}
	rows, err := db.FindNotifications(ctx, hub.NotificationFilter{CustomerID: "kovacs"})
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %v %v", rows, err)
	}
	byChannel := map[string]*hub.Notification{}
	for _, r := range rows {
		byChannel[r.Channel] = r
	}
	if op := byChannel[hub.ChannelOperator]; op.Status != hub.NotificationQueued || op.EventID != e.ID ||
		op.Subject != "s k1" || op.Recipient != "ops@felhom.eu" || op.EventType != "backup_failed" {
		t.Fatalf("operator row %+v", op)
	}
	if cu := byChannel[hub.ChannelCustomer]; cu.Status != hub.NotificationSkipped || cu.Reason != hub.SkipNotEnabled {
		t.Fatalf("customer row %+v", cu)
	}
	// The cooldown is visible to the next decision.
	clock.Add(time.Minute)
	e2 := MustEvent(t, db, "kovacs", "backup_failed", "error")
	if _, err := db.EnqueueNotifications(ctx, "kovacs", e2.ID, func(st *hub.NotificationState) ([]*hub.PlannedNotification, error) {
		seen = st
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := seen.LastSent[hub.CooldownKey{Channel: hub.ChannelOperator, Key: "backup_failed"}]; !got.Equal(epoch) {
		t.Fatalf("last sent %v", got)
	}
	stats, err := db.FindOutboxStats(ctx)
	if err != nil || stats["kovacs"] != (hub.OutboxStats{Pending: 1}) {
		t.Fatalf("stats %v %v", stats, err)
	}
}

func TestOutboxLease(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "kovacs")
	for _, key := range []string{"a", "b"} {
		if _, err := db.EnqueueNotifications(ctx, "kovacs", 0, queueMail(key)); err != nil {
			t.Fatal(err)
		}
	}
	next, ok, err := db.NextOutboxDue(ctx)
	if err != nil || !ok || !next.Equal(epoch) {
		t.Fatalf("next due %v %v %v", next, ok, err)
	}

	claimA, err := db.ClaimOutbox(ctx, "A", 1, time.Minute)
	if err != nil || len(claimA) != 1 || claimA[0].IdempotencyKey != "a" || claimA[0].Attempts != 1 || claimA[0].Text != "t" {
		t.Fatalf("claim A %+v %v", claimA, err)
	}
	// B gets the other mail only; A's lease holds.
	claimB, err := db.ClaimOutbox(ctx, "B", 10, time.Minute)
	if err != nil || len(claimB) != 1 || claimB[0].IdempotencyKey != "b" {
		t.Fatalf("claim B %+v %v", claimB, err)
	}
	if more, _ := db.ClaimOutbox(ctx, "B", 10, time.Minute); len(more) != 0 {
		t.Fatalf("claimed a leased mail: %+v", more)
	}
	if err := db.CompleteOutbox(ctx, claimB[0].ID, "B"); err != nil {
		t.Fatal(err)
	}
	// A crashed; after its lease, B claims A's mail, counting a second attempt.
	next, ok, _ = db.NextOutboxDue(ctx)
	if !ok || !next.After(epoch.Add(time.Minute)) {
		t.Fatalf("next due %v %v", next, ok)
	}
	clock.Add(time.Minute + time.Millisecond)
	taken, err := db.ClaimOutbox(ctx, "B", 10, time.Minute)
	if err != nil || len(taken) != 1 || taken[0].ID != claimA[0].ID || taken[0].Attempts != 2 {
		t.Fatalf("claim after lease %+v %v", taken, err)
	}
	// A comes back: its lease is gone.
	if err := db.CompleteOutbox(ctx, claimA[0].ID, "A"); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Fatalf("complete with a lost lease: %v", err)
	}
	if err := db.RetryOutbox(ctx, taken[0].ID, "B", clock.Now().Add(time.Hour), "HTTP 503"); err != nil {
		t.Fatal(err)
	}
	if none, _ := db.ClaimOutbox(ctx, "B", 10, time.Minute); len(none) != 0 {
		t.Fatalf("claimed before its next attempt")
	}
	clock.Add(time.Hour)
	again, _ := db.ClaimOutbox(ctx, "B", 10, time.Minute)
	if len(again) != 1 || again[0].Attempts != 3 {
		t.Fatalf("retry claim %+v", again)
	}
	if err := db.FailOutbox(ctx, again[0].ID, "B", "HTTP 400 validation_error"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.NextOutboxDue(ctx); ok {
		t.Fatalf("a failed mail is due")
	}
	rows, _ := db.FindNotifications(ctx, hub.NotificationFilter{CustomerID: "kovacs", Status: hub.NotificationFailed})
	if len(rows) != 1 || rows[0].Error != "HTTP 400 validation_error" || rows[0].Attempts != 3 || rows[0].Subject != "s a" {
		t.Fatalf("failed rows %+v", rows)
	}
	sent, _ := db.FindNotifications(ctx, hub.NotificationFilter{Status: hub.NotificationSent})
	if len(sent) != 1 || sent[0].Subject != "s b" || sent[0].Attempts != 1 {
		t.Fatalf("sent rows %+v", sent)
	}
	stats, _ := db.FindOutboxStats(ctx)
	if stats["kovacs"] != (hub.OutboxStats{Failed: 1}) {
		t.Fatalf("stats %+v", stats)
	}
}

func TestPruneNotificationLog(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(epoch)
	db := MustOpenDB(t, clock)
	MustReport(t, db, "kovacs")
	// An old failed mail, an old mail still queued, a fresh one.
	for _, key := range []string{"failed", "queued"} {
		if _, err := db.EnqueueNotifications(ctx, "kovacs", 0, queueMail(key)); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := db.ClaimOutbox(ctx, "A", 1, time.Minute)
	if err := db.FailOutbox(ctx, m[0].ID, "A", "no"); err != nil {
		t.Fatal(err)
	}
	clock.Add(100 * 24 * time.Hour)
	if _, err := db.EnqueueNotifications(ctx, "kovacs", 0, queueMail("fresh")); err != nil {
		t.Fatal(err)
	}
	results, err := db.Prune(ctx, clock.Now().Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]int64{}
	for _, r := range results {
		deleted[r.Step] = r.Deleted
	}
	// Two skipped rows and the failed one go; the queued one stays.
	if deleted["notification_log"] != 3 {
		t.Fatalf("deleted %v", deleted)
	}
	rows, _ := db.FindNotifications(ctx, hub.NotificationFilter{})
	if len(rows) != 3 {
		t.Fatalf("rows left %d", len(rows))
	}
	stats, _ := db.FindOutboxStats(ctx)
	if stats["kovacs"] != (hub.OutboxStats{Pending: 2}) {
		t.Fatalf("outbox after prune %+v", stats)
	}
}

// TestOutboxConcurrentClaims runs senders in parallel over one database:
// every mail is claimed exactly once.
func TestOutboxConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	MustReport(t, db, "kovacs")
	const mails = 40
	for i := range mails {
		if _, err := db.EnqueueNotifications(ctx, "kovacs", 0, queueMail(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	claimed := make(chan string, mails*2)
	errs := make(chan error, 4)
	for w := range 4 {
		go func(owner string) {
			for {
				ms, err := db.ClaimOutbox(ctx, owner, 3, time.Minute)
				if err != nil || len(ms) == 0 {
					errs <- err
					return
				}
				for _, m := range ms {
					claimed <- m.IdempotencyKey
					if err := db.CompleteOutbox(ctx, m.ID, owner); err != nil {
						errs <- err
						return
					}
				}
			}
		}(fmt.Sprint("w", w))
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(claimed)
	seen := map[string]int{}
	for k := range claimed {
		seen[k]++
	}
	if len(seen) != mails {
		t.Fatalf("claimed %d distinct mails, want %d", len(seen), mails)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("mail %s claimed %d times", k, n)
		}
	}
}

var _ hub.NotificationQueue = (*store.DB)(nil)
