package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/felhom/hub/fleetsim"
)

// crashOptions size the crash test; HUB_CRASH_KILLS, HUB_CRASH_SEED and
// HUB_CRASH_SECONDS make it longer or different for a manual run.
type crashOptions struct {
	kills    int
	seed     uint64
	duration time.Duration
}

func crashOptionsFromEnv(t *testing.T) crashOptions {
	o := crashOptions{kills: 20, seed: 11, duration: 75 * time.Second}
	if v := os.Getenv("HUB_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("HUB_CRASH_KILLS=%q", v)
		}
		o.kills = n
	}
	if v := os.Getenv("HUB_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("HUB_CRASH_SEED=%q", v)
		}
		o.seed = n
	}
	if v := os.Getenv("HUB_CRASH_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 75 {
			t.Fatalf("HUB_CRASH_SECONDS=%q (at least 75: nodes must have time to go stale and down)", v)
		}
		o.duration = time.Duration(n) * time.Second
	}
	return o
}

// The crash test's dead man's switch: the shortest thresholds the config
// allows, so that silent nodes go stale and down while the hub is killed.
const (
	crashStale = time.Minute
	crashDown  = 70 * time.Second
)

// fakeResend is Resend's POST /emails: it records each idempotency key and
// now and then answers 503, as an outage would. Like Resend, it delivers a
// key once, however often it is posted.
type fakeResend struct {
	mu  sync.Mutex
	rng *rand.Rand
	// healthy turns the fake outage off.
	healthy   bool
	delivered map[string]int // idempotency key → posts accepted
	refused   int
}

