package fleetsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/store"
)

const (
	globalKey = "fleetsim-test-global-key"
	adminKey  = "fleetsim-test-admin-token-0123456789abcdef"
)

func newHub(t *testing.T) (*httptest.Server, *store.DB) {
	t.Helper()
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := &api.Server{Reports: db, Customers: db, Events: db, Hosts: db, History: db, InfraBackups: db, DB: db, RateLimits: db, Audit: db, Versions: db, DR: db, RecoveryAccess: db,
		Configs: configgen.NewTemplates(db, slog.New(slog.DiscardHandler)), GlobalKey: globalKey, AdminKey: adminKey,
		Thresholds: hub.DefaultThresholds, Version: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); db.Close() })
	return srv, db
}

func TestReportSizes(t *testing.T) {
	for _, size := range []int{2 << 10, 20 << 10, 40 << 10} {
		n := fleetsim.NewNode("size-test", 7, size)
		body := n.Report(time.Now(), true)
		if got := len(body); got < size*8/10 || got > size*12/10 {
			t.Errorf("target %d bytes, got %d", size, got)
		}
		if _, err := hub.ParseReport(body, time.Now()); err != nil {
			t.Errorf("the hub rejects a simulated report: %v", err)
		}
	}
}

// TestReportsAreRealistic checks that a report's size comes from varied
// containers, not from padding, so that compression measurements mean
// something.
func TestReportsAreRealistic(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)
	n := fleetsim.NewNode("realism", 11, 20<<10)
	body := n.Report(now, true)
	var raw struct {
		Containers []struct {
			ID          string            `json:"id"`
			Image       string            `json:"image"`
			ImageDigest string            `json:"image_digest"`
			Labels      map[string]string `json:"labels"`
			Mounts      []any             `json:"mounts"`
		} `json:"containers"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if c := len(raw.Containers); c < 10 || c > 40 {
		t.Errorf("a 20 KB report has %d containers, want 10 to 40", c)
	}
	var whole struct {
		Containers json.RawMessage `json:"containers"`
	}
	if err := json.Unmarshal(body, &whole); err != nil {
		t.Fatal(err)
	}
	if share := float64(len(whole.Containers)) / float64(len(body)); share < 0.6 {
		t.Errorf("containers are %.0f%% of the report, want most of it", share*100)
	}
	images, ids := map[string]bool{}, map[string]bool{}
	for _, c := range raw.Containers {
		if len(c.ImageDigest) != len("sha256:")+64 || len(c.Labels) < 5 || c.Mounts == nil || !strings.Contains(c.Image, ":") {
			t.Errorf("container %+v lacks realistic detail", c)
		}
		images[c.Image], ids[c.ID] = true, true
	}
	if len(images) < len(raw.Containers)/2 || len(ids) != len(raw.Containers) {
		t.Errorf("%d images and %d ids over %d containers: not varied", len(images), len(ids), len(raw.Containers))
	}
	if bytes.Contains(body, []byte("probe_")) {
		t.Error("the report is padded with probe checks")
	}
	// Time moves the metrics: two reports of one node differ.
	n.Tick(15 * time.Minute)
	if next := n.Report(now.Add(15*time.Minute), true); bytes.Equal(next, body) {
		t.Error("a node's next report is identical")
	}
	host := n.HostReport("realism-abc123", now)
	if _, err := hub.ParseHostReport(host); err != nil {
		t.Errorf("the hub rejects a simulated host report: %v", err)
	}
}

func TestRegisterLoadAndDemoRound(t *testing.T) {
	ctx := context.Background()
	srv, db := newHub(t)
	ctrl, err := fleetsim.StartControllers("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ctrl.Close()
	client := fleetsim.NewClient(srv.URL, globalKey, 4)
	client.AdminKey = adminKey
	fleet, err := fleetsim.Register(ctx, client, fleetsim.Options{Customers: 40, Seed: 3, Controllers: ctrl})
	if err != nil {
		t.Fatal(err)
	}
	// Registering again reuses the customers and their keys.
	again, err := fleetsim.Register(ctx, client, fleetsim.Options{Customers: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if again.Nodes[0].Key != fleet.Nodes[0].Key {
		t.Error("re-registration minted new keys")
	}

	seen := map[fleetsim.Behaviour]int{}
	for _, n := range fleet.Nodes {
		seen[n.Behaviour]++
	}
	for _, b := range []fleetsim.Behaviour{fleetsim.Steady, fleetsim.Silent, fleetsim.Warning, fleetsim.Flappy, fleetsim.Paused, fleetsim.Blocked, fleetsim.Manual, fleetsim.Pending} {
		if seen[b] == 0 {
			t.Errorf("a 40-node fleet has no %s node", b)
		}
	}

	// One demo round: every status the dashboard shows appears.
	if failed := fleet.Round(ctx, 0, time.Now(), true); failed != 0 {
		t.Fatalf("%d requests failed in a demo round", failed)
	}
	customers, err := db.FindCustomers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[hub.Status]int{}
	for _, c := range customers {
		statuses[c.Status(time.Now(), hub.DefaultThresholds)]++
	}
	for _, s := range []hub.Status{hub.StatusOK, hub.StatusWarn, hub.StatusDisabled, hub.StatusBlocked, hub.StatusPending} {
		if statuses[s] == 0 {
			t.Errorf("no customer is %s after a demo round: %v", s, statuses)
		}
	}

	res, err := fleet.Load(ctx, 4, 200, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.Errors != 0 || res.P99 < res.P50 || res.P50 <= 0 {
		t.Errorf("load result %+v", res)
	}
}

func TestControllersServeConfigAndUpdate(t *testing.T) {
	ctrl, err := fleetsim.StartControllers("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ctrl.Close()
	base := ctrl.Add("ab", "key-1", "v1.3.0", []byte("customer:\n  id: ab\n"))
	get := func(key string) int {
		req, _ := http.NewRequest("GET", base+"/api/config", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("key-1") != 200 || get("wrong") != 401 {
		t.Error("controller auth is wrong")
	}
	req, _ := http.NewRequest("POST", base+"/api/update", jsonBody(t, map[string]string{"version": "v1.4.2"}))
	req.Header.Set("Authorization", "Bearer key-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || ctrl.Version("ab") != "v1.4.2" {
		t.Errorf("update: %d, version %s", resp.StatusCode, ctrl.Version("ab"))
	}
}

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(json.NewEncoder(pw).Encode(v)) }()
	return pr
}
