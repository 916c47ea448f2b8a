package fleet_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/controller"
	"github.com/felhom/hub/fleet"
	"github.com/felhom/hub/store"
)

// fakeController records what it receives.
type fakeController struct {
	mu       sync.Mutex
	requests []string // "METHOD path auth body"
	live     string
	status   int
	echo     bool // answer 401 with the Authorization header in the message
}

func (f *fakeController) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, r.Header.Get("Authorization"), body))
	live, status, echo := f.live, f.status, f.echo
	f.mu.Unlock()
	if echo {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"bad key %s"}`, r.Header.Get("Authorization"))
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"apply failed: disk full"}`)
		return
	}
	if r.URL.Path == "/api/config" {
		io.WriteString(w, live)
		return
	}
	io.WriteString(w, `{"status":"ok"}`)
}

func (f *fakeController) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

type env struct {
	db   *store.DB
	svc  *fleet.Service
	fake *fakeController
	url  string
	tmpl *configgen.Templates
	ctx  context.Context
}

func newEnv(t *testing.T, allowInsecure bool) *env {
	t.Helper()
	db := store.NewDB(filepath.Join(t.TempDir(), "hub.db"))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fake := &fakeController{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	logger := slog.New(slog.DiscardHandler)
	tmpl := configgen.NewTemplates(db, logger)
	svc := &fleet.Service{
		Customers: db, Reports: db, Audit: db, Versions: db, Configs: tmpl,
		Controllers: controller.New(controller.Options{
			Policy: controller.Policy{AllowInsecure: allowInsecure}, Timeout: 2 * time.Second, MaxResponseBytes: 1 << 20,
		}),
		VolatileKeys: []string{"runtime"},
		Logger:       logger,
	}
	return &env{db: db, svc: svc, fake: fake, url: srv.URL, tmpl: tmpl, ctx: context.Background()}
}

// managed creates a managed customer that has reported its controller URL.
func (e *env) managed(t *testing.T, id, controllerURL string) *hub.CustomerConfig {
	t.Helper()
	cfg := &hub.CustomerConfig{CustomerID: id, DisplayName: "Kovács", Domain: id + ".felhom.eu", Status: hub.ConfigActive,
		OverridesYAML: "backup:\n  keep_daily: 10\n"}
	if err := e.svc.CreateConfig(e.ctx, "tester", cfg); err != nil {
		t.Fatal(err)
	}
	if controllerURL != "-" {
		e.report(t, fmt.Sprintf(`{"customer_id":%q,"controller_url":%q,"controller_version":"0.7.0"}`, id, controllerURL))
	}
	return cfg
}

func (e *env) report(t *testing.T, body string) {
	t.Helper()
	r, err := hub.ParseReport([]byte(body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateReport(e.ctx, r); err != nil {
		t.Fatal(err)
	}
}

// lastAudit returns the newest audit entry.
func (e *env) lastAudit(t *testing.T) *hub.AuditEntry {
	t.Helper()
	entries, err := e.db.FindAuditEntries(e.ctx, hub.AuditFilter{Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("no audit entry: %v", err)
	}
	return entries[0]
}

func TestPush(t *testing.T) {
	e := newEnv(t, true)
	cfg := e.managed(t, "kovacs", "-")
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, e.url+"/"))
	res, err := e.svc.Push(e.ctx, "operator", "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := e.tmpl.Render(cfg)
	got := e.fake.received()
	if len(got) != 1 || got[0] != "POST /api/config/apply Bearer "+cfg.APIKey+" "+string(want) {
		t.Fatalf("controller received %q", got)
	}
	if res.Bytes != len(want) || res.ControllerMessage != "ok" {
		t.Errorf("result %+v", res)
	}
	if a := e.lastAudit(t); a.Action != fleet.ActionPush || a.Actor != "operator" || a.Result != hub.AuditOK || a.CustomerID != "kovacs" {
		t.Errorf("audit %+v", a)
	}
}

func TestPushFailures(t *testing.T) {
	e := newEnv(t, true)
	e.managed(t, "kovacs", "-")
	e.managed(t, "silent", "-")
	e.managed(t, "nourl", "-")
	e.report(t, `{"customer_id":"nourl"}`)
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, e.url))
	e.report(t, `{"customer_id":"manual","controller_url":"https://manual.example"}`)

	e.fake.status = http.StatusInternalServerError
	_, err := e.svc.Push(e.ctx, "operator", "kovacs")
	if hub.ErrorCode(err) != hub.EUPSTREAM || !strings.Contains(hub.ErrorMessage(err), "HTTP 500: apply failed: disk full") {
		t.Fatalf("controller 500: %v", err)
	}
	if a := e.lastAudit(t); a.Result != hub.AuditError || !strings.Contains(a.Detail, "disk full") {
		t.Errorf("audit %+v", a)
	}
	for id, code := range map[string]string{
		"silent": hub.ECONFLICT, // never reported
		"nourl":  hub.ECONFLICT, // reported without controller_url
		"manual": hub.ENOTFOUND, // no config
		"nobody": hub.ENOTFOUND,
	} {
		if _, err := e.svc.Push(e.ctx, "operator", id); hub.ErrorCode(err) != code {
			t.Errorf("%s: %v, want %s", id, err, code)
		}
	}
}

func TestPushRefusedByPolicy(t *testing.T) {
	e := newEnv(t, false) // allow_insecure off
	e.managed(t, "kovacs", "-")
	for _, u := range []string{e.url, strings.Replace(e.url, "http://", "https://", 1), "https://169.254.169.254"} {
		e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, u))
		_, err := e.svc.Push(e.ctx, "operator", "kovacs")
		if hub.ErrorCode(err) != hub.EFORBIDDEN || !strings.Contains(hub.ErrorMessage(err), "refused by policy") {
			t.Errorf("%s: %v", u, err)
		}
	}
	if got := e.fake.received(); len(got) != 0 {
		t.Errorf("the loopback controller was reached: %q", got)
	}
}