func (f *fakeResend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	// An API's latency: kills then land in the middle of sends too.
	time.Sleep(2 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.healthy && f.rng.IntN(10) == 0 {
		f.refused++
		http.Error(w, `{"name":"internal_server_error","message":"try later"}`, http.StatusServiceUnavailable)
		return
	}
	f.delivered[r.Header.Get("Idempotency-Key")]++
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"`+strconv.Itoa(len(f.delivered))+`"}`)
}

// crashNode is a customer the load drives.
type crashNode struct {
	mu sync.Mutex // Report advances the node's state: one report at a time
	*fleetsim.Node
	key     string
	hostID  string
	hostKey string
}

// acked is what the hub answered 2xx to, and must therefore still hold.
type acked struct {
	mu          sync.Mutex
	reports     map[string]bool // customer_id + reported_at (unix ms)
	hostReports map[string]bool // host_id + reported_at (unix ms)
	events      map[int64]string
}

func (a *acked) add(m map[string]bool, key string) {
	a.mu.Lock()
	m[key] = true
	a.mu.Unlock()
}

// TestCrashSafety runs the real binary under load, kills it with SIGKILL
// at random moments, restarts it on the same data, and checks that nothing
// it acknowledged was lost, that the database is sound, that no hub event
// was stored or mailed twice, and that every queued mail was delivered
// once or is still queued.
func TestCrashSafety(t *testing.T) {
	opts := crashOptionsFromEnv(t)
	began := time.Now()
	bin := buildHub(t)
	t.Logf("binary built in %s", time.Since(began).Round(time.Millisecond))
	rng := rand.New(rand.NewPCG(opts.seed, opts.seed^0x5eed))
	resend := &fakeResend{rng: rand.New(rand.NewPCG(opts.seed, 7)), delivered: map[string]int{}}
	resendSrv := httptest.NewServer(resend)
	defer resendSrv.Close()

	dataDir := t.TempDir()
	const key = "crash-test-global-key-0123456789"
	env := hubEnv{
		"HUB_SERVER_LISTEN":                   freeAddr(t),
		"HUB_SERVER_DATA_DIR":                 dataDir,
		"HUB_API_REPORT_API_KEY":              key,
		"HUB_API_ADMIN_API_KEY":               testAdminKey,
		"HUB_SECRETS_KEY":                     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HUB_NOTIFICATIONS_PROVIDER":          "resend",
		"HUB_NOTIFICATIONS_RESEND_API_KEY":    "re_crash_test_key",
		"HUB_NOTIFICATIONS_RESEND_BASE_URL":   resendSrv.URL,
		"HUB_NOTIFICATIONS_OPERATOR_EMAIL":    "ops@felhom.eu",
		"HUB_NOTIFICATIONS_OPERATOR_COOLDOWN": "0s",
		"HUB_ALERTING_STALE_THRESHOLD":        crashStale.String(),
		"HUB_ALERTING_DOWN_THRESHOLD":         crashDown.String(),
		"HUB_ALERTING_CHECK_INTERVAL":         "1s",
		"HUB_LOG_LEVEL":                       "warn",
	}
	logs := &syncBuffer{}
	proc := startHub(t, bin, env, logs)
	base := "http://" + env["HUB_SERVER_LISTEN"]
	client := fleetsim.NewClient(base, key, 16)
	client.AdminKey = testAdminKey
	client.HTTP.Timeout = 10 * time.Second
	ctx := context.Background()

	// The fleet: steady nodes the load drives, and quiet nodes that report
	// once and fall silent; half of the quiet ones come back at the end.
	steady := registerCrashNodes(t, client, "steady", 12, opts.seed)
	quiet := registerCrashNodes(t, client, "quiet", 4, opts.seed+100)
	ack := &acked{reports: map[string]bool{}, hostReports: map[string]bool{}, events: map[int64]string{}}
	var seq atomic.Int64
	post := func(n *crashNode) error { return postCrashReport(ctx, client, n, &seq, ack) }
	for _, n := range quiet {
		if err := post(n); err != nil {
			t.Fatal(err)
		}
	}
	quietSince := time.Now()
	t.Logf("fleet registered at %s", time.Since(began).Round(time.Millisecond))

	stop := make(chan struct{})
	var load sync.WaitGroup
	var attempts, failures atomic.Int64
	for w := range 6 {
		load.Add(1)
		go func() {
			defer load.Done()
			r := rand.New(rand.NewPCG(opts.seed, uint64(w)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := steady[r.IntN(len(steady))]
				var err error
				switch op := r.IntN(10); {
				case op < 6:
					err = post(n)
				case op < 8:
					err = postCrashEvent(ctx, client, n, r, &seq, ack)
				default:
					err = postCrashHostReport(ctx, client, n, &seq, ack)
				}
				attempts.Add(1)
				if err != nil {
					failures.Add(1)
					if !isStatusError(err) {
						// The hub is down: do not spin while it restarts.
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
					}
				}
			}
		}()
	}
	// The quiet nodes that come back report once their down deadline is
	// behind them, retrying until the hub (perhaps restarting) takes it.
	load.Add(1)
	go func() {
		defer load.Done()
		select {
		case <-stop:
			return
		case <-time.After(time.Until(quietSince.Add(crashDown + 2*time.Second))):
		}
		for _, n := range quiet[:len(quiet)/2] {
			for post(n) != nil {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}()

	// The killer: SIGKILL at random moments, some of them while the hub
	// is still starting, each followed by a restart on the same data.
	start := time.Now()
	interval := opts.duration / time.Duration(opts.kills+1)
	kills, duringStartup := 0, 0
	for kills < opts.kills {
		wait := interval/2 + time.Duration(rng.Int64N(int64(interval)))
		if rng.IntN(5) == 0 {
			wait = time.Duration(rng.IntN(30)) * time.Millisecond
			duringStartup++
		}
		time.Sleep(wait) // the attack's pacing, not a wait for correctness
		proc.kill(t)
		kills++
		proc = spawnHub(t, bin, env, logs)
		if kills < opts.kills && rng.IntN(5) != 0 {
			proc.waitReady(t, 30*time.Second)
		}
	}
	proc.waitReady(t, 30*time.Second)
	if rest := opts.duration - time.Since(start); rest > 0 {
		time.Sleep(rest) // let the quiet nodes' deadlines pass under load
	}
	close(stop)
	load.Wait()

	// Let the restarted hub drain its queues, then stop it gracefully.
	t.Logf("load stopped at %s", time.Since(began).Round(time.Millisecond))
	db := openDB(t, dataDir)
	waitDrained(t, db, quiet[len(quiet)/2:], 30*time.Second)
	t.Logf("drained at %s", time.Since(began).Round(time.Millisecond))
	if err := proc.terminate(t, 30*time.Second); err != nil {
		t.Errorf("the hub's exit after SIGTERM: %v\n%s", err, lastLines(logs.String(), 20))
	}

	t.Logf("stopped at %s", time.Since(began).Round(time.Millisecond))
	integrityCheck(t, db)
	lost := checkAcknowledged(t, db, ack)
	hubEvents := checkHubEvents(t, db, quiet)
	mails := checkMails(t, db, resend)
	t.Logf("crash test: %d SIGKILLs (%d while starting) in %s, seed %d; %d requests, %d failed or refused while down; "+
		"acknowledged %d reports, %d host reports, %d events, %d lost; %d hub events, none twice; %s; integrity_check ok",
		kills, duringStartup, time.Since(start).Round(time.Second), opts.seed, attempts.Load(), failures.Load(),
		len(ack.reports), len(ack.hostReports), len(ack.events), lost, hubEvents, mails)
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("the hub panicked:\n%s", lastLines(logs.String(), 40))
	}
}

func isStatusError(err error) bool {
	var se *fleetsim.StatusError
	return errors.As(err, &se)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// registerCrashNodes creates customers through the admin API, each with a
// host, and returns them.
func registerCrashNodes(t *testing.T, c *fleetsim.Client, prefix string, count int, seed uint64) []*crashNode {
	t.Helper()
	ctx := context.Background()
	var nodes []*crashNode
	for i := range count {
		id := fmt.Sprintf("%s-%02d", prefix, i)
		var created struct {
			APIKey string `json:"api_key"`
		}
		if err := c.Do(ctx, "POST", "/api/v1/admin/customers", c.AdminKey, map[string]any{"customer_id": id}, &created); err != nil {
			t.Fatal(err)
		}
		var host struct {
			HostID string `json:"host_id"`
			APIKey string `json:"api_key"`
		}
		if err := c.Do(ctx, "POST", "/api/v1/admin/hosts", c.AdminKey, map[string]any{"customer_id": id}, &host); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, &crashNode{Node: fleetsim.NewNode(id, seed+uint64(i), 8<<10),
			key: created.APIKey, hostID: host.HostID, hostKey: host.APIKey})
	}
	return nodes
}

// crashEpoch starts the reported_at of the test's reports: each report has
// a second of its own after it, so that each can be found again.
var crashEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func postCrashReport(ctx context.Context, c *fleetsim.Client, n *crashNode, seq *atomic.Int64, ack *acked) error {
	at := crashEpoch.Add(time.Duration(seq.Add(1)) * time.Second)
	n.mu.Lock()
	body := n.Report(at, true)
	n.mu.Unlock()
	if err := c.Do(ctx, "POST", "/api/v1/report", n.key, body, nil); err != nil {
		return err
	}
	ack.add(ack.reports, fmt.Sprintf("%s@%d", n.CustomerID, at.UnixMilli()))
	return nil
}

func postCrashHostReport(ctx context.Context, c *fleetsim.Client, n *crashNode, seq *atomic.Int64, ack *acked) error {
	at := crashEpoch.Add(time.Duration(seq.Add(1)) * time.Second)
	body := map[string]any{
		"host_id": n.hostID, "reported_at": at.Format(time.RFC3339), "agent_version": "0.7.0",
		"host":   map[string]any{"hostname": "pve-" + n.CustomerID, "cpu_percent": 12.5},
		"guests": []map[string]any{{"vmid": 101, "name": "felhom-controller", "status": "running"}},
	}
	if err := c.Do(ctx, "POST", "/api/v1/host-report", n.hostKey, body, nil); err != nil {
		return err
	}
	ack.add(ack.hostReports, fmt.Sprintf("%s@%d", n.hostID, at.UnixMilli()))
	return nil
}

// crashEventTypes are the events the load posts: info, warning and error,
// so that some are mailed to the operator and some are not.
var crashEventTypes = []struct{ typ, severity string }{
	{"backup_completed", "info"}, {"disk_space_warning", "warning"}, {"backup_failed", "error"},
}

func postCrashEvent(ctx context.Context, c *fleetsim.Client, n *crashNode, r *rand.Rand, seq *atomic.Int64, ack *acked) error {
	et := crashEventTypes[r.IntN(len(crashEventTypes))]
	msg := fmt.Sprintf("crash-test event %d", seq.Add(1))
	var out struct {
		ID int64 `json:"id"`
	}
	err := c.Do(ctx, "POST", "/api/v1/event", n.key, map[string]any{
		"customer_id": n.CustomerID, "event_type": et.typ, "severity": et.severity, "message": msg,
	}, &out)
	if err != nil {
		return err
	}
	ack.mu.Lock()
	ack.events[out.ID] = n.CustomerID + " " + et.typ + " " + msg
	ack.mu.Unlock()
	return nil
}

// waitDrained waits until every event has been dispatched (its mails
// decided and queued) and the quiet nodes that stayed silent are down.
func waitDrained(t *testing.T, db *sql.DB, silent []*crashNode, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var undispatched, notDown int
	for time.Now().Before(deadline) {
		err := db.QueryRow(`SELECT count(*) FROM events WHERE dispatched_at IS NULL`).Scan(&undispatched)
		if err != nil {
			t.Fatal(err)
		}
		notDown = 0
		for _, n := range silent {
			var state string
			if err := db.QueryRow(`SELECT monitor_state FROM customers WHERE id = $1`, n.CustomerID).Scan(&state); err != nil {
				t.Fatal(err)
			}
			if state != "down" {
				notDown++
			}
		}
		if undispatched == 0 && notDown == 0 {
			return
		}
		<-tick.C
	}
	t.Fatalf("not drained after %s: %d events undispatched, %d silent nodes not down", limit, undispatched, notDown)
}

// checkAcknowledged checks that every acknowledged report, host report and
// event is stored, and returns how many are missing.
func checkAcknowledged(t *testing.T, db *sql.DB, ack *acked) int {
	t.Helper()
	stored := func(query string) map[string]bool {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var id string
			var at sql.NullInt64
			if err := rows.Scan(&id, &at); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s@%d", id, at.Int64)] = true
		}
		return out
	}
	lost := 0
	for _, c := range []struct {
		what   string
		acked  map[string]bool
		stored map[string]bool
	}{
		{"report", ack.reports, stored(`SELECT customer_id, reported_at FROM reports`)},
		{"host report", ack.hostReports, stored(`SELECT host_id, reported_at FROM host_reports`)},
	} {
		for k := range c.acked {
			if !c.stored[k] {
				lost++
				if lost <= 10 {
					t.Errorf("acknowledged %s %s is not stored", c.what, k)
				}
			}
		}
	}
	events := map[int64]string{}
	rows, err := db.Query(`SELECT id, customer_id, event_type, message FROM events WHERE source = 'controller'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var customer, typ, msg string
		if err := rows.Scan(&id, &customer, &typ, &msg); err != nil {
			t.Fatal(err)
		}
		events[id] = customer + " " + typ + " " + msg
	}
	for id, want := range ack.events {
		if got := events[id]; got != want {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged event %d (%s) is stored as %q", id, want, got)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost", lost)
	}
	return lost
}

