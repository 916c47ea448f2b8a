package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/notify"
	"github.com/felhom/hub/store"
)

// alertHub is the path of an alert end to end on a real store with an
// injected clock: the staleness checker, the dispatcher and the follow-up
// pass, each run by step.
type alertHub struct {
	t       *testing.T
	clock   *clocktest.Clock
	db      *store.DB
	checker *monitor.StalenessChecker
	disp    *notify.Dispatcher
	alerter *notify.Alerter
}

func newAlertHub(t *testing.T, followUps notify.FollowUpPolicy) *alertHub {
	t.Helper()
	clock := clocktest.New(epoch)
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.Now = clock.Now
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logger := slog.New(slog.DiscardHandler)
	disp, err := notify.NewDispatcher(db, notify.Policy{
		OperatorEnabled: true, OperatorEmail: "ops@felhom.eu", OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour, EscalationEmail: "oncall@felhom.eu",
	}, mustTemplates(t), "")
	if err != nil {
		t.Fatal(err)
	}
	checker := monitor.NewStalenessChecker(db, db, logger)
	checker.Now = clock.Now
	h := &alertHub{t: t, clock: clock, db: db, checker: checker, disp: disp,
		alerter: &notify.Alerter{Store: db, Policy: followUps, Now: clock.Now, Logger: logger}}
	h.report("kovacs")
	if err := db.SetNotificationPrefs(context.Background(), &hub.NotificationPrefs{CustomerID: "kovacs", Email: "anna@example.hu",
		EnabledEvents: []string{"node_stale", "node_down", "node_recovered"}}); err != nil {
		t.Fatal(err)
	}
	h.step()
	return h
}

