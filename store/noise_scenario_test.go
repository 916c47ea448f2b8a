package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/dispatch"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/monitor"
	"github.com/felhom/hub/notify"
	"github.com/felhom/hub/store"
)

// The scenarios of alert noise control: the store, the staleness checker,
// the dispatcher and the sender as the hub wires them, on an injected
// clock, each asserting the exact mails that go out. They run on both
// engines (TestPostgresContract).

const opsAddr = "ops@felhom.eu"

// mailbox records the mails a provider is given.
type mailbox struct {
	mu    sync.Mutex
	mails []*notify.Message
}

func (m *mailbox) Name() string { return "test" }

func (m *mailbox) Send(_ context.Context, msg *notify.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mails = append(m.mails, msg)
	return nil
}

// take returns the mails sent since the last take as "to: subject", sorted.
func (m *mailbox) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []string{}
	for _, msg := range m.mails {
		out = append(out, msg.To+": "+msg.Subject)
	}
	m.mails = nil
	sort.Strings(out)
	return out
}

func (m *mailbox) last(to string) *notify.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.mails) - 1; i >= 0; i-- {
		if m.mails[i].To == to {
			return m.mails[i]
		}
	}
	return nil
}

// noiseHub is a hub's alerting path on one clock.
type noiseHub struct {
	t       *testing.T
	ctx     context.Context
	db      *store.DB
	clock   *clocktest.Clock
	checker *monitor.StalenessChecker
	worker  *dispatch.Worker
	sender  *notify.Sender
	box     *mailbox
	policy  notify.Policy
}