// checkHubEvents checks the dead man's switch's events: each transition of
// a node is stored once, in order, and every quiet node got its own.
func checkHubEvents(t *testing.T, db *sql.DB, quiet []*crashNode) int {
	t.Helper()
	rows, err := db.Query(`SELECT customer_id, event_type FROM events WHERE source = 'hub' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seq := map[string][]string{}
	total := 0
	for rows.Next() {
		var customer, typ string
		if err := rows.Scan(&customer, &typ); err != nil {
			t.Fatal(err)
		}
		seq[customer] = append(seq[customer], typ)
		total++
	}
	for customer, types := range seq {
		// Each transition once: never the same twice in a row, and a
		// recovery only after stale or down.
		for i := 1; i < len(types); i++ {
			if types[i] == types[i-1] {
				t.Errorf("%s: hub event %s stored twice in a row: %v", customer, types[i], types)
			}
		}
		if len(types) > 0 && types[0] == "node_recovered" {
			t.Errorf("%s: recovered before any outage: %v", customer, types)
		}
	}
	for i, n := range quiet {
		types := strings.Join(seq[n.CustomerID], " ")
		back := i < len(quiet)/2
		want := []string{"node_stale node_down", "node_down"}
		if back {
			want = []string{"node_stale node_down node_recovered", "node_down node_recovered", "node_stale node_recovered"}
		}
		ok := false
		for _, w := range want {
			ok = ok || types == w
		}
		if !ok {
			t.Errorf("quiet node %s (back: %v): hub events %q, want one of %q", n.CustomerID, back, types, want)
		}
	}
	return total
}

// checkMails checks the outbox against what the fake Resend received: no
// event was decided twice per channel, every mail logged as sent reached
// Resend, every mail Resend got is logged as sent or still queued, and
// every mail logged as queued is still in the outbox.
func checkMails(t *testing.T, db *sql.DB, resend *fakeResend) string {
	t.Helper()
	var twice int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT event_id, channel FROM notification_log
		WHERE event_id IS NOT NULL GROUP BY event_id, channel HAVING count(*) > 1) AS twice`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	if twice > 0 {
		t.Errorf("%d events have two notification decisions on one channel", twice)
	}
	// Every warning and error event has its operator decision.
	var undecided int
	if err := db.QueryRow(`SELECT count(*) FROM events e WHERE e.severity IN ('warning', 'error')
		AND NOT EXISTS (SELECT 1 FROM notification_log l WHERE l.event_id = e.id AND l.channel = 'operator')`).Scan(&undecided); err != nil {
		t.Fatal(err)
	}
	if undecided > 0 {
		t.Errorf("%d warning or error events have no operator decision", undecided)
	}

	rows, err := db.Query(`SELECT l.id, l.event_id, l.status, o.idempotency_key FROM notification_log l
		LEFT JOIN notification_outbox o ON o.log_id = l.id AND o.state = 'pending'
		WHERE l.channel = 'operator' AND l.status IN ('queued', 'sent', 'failed')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	resend.mu.Lock()
	defer resend.mu.Unlock()
	byEvent := map[int64]string{} // event id → key Resend received
	duplicates := 0
	for k, posts := range resend.delivered {
		duplicates += posts - 1
		var id int64
		if _, err := fmt.Sscanf(k, "felhom-hub/event/%d-", &id); err != nil {
			t.Errorf("Resend got an unexpected idempotency key %q", k)
			continue
		}
		if strings.Contains(k, "/operator/") {
			byEvent[id] = k
		}
	}
	var sent, queued, unconfirmed, failed int
	accounted := map[string]bool{}
	for rows.Next() {
		var logID, eventID int64
		var status string
		var key sql.NullString
		if err := rows.Scan(&logID, &eventID, &status, &key); err != nil {
			t.Fatal(err)
		}
		switch status {
		case "sent":
			sent++
			if byEvent[eventID] == "" {
				t.Errorf("mail %d (event %d) is logged sent, but Resend never got it", logID, eventID)
			}
			accounted[byEvent[eventID]] = true
		case "queued":
			queued++
			if !key.Valid {
				t.Errorf("mail %d (event %d) is logged queued but is not in the outbox: lost", logID, eventID)
				continue
			}
			accounted[key.String] = true
			if resend.delivered[key.String] > 0 {
				unconfirmed++ // sent when a kill came; re-sent with its key later
			}
		case "failed":
			failed++
		}
	}
	for k := range resend.delivered {
		if strings.Contains(k, "/operator/") && !accounted[k] {
			t.Errorf("Resend got %q, which the hub neither logged sent nor holds queued", k)
		}
	}
	if failed > 0 {
		t.Errorf("%d mails failed for good", failed)
	}
	return fmt.Sprintf("%d mails delivered and confirmed, %d delivered but unconfirmed when a kill came (still queued under the same "+
		"idempotency key), %d re-posted with a key Resend had, %d answered 503 by the fake outage, %d still queued",
		sent, unconfirmed, duplicates, resend.refused, queued)
}
