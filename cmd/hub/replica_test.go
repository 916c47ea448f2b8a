package main

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/internal/pgtest"
)

// TestReplicas runs three hub processes on one PostgreSQL database behind
// a client that, like an ingress, sends each request to a live replica.
// One replica is killed with SIGKILL mid-run and stays dead. Afterwards
// every acknowledged report, host report and event is stored, each dead
// man's switch transition has exactly one event, each event has one
// notification decision per channel, and every queued mail has been
// delivered — the dead replica's claims included, once their lease ran out.
func TestReplicas(t *testing.T) {
	dsn := pgtest.Schema(t)
	if testing.Short() {
		t.Skip("runs for about three minutes")
	}
	began := time.Now()
	bin := buildHub(t)
	// Resend answers every post here: the crash test covers its outages,
	// whose retry backoff would only make this test longer.
	resend := &fakeResend{rng: rand.New(rand.NewPCG(5, 7)), delivered: map[string]int{}, healthy: true}
	resendSrv := httptest.NewServer(resend)
	defer resendSrv.Close()

	const key = "replica-test-global-key-012345678"
	base := hubEnv{
		"HUB_DATABASE_DSN":                    dsn,
		"HUB_API_REPORT_API_KEY":              key,
		"HUB_API_ADMIN_API_KEY":               testAdminKey,
		"HUB_SECRETS_KEY":                     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HUB_NOTIFICATIONS_PROVIDER":          "resend",
		"HUB_NOTIFICATIONS_RESEND_API_KEY":    "re_replica_test_key",
		"HUB_NOTIFICATIONS_RESEND_BASE_URL":   resendSrv.URL,
		"HUB_NOTIFICATIONS_OPERATOR_EMAIL":    "ops@felhom.eu",
		"HUB_NOTIFICATIONS_OPERATOR_COOLDOWN": "0s",
		"HUB_ALERTING_STALE_THRESHOLD":        crashStale.String(),
		"HUB_ALERTING_DOWN_THRESHOLD":         crashDown.String(),
		"HUB_ALERTING_CHECK_INTERVAL":         "1s",
		"HUB_LOG_LEVEL":                       "warn",
	}
	// The three start together: the migration lock makes one of them
	// migrate and the others wait for it.
	const replicas = 3
	procs := make([]*hubProcess, replicas)
	logs := make([]*syncBuffer, replicas)
	clients := make([]*fleetsim.Client, replicas)
	for i := range procs {
		env := hubEnv{"HUB_SERVER_LISTEN": freeAddr(t), "HUB_SERVER_DATA_DIR": t.TempDir()}
		for k, v := range base {
			env[k] = v
		}
		logs[i] = &syncBuffer{}
		procs[i] = spawnHub(t, bin, env, logs[i])
		clients[i] = fleetsim.NewClient("http://"+env["HUB_SERVER_LISTEN"], key, 8)
		clients[i].AdminKey = testAdminKey
		clients[i].HTTP.Timeout = 10 * time.Second
	}
	for _, p := range procs {
		p.waitReady(t, 60*time.Second)
	}
	t.Logf("%d replicas up at %s", replicas, time.Since(began).Round(time.Millisecond))

	// The ingress: a live replica, chosen at random; a request that finds
	// its replica dead (no HTTP answer) goes to another, as a load
	// balancer's retry would. An HTTP answer is final.
	var dead atomic.Int32
	dead.Store(-1)
	var served [replicas]atomic.Int64
	ingress := func(r *rand.Rand, do func(c *fleetsim.Client) error) error {
		err := errors.New("every replica is down")
		for _, i := range r.Perm(replicas) {
			if int32(i) == dead.Load() {
				continue
			}
			if err = do(clients[i]); err == nil || isStatusError(err) {
				if err == nil {
					served[i].Add(1)
				}
				return err
			}
		}
		return err
	}

	ctx := context.Background()
	steady := registerCrashNodes(t, clients[0], "steady", 12, 21)
	quiet := registerCrashNodes(t, clients[1], "quiet", 4, 121)
	ack := &acked{reports: map[string]bool{}, hostReports: map[string]bool{}, events: map[int64]string{}}
	var seq atomic.Int64
	for i, n := range quiet {
		if err := postCrashReport(ctx, clients[i%replicas], n, &seq, ack); err != nil {
			t.Fatal(err)
		}
	}
	quietSince := time.Now()

	stop := make(chan struct{})
	var load sync.WaitGroup
	var attempts, failures atomic.Int64
	refusals := &errorTally{counts: map[string]int{}}
	for w := range 6 {
		load.Add(1)
		go func() {
			defer load.Done()
			r := rand.New(rand.NewPCG(21, uint64(w)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := steady[r.IntN(len(steady))]
				op := r.IntN(10)
				err := ingress(r, func(c *fleetsim.Client) error {
					switch {
					case op < 6:
						return postCrashReport(ctx, c, n, &seq, ack)
					case op < 8:
						return postCrashEvent(ctx, c, n, r, &seq, ack)
					default:
						return postCrashHostReport(ctx, c, n, &seq, ack)
					}
				})
				attempts.Add(1)
				if err != nil {
					failures.Add(1)
					refusals.note(err)
				}
			}
		}()
	}
	load.Add(1)
	go func() {
		defer load.Done()
		select {
		case <-stop:
			return
		case <-time.After(time.Until(quietSince.Add(crashDown + 2*time.Second))):
		}
		r := rand.New(rand.NewPCG(21, 99))
		for _, n := range quiet[:len(quiet)/2] {
			for ingress(r, func(c *fleetsim.Client) error { return postCrashReport(ctx, c, n, &seq, ack) }) != nil {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}()

	// Mid-run, before the quiet nodes go stale, the replica that holds the
	// dispatch lease dies for good: its share of requests, its outbox
	// claims and the jobs it ran (dispatch, daily jobs, history) must be
	// picked up by the other two, the jobs within a minute.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	time.Sleep(25 * time.Second) // the load's pacing, not a wait for correctness
	victim := leaseHolder(t, db, "dispatch", procs)
	dead.Store(int32(victim))
	procs[victim].kill(t)
	killedAt := time.Now()
	t.Logf("replica %d, holder of the dispatch lease, killed at %s", victim, time.Since(began).Round(time.Millisecond))
	if rest := crashDown + 10*time.Second - time.Since(quietSince); rest > 0 {
		time.Sleep(rest) // let the quiet nodes' deadlines pass under load
	}
	close(stop)
	load.Wait()
	t.Logf("load stopped at %s", time.Since(began).Round(time.Millisecond))
	if after := leaseHolder(t, db, "dispatch", procs); after == victim {
		t.Errorf("the dispatch lease is still the dead replica's %s after the kill", time.Since(killedAt).Round(time.Second))
	} else {
		t.Logf("replica %d holds the dispatch lease now", after)
	}
	waitDrained(t, db, quiet[len(quiet)/2:], 60*time.Second)
	// The transitions now, before the quiet nodes that came back fall
	// silent again.
	hubEvents := checkHubEvents(t, db, quiet)
	// The dead replica's claimed mails come back when their lease ends.
	waitOutboxEmpty(t, db, 3*time.Minute)
	t.Logf("drained at %s (%s after the kill)", time.Since(began).Round(time.Millisecond), time.Since(killedAt).Round(time.Second))
	for i, p := range procs {
		if i == victim {
			continue
		}
		if err := p.terminate(t, 30*time.Second); err != nil {
			t.Errorf("replica %d's exit after SIGTERM: %v\n%s", i, err, lastLines(logs[i].String(), 20))
		}
	}

	lost := checkAcknowledged(t, db, ack)
	mails := checkMails(t, db, resend)
	t.Logf("replicas: %d requests (%d/%d/%d served by replica 0/1/2, %d refused), acknowledged %d reports, %d host reports, "+
		"%d events, %d lost; %d hub events, none twice; %s",
		attempts.Load(), served[0].Load(), served[1].Load(), served[2].Load(), failures.Load(),
		len(ack.reports), len(ack.hostReports), len(ack.events), lost, hubEvents, mails)
	t.Logf("refusals: %v", refusals.counts)
	for i, l := range logs {
		if strings.Contains(l.String(), "panic") {
			t.Errorf("replica %d panicked:\n%s", i, lastLines(l.String(), 40))
		}
	}
}

// leaseHolder returns the index of the process that holds the lease: owners
// are host-pid-random.
func leaseHolder(t *testing.T, db *sql.DB, name string, procs []*hubProcess) int {
	t.Helper()
	var owner string
	if err := db.QueryRow(`SELECT owner FROM leases WHERE name = $1`, name).Scan(&owner); err != nil {
		t.Fatalf("lease %s: %v", name, err)
	}
	for i, p := range procs {
		if strings.Contains(owner, "-"+strconv.Itoa(p.cmd.Process.Pid)+"-") {
			return i
		}
	}
	t.Fatalf("lease %s is held by %q, none of the replicas", name, owner)
	return -1
}

// errorTally counts errors by message.
type errorTally struct {
	mu     sync.Mutex
	counts map[string]int
}

func (e *errorTally) note(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	e.counts[msg]++
}

// waitOutboxEmpty waits until every queued mail has been delivered.
func waitOutboxEmpty(t *testing.T, db *sql.DB, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var pending int
	for time.Now().Before(deadline) {
		if err := db.QueryRow(`SELECT count(*) FROM notification_outbox WHERE state = 'pending'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		<-tick.C
	}
	t.Fatalf("%d mails still queued after %s", pending, limit)
}