func newNoiseHub(t *testing.T, digest time.Duration) *noiseHub {
	t.Helper()
	h := &noiseHub{t: t, ctx: context.Background(), clock: clocktest.New(epoch), box: &mailbox{}}
	h.db = MustOpenDB(t, h.clock)
	h.db.Thresholds = hub.Thresholds{Stale: 30 * time.Minute, Down: 60 * time.Minute}
	h.db.HostThresholds = hub.Thresholds{Stale: 30 * time.Minute, Down: 60 * time.Minute}
	h.policy = notify.Policy{
		OperatorEnabled: true, OperatorEmail: opsAddr, OperatorCooldown: time.Hour,
		CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour,
		Noise: notify.NoisePolicy{FlapThreshold: hub.DefaultFlapThreshold, DigestWindow: digest},
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.checker = monitor.NewStalenessChecker(h.db, h.db, quiet)
	h.checker.Now = h.clock.Now
	h.checker.Noise = &monitor.NoiseCheck{Store: h.db, FlapThreshold: hub.DefaultFlapThreshold,
		Incident: hub.IncidentRule{Fraction: hub.DefaultIncidentFraction, Window: hub.DefaultIncidentWindow}}
	h.restart()
	return h
}

// restart builds a new dispatcher and sender, as a restarted hub does: all
// they need is in the database.
func (h *noiseHub) restart() {
	h.t.Helper()
	templates, err := notify.ParseTemplates()
	if err != nil {
		h.t.Fatal(err)
	}
	d, err := notify.NewDispatcher(h.db, h.policy, templates, "")
	if err != nil {
		h.t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.worker = dispatch.NewWorker(h.db, d, quiet)
	h.sender = notify.NewSender(h.db, h.box, "monitoring@felhom.eu", 3, quiet)
	h.sender.Now = h.clock.Now
	h.sender.Jitter = func() float64 { return 0 }
}

// deliver dispatches every stored event and sends every mail due.
func (h *noiseHub) deliver() {
	h.t.Helper()
	if _, err := h.worker.RunOnce(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.sender.RunOnce(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// pass runs a checker pass at the clock's time, then delivers.
func (h *noiseHub) pass() {
	h.t.Helper()
	if _, err := h.checker.RunOnce(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	h.deliver()
}

func (h *noiseHub) at(d time.Duration) { h.clock.Set(epoch.Add(d)) }

func (h *noiseHub) report(id string) {
	h.t.Helper()
	MustReportBody(h.t, h.db, fmt.Sprintf(`{"customer_id":%q,"system":{"hostname":"felhom-%s"}}`, id, id))
}

func (h *noiseHub) prefs(id string, events ...string) {
	h.t.Helper()
	zero := 0
	if err := h.db.SetNotificationPrefs(h.ctx, &hub.NotificationPrefs{CustomerID: id, Email: id + "@example.hu",
		EnabledEvents: events, CooldownHours: &zero}); err != nil {
		h.t.Fatal(err)
	}
}

// reasons returns the skip reasons of a customer's notifications of an
// event type, per channel, oldest first ("sent" for a mail that went).
func (h *noiseHub) reasons(id, eventType string) []string {
	h.t.Helper()
	rows, err := h.db.FindNotifications(h.ctx, hub.NotificationFilter{CustomerID: id})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		if r := rows[i]; r.EventType == eventType {
			out = append(out, r.Channel+":"+r.Status+r.Reason)
		}
	}
	return out
}

func wantMails(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: mails\n  %q\nwant\n  %q", step, got, want)
	}
}

var nodeAndHostEvents = []string{"node_stale", "node_down", "node_recovered", "host_stale", "host_down", "host_recovered"}

// TestScenarioHostOutage: a customer's Proxmox host and the controller on
// it go silent together. The operator gets one mail, the host's, saying
// the controller is unreachable with it (not two); the customer likewise
// one; both recovery mails arrive.
func TestScenarioHostOutage(t *testing.T) {
	h := newNoiseHub(t, 0)
	h.report("kovacs")
	h.prefs("kovacs", nodeAndHostEvents...)
	if err := h.db.UpsertHost(h.ctx, &hub.Host{ID: "kovacs-3fa2c1", CustomerID: "kovacs"}, hub.NewAPIKey()); err != nil {
		t.Fatal(err)
	}
	hostBeat := func() {
		r, err := hub.ParseHostReport([]byte(`{"host_id":"kovacs-3fa2c1","host":{"hostname":"pve-kovacs"},
			"guests":[{"vmid":101,"name":"felhom","status":"running","controller_version":"v1.5.0"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.db.CreateHostReport(h.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	hostBeat()
	h.pass()
	wantMails(t, "start", h.box.take())

	h.at(31 * time.Minute) // both past the stale threshold in one pass
	h.pass()
	wantMails(t, "outage", h.box.take(),
		"ops@felhom.eu: [WARNING] kovacs: Host stale",
		"kovacs@example.hu: Felhom: Nem jelentkezik a szerverét futtató gép")
	if got := h.reasons("kovacs", "node_stale"); !slices.Equal(got, []string{"operator:skippedinhibited", "customer:skippedinhibited"}) {
		t.Errorf("node_stale notifications %q", got)
	}

	h.at(61 * time.Minute) // down too: again only the host's mails
	h.pass()
	wantMails(t, "down", h.box.take(),
		"ops@felhom.eu: [ERROR] kovacs: Host down",
		"kovacs@example.hu: Felhom: Nem érhető el a szerverét futtató gép")
	if got := h.reasons("kovacs", "node_down"); !slices.Equal(got, []string{"operator:skippedinhibited", "customer:skippedinhibited"}) {
		t.Errorf("node_down notifications %q", got)
	}

	h.at(75 * time.Minute) // power is back: both recoveries reach the customer
	hostBeat()
	h.report("kovacs")
	h.deliver()
	got := h.box.take()
	if len(got) != 2 || !strings.Contains(strings.Join(got, "\n"), "kovacs@example.hu: Felhom: ") {
		t.Fatalf("recovery mails %q", got)
	}
	if r := h.reasons("kovacs", "node_recovered"); !slices.Contains(r, "customer:sent") {
		t.Errorf("node_recovered %q", r)
	}
	if r := h.reasons("kovacs", "host_recovered"); !slices.Contains(r, "customer:sent") {
		t.Errorf("host_recovered %q", r)
	}
}

// TestScenarioHostMailNamesController: the operator's host mail says the
// controller is unreachable with the host.
func TestScenarioHostMailNamesController(t *testing.T) {
	h := newNoiseHub(t, 0)
	h.report("kovacs")
	if err := h.db.UpsertHost(h.ctx, &hub.Host{ID: "kovacs-3fa2c1", CustomerID: "kovacs"}, hub.NewAPIKey()); err != nil {
		t.Fatal(err)
	}
	r, _ := hub.ParseHostReport([]byte(`{"host_id":"kovacs-3fa2c1","host":{"hostname":"pve-kovacs"}}`))
	if _, err := h.db.CreateHostReport(h.ctx, r); err != nil {
		t.Fatal(err)
	}
	h.pass()
	h.at(31 * time.Minute)
	if _, err := h.checker.RunOnce(h.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.worker.RunOnce(h.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sender.RunOnce(h.ctx); err != nil {
		t.Fatal(err)
	}
	msg := h.box.last(opsAddr)
	if msg == nil || !strings.Contains(msg.Text, "The controller felhom-kovacs runs on this host and is unreachable with it") {
		t.Fatalf("host mail %+v", msg)
	}
}

// TestScenarioFlappingNode: a node that goes stale and comes back again
// and again gets one node_flapping alert; its further stale/recovered
// mails are skipped until it has been steady for an hour, then one
// summary.
func TestScenarioFlappingNode(t *testing.T) {
	h := newNoiseHub(t, 0)
	h.report("szabo")
	h.prefs("szabo", "node_stale", "node_recovered")
	h.pass()
	cu := "szabo@example.hu"
	stale, back := cu+": Felhom: A szervere egy ideje nem jelentkezik", cu+": Felhom: A szervere ismét elérhető"

	h.at(31 * time.Minute) // transition 1
	h.pass()
	wantMails(t, "stale 1", h.box.take(), "ops@felhom.eu: [WARNING] szabo: Node stale", stale)
	h.at(32 * time.Minute) // 2
	h.report("szabo")
	h.pass()
	wantMails(t, "back 1", h.box.take(), back)
	h.at(63 * time.Minute) // 3: the operator's node_stale cools down for an hour
	h.pass()
	wantMails(t, "stale 2", h.box.take(), stale)
	h.at(64 * time.Minute) // 4: flapping
	h.report("szabo")
	h.deliver()
	wantMails(t, "back 2", h.box.take())
	h.pass()
	wantMails(t, "flapping", h.box.take(), "ops@felhom.eu: [WARNING] szabo: Flapping: node felhom-szabo")
	flapping, err := h.db.FindFlapping(h.ctx)
	if err != nil || len(flapping) != 1 || flapping[0].ID != "szabo" || flapping[0].Kind != hub.WatchNode || flapping[0].Transitions != 4 {
		t.Fatalf("flapping %+v %v", flapping, err)
	}
	h.at(95 * time.Minute) // 5: past the operator's cooldown, yet held back
	h.pass()
	h.at(96 * time.Minute) // 6
	h.report("szabo")
	h.pass()
	wantMails(t, "flapping on", h.box.take())
	if got := h.reasons("szabo", "node_stale"); got[len(got)-1] != "customer:skippedflapping" || got[len(got)-2] != "operator:skippedflapping" {
		t.Errorf("node_stale notifications %q", got)
	}
	// Steady from 96m: reporting every 10 minutes, one summary an hour on.
	for m := 100; m <= 170; m += 5 {
		h.at(time.Duration(m) * time.Minute)
		if m%10 == 0 {
			h.report("szabo")
		}
		h.pass()
		got := h.box.take()
		switch {
		case m < 160 && len(got) != 0:
			t.Fatalf("at %dm: %q", m, got)
		case m == 160:
			wantMails(t, "steady", got, "ops@felhom.eu: [INFO] szabo: Steady again after flapping: node felhom-szabo")
		}
	}
	if flapping, _ := h.db.FindFlapping(h.ctx); len(flapping) != 0 {
		t.Errorf("still flapping %+v", flapping)
	}
	// Steady again: a new stale mails as usual.
	h.at(201 * time.Minute)
	h.pass()
	wantMails(t, "after", h.box.take(), "ops@felhom.eu: [WARNING] szabo: Node stale", stale)
}

// TestScenarioISPOutage: 20 of 50 nodes go stale within five minutes (an
// ISP outage). The operator gets exactly one mail, customers none; when
// they come back there is no flood: one summary for the operator.
func TestScenarioISPOutage(t *testing.T) {
	h := newNoiseHub(t, 10*time.Minute)
	const nodes, affected = 50, 20
	id := func(i int) string { return fmt.Sprintf("node-%02d", i) }
	for i := range nodes {
		h.report(id(i))
		h.prefs(id(i), "node_stale", "node_down", "node_recovered")
	}
	outageFrom, outageTo := 60*time.Minute, 110*time.Minute
	var opMails, customerMails []string
	var sawIncident bool
	for m := 0; m <= 200; m++ {
		now := time.Duration(m) * time.Minute
		h.at(now)
		for i := range nodes {
			cut := i < affected && now >= outageFrom && now < outageTo
			if (m+i)%5 == 0 && !cut { // every node reports every 5 minutes
				h.report(id(i))
			}
		}
		h.pass()
		for _, mail := range h.box.take() {
			if strings.HasPrefix(mail, opsAddr) {
				opMails = append(opMails, fmt.Sprintf("%dm %s", m, mail))
			} else {
				customerMails = append(customerMails, mail)
			}
		}
		if m == 100 {
			open, err := h.db.FindOpenIncidents(h.ctx)
			if err != nil || len(open) != 1 || len(open[0].Members) != affected || open[0].Reporting != nodes {
				t.Fatalf("open incidents at 100m: %+v %v", open, err)
			}
			sawIncident = true
		}
	}
	if !sawIncident {
		t.Fatal("no incident")
	}
	if len(customerMails) != 0 {
		t.Errorf("customer mails %q", customerMails)
	}
	if len(opMails) != 2 || !strings.Contains(opMails[0], "[ERROR] Fleet: 20 of 50 nodes went stale together") ||
		!strings.Contains(opMails[1], "[INFO] Fleet: Fleet incident over: 20 of 20 nodes reporting again") {
		t.Fatalf("operator mails %q", opMails)
	}
	if open, _ := h.db.FindOpenIncidents(h.ctx); len(open) != 0 {
		t.Errorf("incident still open %+v", open)
	}
	// Every stale and recovery of the members is logged as skipped: incident.
	for i := range affected {
		for _, typ := range []string{"node_stale", "node_recovered"} {
			got := h.reasons(id(i), typ)
			if !slices.Equal(got, []string{"operator:skipped" + hub.SkipIncident, "customer:skipped" + hub.SkipIncident}) &&
				!(typ == "node_recovered" && slices.Equal(got, []string{"operator:skipped" + hub.SkipNotEnabled, "customer:skipped" + hub.SkipIncident})) {
				t.Fatalf("%s %s: %q", id(i), typ, got)
			}
		}
	}
	// The fleet events belong to no customer.
	events, err := h.db.FindUndispatchedEvents(h.ctx, 10)
	if err != nil || len(events) != 0 {
		t.Fatalf("undispatched %v %v", events, err)
	}
}

// TestScenarioIncidentStillDown: a member still silent when the incident
// ends gets its normal alert then; the others none.
func TestScenarioIncidentStillDown(t *testing.T) {
	h := newNoiseHub(t, 0)
	id := func(i int) string { return fmt.Sprintf("node-%02d", i) }
	for i := range 10 {
		h.report(id(i))
	}
	h.prefs(id(0), "node_stale", "node_down")
	h.pass()
	h.at(25 * time.Minute) // nodes 6-9 keep reporting
	for i := 6; i < 10; i++ {
		h.report(id(i))
	}
	h.at(31 * time.Minute) // 0-5 are stale: 6 of 10
	h.pass()
	got := h.box.take()
	wantMails(t, "incident", got, "ops@felhom.eu: [ERROR] Fleet: 6 of 10 nodes went stale together")
	h.at(35 * time.Minute) // 1-5 come back, 0 does not
	for i := 1; i < 10; i++ {
		h.report(id(i))
	}
	h.pass()
	wantMails(t, "returns", h.box.take())
	h.at(46 * time.Minute) // no return for a whole window: over
	for i := 1; i < 10; i++ {
		h.report(id(i))
	}
	h.pass()
	wantMails(t, "resolved", h.box.take(),
		"ops@felhom.eu: [INFO] Fleet: Fleet incident over: 5 of 6 nodes reporting again",
		"ops@felhom.eu: [WARNING] node-00: Node stale",
		"node-00@example.hu: Felhom: A szervere egy ideje nem jelentkezik")
}

// TestScenarioCustomerDigest: five customer events in three minutes go
// out as one Hungarian digest, the four folded in logged as digested, even
// across a restart of the dispatcher and sender.
func TestScenarioCustomerDigest(t *testing.T) {
	h := newNoiseHub(t, 10*time.Minute)
	h.report("kovacs")
	types := []string{"backup_failed", "disk_space_warning", "container_unhealthy", "app_update_failed", "certificate_expiring"}
	h.prefs("kovacs", types...)
	h.deliver()
	for i, typ := range types {
		h.at(time.Duration(i*45) * time.Second)
		if i == 3 {
			h.restart() // the held digest lives in the outbox
		}
		e := &hub.Event{CustomerID: "kovacs", Type: typ, Severity: hub.SeverityWarning, Source: hub.SourceController,
			Message: "m", Details: []byte(`{"app_name":"Nextcloud","mount_point":"/mnt/data","used_percent":91}`)}
		if err := h.db.CreateEvent(h.ctx, e); err != nil {
			t.Fatal(err)
		}
		h.deliver()
		for _, mail := range h.box.take() {
			if !strings.HasPrefix(mail, opsAddr) {
				t.Fatalf("a customer mail before the window ended: %q", mail)
			}
		}
	}
	h.at(9 * time.Minute)
	h.deliver()
	wantMails(t, "within the window", h.box.take())
	h.at(10*time.Minute + time.Second)
	h.deliver()
	msg := h.box.last("kovacs@example.hu")
	wantMails(t, "digest", h.box.take(), "kovacs@example.hu: Felhom: 5 új értesítés")
	for _, want := range []string{"Tisztelt Ügyfelünk!", "egyben küldjük el", "1. Nem sikerült a biztonsági mentés",
		"5. ", "Az események ideje: 2026. november 22. 10:45 és 10:48 között", "Nextcloud"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("digest text lacks %q:\n%s", want, msg.Text)
		}
	}
	if strings.Contains(msg.Text, "kovacs") || !strings.Contains(msg.HTML, "<p") {
		t.Errorf("digest names the customer id or has no HTML:\n%s", msg.Text)
	}
	var digested, sent int
	for _, typ := range types {
		for _, r := range h.reasons("kovacs", typ) {
			switch r {
			case "customer:skippeddigested":
				digested++
			case "customer:sent":
				sent++
			}
		}
	}
	if digested != 4 || sent != 1 {
		t.Errorf("customer notifications: %d digested, %d sent", digested, sent)
	}
	// The next mail after the window opens a new digest.
	h.at(12 * time.Minute)
	e := &hub.Event{CustomerID: "kovacs", Type: "backup_failed", Severity: hub.SeverityError, Source: hub.SourceController, Message: "m"}
	if err := h.db.CreateEvent(h.ctx, e); err != nil {
		t.Fatal(err)
	}
	h.deliver()
	h.box.take()
	h.at(22*time.Minute + time.Second)
	h.deliver()
	wantMails(t, "single", h.box.take(), "kovacs@example.hu: Felhom: Nem sikerült a biztonsági mentés")
}

// TestIncidentNotOpenedByHealthyNodes: with a short stale threshold, nodes
// reporting on time never look as if they were going stale together: one
// node falling silent is alerted on its own.
func TestIncidentNotOpenedByHealthyNodes(t *testing.T) {
	h := newNoiseHub(t, 0)
	h.db.Thresholds = hub.Thresholds{Stale: 2 * time.Minute, Down: 4 * time.Minute}
	var mails []string
	for s := 0; s <= 600; s += 30 {
		h.at(time.Duration(s) * time.Second)
		for i := range 10 {
			silent := i == 9 && s > 60
			if (s/30+i)%2 == 0 && !silent { // every node reports every minute
				h.report(fmt.Sprintf("node-%02d", i))
			}
		}
		h.pass()
		mails = append(mails, h.box.take()...)
	}
	if open, err := h.db.FindOpenIncidents(h.ctx); err != nil || len(open) != 0 {
		t.Fatalf("incidents %+v %v", open, err)
	}
	sort.Strings(mails)
	wantMails(t, "one silent node", mails, "ops@felhom.eu: [WARNING] node-09: Node stale", "ops@felhom.eu: [ERROR] node-09: Node down")
}

// TestFleetEventBelongsToNoCustomer: a fleet event is stored with no
// customer (NULL, the foreign key kept for every other event), read back
// with an empty customer id, and left out of per-customer counts.
func TestFleetEventBelongsToNoCustomer(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	MustReport(t, db, "kovacs")
	stored, err := db.CreateHubEvents(ctx, []*hub.Event{{Type: hub.EventFleetIncident, Severity: hub.SeverityError,
		Source: hub.SourceHub, Message: "m", DedupeKey: "fleet_incident:test"}})
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored %v %v", stored, err)
	}
	events, err := db.FindUndispatchedEvents(ctx, 10)
	if err != nil || len(events) != 1 || events[0].CustomerID != "" || events[0].Type != hub.EventFleetIncident {
		t.Fatalf("undispatched %+v %v", events, err)
	}
	counts, err := db.CountRecentEvents(ctx, epoch.Add(-time.Hour))
	if err != nil || len(counts) != 0 {
		t.Fatalf("counts %v %v", counts, err)
	}
	// An event of a customer that does not exist is still refused.
	_, err = db.CreateHubEvents(ctx, []*hub.Event{{CustomerID: "nobody", Type: hub.EventNodeStale, Severity: hub.SeverityWarning,
		Source: hub.SourceHub, Message: "m", DedupeKey: "x"}})
	if err == nil {
		t.Fatal("an event of an unknown customer was stored")
	}
}