func (h *alertHub) report(id string) {
	h.t.Helper()
	r, err := hub.ParseReport(fmt.Appendf(nil, `{"customer_id":%q,"health":"ok"}`, id), h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.db.CreateReport(context.Background(), r); err != nil {
		h.t.Fatal(err)
	}
	h.dispatch()
}

// dispatch hands every queued event to the dispatcher.
func (h *alertHub) dispatch() {
	h.t.Helper()
	ctx := context.Background()
	events, err := h.db.FindUndispatchedEvents(ctx, 100)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, e := range events {
		if err := h.disp.DispatchEvent(ctx, e); err != nil {
			h.t.Fatal(err)
		}
	}
}

// step runs the checker, dispatch, the follow-up pass and dispatch again.
func (h *alertHub) step() {
	h.t.Helper()
	if _, err := h.checker.RunOnce(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.dispatch()
	if _, err := h.alerter.RunOnce(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.dispatch()
}

// advance moves the clock in one-minute passes, as the loops run.
func (h *alertHub) advance(d time.Duration) {
	h.t.Helper()
	for end := h.clock.Now().Add(d); h.clock.Now().Before(end); {
		h.clock.Add(time.Minute)
		h.step()
	}
}

// mails returns the mails queued so far, oldest first, as
// "channel event_type recipient".
func (h *alertHub) mails() []string {
	h.t.Helper()
	rows, err := h.db.FindNotifications(context.Background(), hub.NotificationFilter{Status: hub.NotificationQueued})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, n := range slices.Backward(rows) {
		out = append(out, n.Channel+" "+n.EventType+" "+n.Recipient)
	}
	return out
}

func (h *alertHub) silence(s *hub.Silence) {
	h.t.Helper()
	if err := s.Validate(h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
	s.Author = "test"
	if err := h.db.CreateSilence(context.Background(), s); err != nil {
		h.t.Fatal(err)
	}
}

func wantMails(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("mails:\n  %q\nwant\n  %q", got, want)
	}
}

var noFollowUps = notify.FollowUpPolicy{EscalateAfter: 2 * time.Hour}

// A maintenance window ends while the node is still down: its stale and
// down alerts were muted, and the operator gets exactly one mail.
func TestMaintenanceEndsWhileDown(t *testing.T) {
	h := newAlertHub(t, notify.FollowUpPolicy{ReminderInterval: 4 * time.Hour, EscalateAfter: 2 * time.Hour, Escalate: true})
	h.silence(&hub.Silence{CustomerID: "kovacs", Reason: "disk swap", EndsAt: h.clock.Now().Add(3 * time.Hour)})
	h.advance(3*time.Hour + 5*time.Minute)
	wantMails(t, h.mails(), "operator still_down_after_silence ops@felhom.eu")
	// Passes go on: nothing more until the escalation is due, 2 h after
	// the follow-up (the silence hid the outage until then).
	h.advance(time.Hour + 50*time.Minute)
	wantMails(t, h.mails(), "operator still_down_after_silence ops@felhom.eu")
	// The muted outage's skips name the silence.
	rows, err := h.db.FindNotifications(context.Background(), hub.NotificationFilter{Status: hub.NotificationSkipped})
	if err != nil {
		t.Fatal(err)
	}
	silenced := 0
	for _, n := range rows {
		if n.Reason == hub.SkipSilenced {
			silenced++
			if n.SilenceID != 1 {
				t.Errorf("%s %s skipped with silence %d, want 1", n.Channel, n.EventType, n.SilenceID)
			}
		}
	}
	if silenced != 4 { // stale and down, operator and customer
		t.Errorf("%d silenced decisions, want 4", silenced)
	}
	// It recovers after the silence: nobody was told it went down, so
	// nobody is told it is back.
	h.report("kovacs")
	h.step()
	wantMails(t, h.mails(), "operator still_down_after_silence ops@felhom.eu")
}

// The node recovers inside the window: nobody gets anything, then or when
// the window ends.
func TestMaintenanceEndsAfterRecovery(t *testing.T) {
	h := newAlertHub(t, notify.FollowUpPolicy{ReminderInterval: 4 * time.Hour, EscalateAfter: 2 * time.Hour, Escalate: true})
	h.silence(&hub.Silence{CustomerID: "kovacs", Reason: "disk swap", EndsAt: h.clock.Now().Add(3 * time.Hour)})
	h.advance(2 * time.Hour)
	for range 8 { // back, and reporting every 15 minutes past the window's end
		h.report("kovacs")
		h.advance(15 * time.Minute)
	}
	wantMails(t, h.mails())
}

// Ending a silence early by hand follows the problem up at the next pass;
// a weekly window that closes does the same.
func TestSilenceEndedByHandWhileDown(t *testing.T) {
	h := newAlertHub(t, noFollowUps)
	h.silence(&hub.Silence{CustomerID: "kovacs", Reason: "disk swap", EndsAt: h.clock.Now().Add(24 * time.Hour)})
	h.advance(90 * time.Minute)
	if _, err := h.db.EndSilence(context.Background(), 1, "test"); err != nil {
		t.Fatal(err)
	}
	h.step()
	wantMails(t, h.mails(), "operator still_down_after_silence ops@felhom.eu")
	if _, err := h.db.EndSilence(context.Background(), 1, "test"); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("ending it twice: %v", err)
	}
}

// Reminders every 4 h and one escalation after 2 h, apart from the
// cooldown; an acknowledgement stops them and recovery clears it.
func TestRemindersEscalationAndAck(t *testing.T) {
	h := newAlertHub(t, notify.FollowUpPolicy{ReminderInterval: 4 * time.Hour, EscalateAfter: 2 * time.Hour, Escalate: true})
	h.advance(61 * time.Minute) // stale at 30 m, down at 60 m
	first := []string{
		"operator node_stale ops@felhom.eu", "customer node_stale anna@example.hu",
		"operator node_down ops@felhom.eu", "customer node_down anna@example.hu",
	}
	wantMails(t, h.mails(), first...)
	h.advance(2 * time.Hour)
	withEscalation := append(slices.Clone(first), "operator alert_escalation oncall@felhom.eu")
	wantMails(t, h.mails(), withEscalation...)
	h.advance(2 * time.Hour) // 4 h down
	withReminder := append(slices.Clone(withEscalation), "operator alert_reminder ops@felhom.eu")
	wantMails(t, h.mails(), withReminder...)

	ack, err := h.db.AcknowledgeCustomer(context.Background(), "kovacs", "web:admin", "ISP outage, called them")
	if err != nil || len(ack.Problems) != 1 {
		t.Fatalf("ack: %+v, %v", ack, err)
	}
	h.advance(9 * time.Hour) // two more reminders were due
	wantMails(t, h.mails(), withReminder...)
	problems, err := h.db.FindOpenProblems(context.Background())
	if err != nil || len(problems) != 1 || !problems[0].Acked() || problems[0].AckedBy != "web:admin" {
		t.Fatalf("open problems: %+v, %v", problems, err)
	}

	// Recovery clears the acknowledgement: the next outage reminds again.
	h.report("kovacs")
	h.step()
	wantMails(t, h.mails(), append(slices.Clone(withReminder), "customer node_recovered anna@example.hu")...)
	if _, err := h.db.AcknowledgeCustomer(context.Background(), "kovacs", "web:admin", ""); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("ack with nothing open: %v", err)
	}
	h.advance(61 * time.Minute)
	problems, err = h.db.FindOpenProblems(context.Background())
	if err != nil || len(problems) != 1 || problems[0].Acked() {
		t.Fatalf("the next outage is not acknowledged: %+v, %v", problems, err)
	}
	before := len(h.mails())
	h.advance(4 * time.Hour)
	got := h.mails()[before:]
	wantMails(t, got, "operator alert_escalation oncall@felhom.eu", "operator alert_reminder ops@felhom.eu")
}

// An acknowledgement while stale keeps the operator's node_down mail back
// (skipped: acknowledged); the customer still gets theirs.
func TestAckWhileStale(t *testing.T) {
	h := newAlertHub(t, notify.FollowUpPolicy{EscalateAfter: 2 * time.Hour})
	h.advance(31 * time.Minute)
	if _, err := h.db.AcknowledgeCustomer(context.Background(), "kovacs", "api", "known"); err != nil {
		t.Fatal(err)
	}
	h.advance(30 * time.Minute)
	wantMails(t, h.mails(), "operator node_stale ops@felhom.eu", "customer node_stale anna@example.hu",
		"customer node_down anna@example.hu")
	rows, err := h.db.FindNotifications(context.Background(), hub.NotificationFilter{Status: hub.NotificationSkipped})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rows, func(n *hub.Notification) bool {
		return n.EventType == "node_down" && n.Channel == hub.ChannelOperator && n.Reason == hub.SkipAcknowledged
	}) {
		t.Errorf("no operator node_down skipped as acknowledged: %+v", rows)
	}
}

// Two replicas' passes racing over the same problem store one follow-up.
func TestFollowUpDecidedOnce(t *testing.T) {
	h := newAlertHub(t, noFollowUps)
	h.silence(&hub.Silence{CustomerID: "kovacs", Reason: "disk swap", EndsAt: h.clock.Now().Add(2 * time.Hour)})
	h.advance(2*time.Hour - time.Minute)
	h.clock.Add(2 * time.Minute)
	other := &notify.Alerter{Store: h.db, Policy: noFollowUps, Now: h.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	problems, _ := h.db.FindOpenProblems(context.Background())
	actions := noFollowUps.FollowUps(h.clock.Now(), problems, map[int64]*hub.Silence{}, nil)
	if len(actions) != 1 {
		t.Fatalf("%d actions", len(actions))
	}
	a, err := h.db.ApplyAlertActions(context.Background(), actions)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.db.ApplyAlertActions(context.Background(), actions) // the other replica, same reading
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.step()
	if len(a) != 1 || len(b) != 0 {
		t.Errorf("stored %d then %d follow-ups, want 1 then 0", len(a), len(b))
	}
	wantMails(t, h.mails(), "operator still_down_after_silence ops@felhom.eu")
}
