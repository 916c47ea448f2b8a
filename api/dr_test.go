package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/dr"
)

// drHub is a configs hub with a customer that has a bundle, whose request
// log and API log go to logs.
type drHub struct {
	*configsHub
	handler  http.Handler
	logs     *bytes.Buffer
	key      string
	password string
}

const drCustomer = "kovacs-csalad"

func newDRHub(t *testing.T) *drHub {
	t.Helper()
	h := newConfigsHub(t)
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil))
	h.api.Logger = logger
	d := &drHub{configsHub: h, handler: api.Middleware(logger, h.mux), logs: logs}
	d.key, d.password = h.createCustomer(`{"customer_id":"` + drCustomer + `","domain":"kovacs-csalad.felhom.eu"}`)
	if res := h.do(cfgRequest{method: "POST", path: "/api/v1/infra-backup", key: d.key,
		body: mustJSON(t, exampleInfraBackup(t, drCustomer))}); res.status != http.StatusCreated {
		t.Fatalf("infra-backup: %d %s", res.status, res.body)
	}
	if res := h.do(cfgRequest{method: "POST", path: "/api/v1/preferences", key: d.key,
		body: []byte(`{"customer_id":"` + drCustomer + `","email":"anna@example.hu","enabled_events":[]}`)}); res.status != http.StatusOK {
		t.Fatalf("preferences: %d %s", res.status, res.body)
	}
	return d
}