func TestDiffAndPull(t *testing.T) {
	e := newEnv(t, true)
	cfg := e.managed(t, "kovacs", "-")
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, e.url))
	generated, _ := e.tmpl.Render(cfg)

	// In sync: the live config is what the hub generates, plus volatile keys.
	e.fake.live = string(generated) + "runtime:\n  booted: now\n"
	d, err := e.svc.Diff(e.ctx, "operator", "kovacs")
	if err != nil || !d.InSync {
		t.Fatalf("diff in sync: %+v %v", d, err)
	}

	// Hand-edited live config.
	live := strings.NewReplacer(
		`name: "Kovács"`, `name: "Kovács család"`,
		`tunnel_token: ""`, `tunnel_token: "live-tunnel"`,
		`keep_daily: 10`, `keep_daily: 21`,
		`channel: stable`, `channel: beta`,
		cfg.APIKey, "some-other-key",
	).Replace(string(generated))
	e.fake.live = live
	d, err = e.svc.Diff(e.ctx, "operator", "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range d.Changes {
		keys = append(keys, c.Key+"="+c.Type)
		if c.Secret && (c.Hub != configgen.Mask && c.Hub != "" || c.Live != configgen.Mask) {
			t.Errorf("secret %s not masked: %+v", c.Key, c)
		}
	}
	wantKeys := "backup.keep_daily=changed cloudflare.tunnel_token=changed customer.name=changed hub.api_key=changed updates.channel=changed"
	if strings.Join(keys, " ") != wantKeys {
		t.Errorf("diff keys %q, want %q", strings.Join(keys, " "), wantKeys)
	}

	res, err := e.svc.Pull(e.ctx, "operator", "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Updated, ",") != "display_name,cloudflare_tunnel_token,overrides_yaml" {
		t.Errorf("updated %v", res.Updated)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "hub.api_key differs") {
		t.Errorf("warnings %v", res.Warnings)
	}
	stored, _ := e.db.FindCustomerConfig(e.ctx, "kovacs")
	if stored.DisplayName != "Kovács család" || stored.CloudflareTunnelToken != "live-tunnel" || stored.APIKey != cfg.APIKey {
		t.Errorf("stored after pull: %+v", stored)
	}
	// After the pull, only the credentials differ.
	d, _ = e.svc.Diff(e.ctx, "operator", "kovacs")
	if len(d.Changes) != 1 || d.Changes[0].Key != "hub.api_key" {
		t.Errorf("after pull: %+v", d.Changes)
	}

	// A live config of another customer is refused and nothing is stored.
	e.fake.live = strings.Replace(live, `id: "kovacs"`, `id: "somebody"`, 1)
	if _, err := e.svc.Pull(e.ctx, "operator", "kovacs"); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Fatalf("foreign config: %v", err)
	}
	// A live answer that is not YAML is the controller's fault.
	e.fake.live = "<html>502</html>"
	if _, err := e.svc.Pull(e.ctx, "operator", "kovacs"); hub.ErrorCode(err) != hub.EUPSTREAM {
		t.Fatalf("html: %v", err)
	}
	if _, err := e.svc.Diff(e.ctx, "operator", "kovacs"); hub.ErrorCode(err) != hub.EUPSTREAM {
		t.Fatalf("html diff: %v", err)
	}
	// A live domain the hub cannot accept is refused.
	e.fake.live = strings.Replace(live, `domain: "kovacs.felhom.eu"`, `domain: "not a domain"`, 1)
	if _, err := e.svc.Pull(e.ctx, "operator", "kovacs"); hub.ErrorCode(err) != hub.EUPSTREAM {
		t.Fatalf("bad domain: %v", err)
	}
	if after, _ := e.db.FindCustomerConfig(e.ctx, "kovacs"); after.Domain != "kovacs.felhom.eu" {
		t.Errorf("refused pull changed the domain to %q", after.Domain)
	}
}