// get sends a GET through the request log, as the hub serves it.
func (d *drHub) get(target, password, remote string) cfgResponse {
	d.t.Helper()
	r, err := http.NewRequest("GET", target, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	r.RequestURI = r.URL.RequestURI()
	if password != "" {
		r.Header.Set("X-Retrieval-Password", password)
	}
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	d.handler.ServeHTTP(w, r)
	return cfgResponse{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func (d *drHub) retrievals() []*hub.Retrieval {
	d.t.Helper()
	rows, err := d.db.FindRetrievals(context.Background(), drCustomer, 100)
	if err != nil {
		d.t.Fatal(err)
	}
	return rows
}

// notices returns the customer channel's recovery notices, newest first.
func (d *drHub) notices() []*hub.Notification {
	d.t.Helper()
	all, err := d.db.FindNotifications(context.Background(), hub.NotificationFilter{CustomerID: drCustomer})
	if err != nil {
		d.t.Fatal(err)
	}
	var out []*hub.Notification
	for _, n := range all {
		if n.EventType == "recovery_retrieved" {
			out = append(out, n)
		}
	}
	return out
}

// mint mints a link through the admin API.
func (d *drHub) mint(body string) cfgResponse {
	d.t.Helper()
	return d.do(cfgRequest{method: "POST", path: "/api/v1/admin/customers/" + drCustomer + "/recovery-link", key: testAdminKey, body: []byte(body)})
}

// Every retrieval is an audit row: success, wrong password, missing
// password; a successful recovery retrieval queues the customer's notice,
// at most once an hour.
func TestRetrievalAudit(t *testing.T) {
	d := newDRHub(t)
	base := "http://hub.test/api/v1/"
	if res := d.get(base+"recovery/"+drCustomer, "wrong-password-0123", "203.0.113.9:5000"); res.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", res.status)
	}
	if res := d.get(base+"config/"+drCustomer, "", "203.0.113.9:5000"); res.status != http.StatusUnauthorized {
		t.Fatalf("no password: %d", res.status)
	}
	res := d.get(base+"recovery/"+drCustomer, d.password, "198.51.100.4:5000")
	if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`"has_infra_backup":true`)) {
		t.Fatalf("right password: %d %s", res.status, res.body)
	}
	if res := d.get(base+"config/"+drCustomer, d.password, "198.51.100.4:5000"); res.status != http.StatusOK {
		t.Fatalf("config: %d", res.status)
	}
	rows := d.retrievals()
	want := []struct{ resource, via, outcome, client, detail string }{
		{hub.RetrievalConfig, hub.RetrievalByPassword, hub.RetrievalOK, "198.51.100.4", ""},
		{hub.RetrievalRecovery, hub.RetrievalByPassword, hub.RetrievalOK, "198.51.100.4", ""},
		{hub.RetrievalConfig, hub.RetrievalByPassword, hub.RetrievalDenied, "203.0.113.9", "no password"},
		{hub.RetrievalRecovery, hub.RetrievalByPassword, hub.RetrievalDenied, "203.0.113.9", "wrong password"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d retrieval rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		got := rows[i]
		if got.Resource != w.resource || got.Via != w.via || got.Outcome != w.outcome || got.Client != w.client || got.Detail != w.detail {
			t.Errorf("row %d: %+v, want %+v", i, got, w)
		}
	}
	// One notice for the recovery download (config downloads send none);
	// a second download within the hour is skipped for its cooldown.
	notices := d.notices()
	if len(notices) != 1 || notices[0].Status != hub.NotificationQueued || notices[0].Channel != hub.ChannelCustomer ||
		notices[0].Recipient != "anna@example.hu" {
		t.Fatalf("notices %+v", notices)
	}
	d.clock.Add(30 * time.Minute)
	d.get(base+"recovery/"+drCustomer, d.password, "198.51.100.4:5000")
	if n := d.notices(); len(n) != 2 || n[0].Status != hub.NotificationSkipped || n[0].Reason != hub.SkipCooldown {
		t.Errorf("a second download within the hour: %+v", n[0])
	}
	d.clock.Add(31 * time.Minute)
	d.get(base+"recovery/"+drCustomer, d.password, "198.51.100.4:5000")
	if n := d.notices(); len(n) != 3 || n[0].Status != hub.NotificationQueued {
		t.Errorf("a download an hour later: %+v", n[0])
	}
	if strings.Contains(d.logs.String(), d.password) {
		t.Error("the log holds the retrieval password")
	}
}

// A link is minted with a reason and a TTL of at most 24 h, downloads the
// recovery body once, then answers 410; an expired link answers 410; both
// are audited with the reason; the token never reaches a log.
func TestRecoveryLink(t *testing.T) {
	d := newDRHub(t)
	for _, bad := range []string{`{"reason":"x","ttl":"25h"}`, `{"reason":"","ttl":"1h"}`, `{"reason":"x"}`,
		`{"reason":"x","ttl":"soon"}`, `{"reason":"x","ttl":"-1h"}`, `{"reason":"x","ttl":"1h","extra":1}`} {
		if res := d.mint(bad); res.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, res.status, res.body)
		}
	}
	if res := d.do(cfgRequest{method: "POST", path: "/api/v1/admin/customers/no-such-customer/recovery-link", key: testAdminKey,
		body: []byte(`{"reason":"x","ttl":"1h"}`)}); res.status != http.StatusNotFound {
		t.Errorf("unknown customer: %d", res.status)
	}
	if res := d.do(cfgRequest{method: "POST", path: "/api/v1/admin/customers/" + drCustomer + "/recovery-link", key: d.key,
		body: []byte(`{"reason":"x","ttl":"1h"}`)}); res.status != http.StatusUnauthorized {
		t.Errorf("a customer key minting: %d", res.status)
	}
	res := d.mint(`{"reason":"reinstall after disk failure","ttl":"2h"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("mint: %d %s", res.status, res.body)
	}
	var minted struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(res.body, &minted); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(minted.URL)
	if err != nil || u.Path != "/api/v1/recovery/"+drCustomer+"/link" || len(u.Query().Get("token")) != 64 {
		t.Fatalf("url %q", minted.URL)
	}
	if !minted.ExpiresAt.Equal(d.clock.Now().Add(2 * time.Hour)) {
		t.Errorf("expires_at %v", minted.ExpiresAt)
	}
	token := u.Query().Get("token")

	first := d.get(minted.URL, "", "198.51.100.4:5000")
	byPassword := d.get("http://hub.test/api/v1/recovery/"+drCustomer, d.password, "198.51.100.4:5000")
	if first.status != http.StatusOK || !bytes.Equal(first.body, byPassword.body) {
		t.Fatalf("link download: %d, same body as /recovery: %v", first.status, bytes.Equal(first.body, byPassword.body))
	}
	if again := d.get(minted.URL, "", "198.51.100.4:5000"); again.status != http.StatusGone {
		t.Errorf("second use: %d %s", again.status, again.body)
	}
	// A wrong token and one for another customer's path are 401.
	wrong := strings.Replace(minted.URL, token, strings.Repeat("0", 64), 1)
	if res := d.get(wrong, "", "198.51.100.4:5000"); res.status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", res.status)
	}
	if res := d.get(strings.Replace(minted.URL, "?token=", "?token=%00", 1), "", "198.51.100.4:5000"); res.status != http.StatusUnauthorized {
		t.Errorf("malformed token: %d", res.status)
	}

	res = d.mint(`{"reason":"second try","ttl":"1h"}`)
	_ = json.Unmarshal(res.body, &minted)
	d.clock.Add(time.Hour + time.Second)
	if expired := d.get(minted.URL, "", "198.51.100.4:5000"); expired.status != http.StatusGone {
		t.Errorf("expired link: %d %s", expired.status, expired.body)
	}

	var linkRows []*hub.Retrieval
	for _, r := range d.retrievals() {
		if r.Via == hub.RetrievalByLink {
			linkRows = append(linkRows, r)
		}
	}
	wantOutcomes := []string{hub.RetrievalExpired, hub.RetrievalDenied, hub.RetrievalDenied, hub.RetrievalUsed, hub.RetrievalOK}
	if len(linkRows) != len(wantOutcomes) {
		t.Fatalf("link audit rows %+v", linkRows)
	}
	for i, w := range wantOutcomes {
		if linkRows[i].Outcome != w {
			t.Errorf("link row %d: %s, want %s", i, linkRows[i].Outcome, w)
		}
	}
	if linkRows[4].Detail != "reason: reinstall after disk failure" || linkRows[0].Detail != "reason: second try" {
		t.Errorf("reasons in the audit: %q, %q", linkRows[4].Detail, linkRows[0].Detail)
	}
	// The operator action is in the audit log, with its reason.
	entries, err := d.db.FindAuditEntries(context.Background(), hub.AuditFilter{CustomerID: drCustomer})
	if err != nil || len(entries) == 0 || entries[0].Action != "recovery_link" || !strings.Contains(entries[0].Detail, "second try") {
		t.Errorf("audit log %+v, %v", entries, err)
	}
	logs := d.logs.String()
	if strings.Contains(logs, token) || strings.Contains(logs, hub.HashSecret(token)) || strings.Contains(logs, "token=") {
		t.Errorf("a log line holds the token:\n%s", logs)
	}
	if !strings.Contains(logs, "/api/v1/recovery/"+drCustomer+"/link") {
		t.Error("the request log did not see the link requests at all: the check above proves nothing")
	}
}

// Two requests racing for one link: exactly one downloads.
func TestRecoveryLinkRace(t *testing.T) {
	d := newDRHub(t)
	res := d.mint(`{"reason":"race","ttl":"1h"}`)
	var minted struct{ URL string }
	if err := json.Unmarshal(res.body, &minted); err != nil {
		t.Fatal(err)
	}
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses <- d.get(minted.URL, "", "198.51.100."+string(rune('1'+i))+":5000").status
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusOK] != 1 || counts[http.StatusGone] != n-1 {
		t.Errorf("statuses of %d racing requests: %v", n, counts)
	}
}

// The readiness API: the customer's own key reads its grade; the fleet
// list needs the global key.
func TestDRReadinessAPI(t *testing.T) {
	d := newDRHub(t)
	if res := d.do(cfgRequest{method: "GET", path: "/api/v1/customers/" + drCustomer + "/dr", key: d.key}); res.status != http.StatusNotFound {
		t.Errorf("before any check: %d", res.status)
	}
	checker := &dr.Checker{Store: d.db, Configs: d.api.Configs, Now: d.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	r, ev, err := checker.Check(context.Background(), drCustomer)
	if err != nil {
		t.Fatal(err)
	}
	// The example bundle's controller.yaml is not the hub's: drift.
	if r.Grade != hub.DRAtRisk || ev == nil || ev.Type != hub.EventDRBundleDrift {
		t.Fatalf("grade %s %+v, event %+v", r.Grade, r.Reasons, ev)
	}
	res := d.do(cfgRequest{method: "GET", path: "/api/v1/customers/" + drCustomer + "/dr", key: d.key})
	var got struct {
		CustomerID string         `json:"customer_id"`
		Grade      string         `json:"grade"`
		BundleAt   *time.Time     `json:"bundle_at"`
		Reasons    []hub.DRReason `json:"reasons"`
		CheckedAt  time.Time      `json:"checked_at"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil || res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if got.CustomerID != drCustomer || got.Grade != hub.DRAtRisk || got.BundleAt == nil || len(got.Reasons) == 0 || got.CheckedAt.IsZero() {
		t.Errorf("readiness %+v", got)
	}
	if res := d.do(cfgRequest{method: "GET", path: "/api/v1/dr", key: d.key}); res.status != http.StatusForbidden {
		t.Errorf("fleet list with a customer key: %d", res.status)
	}
	res = d.do(cfgRequest{method: "GET", path: "/api/v1/dr", key: cfgGlobalKey})
	if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`"grade":"at_risk"`)) {
		t.Errorf("fleet list: %d %s", res.status, res.body)
	}
	// A posted DR event is refused: only the hub raises them.
	if res := d.do(cfgRequest{method: "POST", path: "/api/v1/event", key: d.key,
		body: []byte(`{"customer_id":"` + drCustomer + `","event_type":"dr_ready","severity":"info","message":"x"}`)}); res.status != http.StatusBadRequest {
		t.Errorf("posting dr_ready: %d", res.status)
	}
}