func TestTriggerUpdate(t *testing.T) {
	e := newEnv(t, true)
	cfg := e.managed(t, "kovacs", "-")
	e.report(t, fmt.Sprintf(`{"customer_id":"kovacs","controller_url":%q}`, e.url))
	if _, err := e.svc.TriggerUpdate(e.ctx, "operator", "kovacs", ""); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Fatalf("no version known: %v", err)
	}
	if err := e.db.SetLatestControllerVersion(e.ctx, &hub.ControllerVersion{Image: "x/y", Version: "v0.8.1"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.TriggerUpdate(e.ctx, "operator", "kovacs", "")
	if err != nil || res.Version != "v0.8.1" {
		t.Fatalf("latest: %+v %v", res, err)
	}
	if _, err := e.svc.TriggerUpdate(e.ctx, "operator", "kovacs", "0.9.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TriggerUpdate(e.ctx, "operator", "kovacs", "latest; rm -rf /"); hub.ErrorCode(err) != hub.EINVALID {
		t.Fatalf("bad version: %v", err)
	}
	got := e.fake.received()
	want := []string{
		"POST /api/update Bearer " + cfg.APIKey + ` {"version":"v0.8.1"}`,
		"POST /api/update Bearer " + cfg.APIKey + ` {"version":"0.9.0"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("received %q", got)
	}
}

func TestCreateConfigFromReportAndDelete(t *testing.T) {
	e := newEnv(t, true)
	e.report(t, `{"customer_id":"manual-one","controller_url":"https://manual-one.felhom.eu","system":{"hostname":"felhom-node-7"}}`)
	e.report(t, `{"customer_id":"manual-two","controller_url":"https://10.0.0.5:8443","customer":{"name":"Szabó Kft.","domain":"szabo.felhom.eu"}}`)
	cfg, err := e.svc.CreateConfigFromReport(e.ctx, "operator", "manual-one")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DisplayName != "felhom-node-7" || cfg.Domain != "manual-one.felhom.eu" || cfg.APIKey == "" || cfg.RetrievalPassword == "" {
		t.Errorf("from hostname and URL: %+v", cfg)
	}
	cfg, err = e.svc.CreateConfigFromReport(e.ctx, "operator", "manual-two")
	if err != nil || cfg.DisplayName != "Szabó Kft." || cfg.Domain != "szabo.felhom.eu" {
		t.Errorf("from the report's customer section: %+v %v", cfg, err)
	}
	if _, err := e.svc.CreateConfigFromReport(e.ctx, "operator", "manual-one"); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("already managed: %v", err)
	}
	if _, err := e.svc.CreateConfigFromReport(e.ctx, "operator", "nobody"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("unknown: %v", err)
	}

	// Delete: the customer reappears as manual while reports continue.
	if err := e.svc.DeleteConfig(e.ctx, "operator", "manual-one"); err != nil {
		t.Fatal(err)
	}
	e.report(t, `{"customer_id":"manual-one"}`)
	c, err := e.db.FindCustomerByID(e.ctx, "manual-one")
	if err != nil || c.Managed {
		t.Errorf("after delete: %+v %v", c, err)
	}
	entries, _ := e.db.FindAuditEntries(e.ctx, hub.AuditFilter{CustomerID: "manual-one"})
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action+":"+a.Result)
	}
	want := "config.delete:ok config.create_from_report:error config.create_from_report:ok"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit %q, want %q", strings.Join(actions, " "), want)
	}
}

func TestBlockUnblockAndRotateAreAudited(t *testing.T) {
	e := newEnv(t, true)
	e.managed(t, "kovacs", "-")
	if err := e.svc.SetBlocked(e.ctx, "dashboard", "kovacs", true); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.db.FindCustomerByID(e.ctx, "kovacs"); !c.Blocked {
		t.Error("not blocked")
	}
	if err := e.svc.SetBlocked(e.ctx, "dashboard", "kovacs", false); err != nil {
		t.Fatal(err)
	}
	key, err := e.svc.RotateKey(e.ctx, "dashboard", "kovacs")
	if err != nil || len(key) != 64 {
		t.Fatalf("rotate: %q %v", key, err)
	}
	if err := e.svc.SetBlocked(e.ctx, "dashboard", "nobody", true); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("unknown: %v", err)
	}
	entries, _ := e.db.FindAuditEntries(e.ctx, hub.AuditFilter{})
	var got []string
	for _, a := range entries {
		got = append(got, a.Actor+" "+a.Action+" "+a.CustomerID+" "+a.Result)
		if strings.Contains(a.Detail, key) {
			t.Error("audit detail holds the new key")
		}
	}
	want := []string{
		"dashboard customer.block nobody error",
		"dashboard customer.rotate_key kovacs ok",
		"dashboard customer.unblock kovacs ok",
		"dashboard customer.block kovacs ok",
		"tester config.create kovacs ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPreviewConfigMasksSecrets(t *testing.T) {
	e := newEnv(t, true)
	cfg := e.managed(t, "kovacs", "-")
	if _, err := e.svc.UpdateConfig(e.ctx, "tester", "kovacs", func(c *hub.CustomerConfig) error {
		c.CloudflareTunnelToken = "eyJhIjoiY2xvdWRmbGFyZSJ9"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := e.db.FindAuditEntries(e.ctx, hub.AuditFilter{})
	out, err := e.svc.PreviewConfig(e.ctx, "kovacs")
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, secret := range []string{cfg.APIKey, cfg.SessionSecret, "eyJhIjoiY2xvdWRmbGFyZSJ9"} {
		if strings.Contains(text, secret) {
			t.Errorf("preview shows a secret:\n%s", text)
		}
	}
	if !strings.Contains(text, `id: "kovacs"`) || !strings.Contains(text, "keep_daily: 10") || !strings.Contains(text, configgen.Mask) {
		t.Errorf("preview:\n%s", text)
	}
	if after, _ := e.db.FindAuditEntries(e.ctx, hub.AuditFilter{}); len(after) != len(before) {
		t.Error("a preview was audited")
	}
	if _, err := e.svc.PreviewConfig(e.ctx, "nobody"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("unknown customer: %v", err)
	}
}
