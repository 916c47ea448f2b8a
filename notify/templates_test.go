package notify_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/notify"
)

var update = flag.Bool("update", false, "rewrite the sample mails in docs/emails")

// specEventTypes are the event types of SPEC §2.4: 22 from controllers, 5
// of the hub, and the 3 host types of v0.7.0.
var specEventTypes = []string{
	"backup_completed", "backup_failed", "dbdump_completed", "dbdump_failed",
	"restore_completed", "restore_failed", "disk_space_warning", "disk_space_critical",
	"disk_health_warning", "disk_missing", "container_unhealthy", "container_restarted",
	"app_installed", "app_removed", "app_updated", "app_update_failed",
	"controller_updated", "controller_update_failed", "config_applied", "config_apply_failed",
	"certificate_expiring", "tunnel_down",
	"node_stale", "node_down", "node_recovered", "expected_backup_missed", "expected_dbdump_missed",
	"host_stale", "host_down", "host_recovered",
}

func mustTemplates(tb testing.TB) *notify.Templates {
	tb.Helper()
	tpl, err := notify.ParseTemplates()
	if err != nil {
		tb.Fatal(err)
	}
	return tpl
}

func TestTemplatesCoverEveryEventType(t *testing.T) {
	tpl := mustTemplates(t)
	registry := append(hub.EventTypes(hub.SourceController), hub.EventTypes(hub.SourceHub)...)
	for _, typ := range specEventTypes {
		if !slices.Contains(registry, typ) {
			t.Errorf("event type %s of the SPEC is not in the hub's registry", typ)
		}
	}
	for _, typ := range registry {
		for _, lang := range []string{notify.English, notify.Hungarian} {
			if lang == notify.Hungarian && hub.OperatorOnlyEventType(typ) {
				// Operator-only types are never mailed to a customer.
				if tpl.Has(lang, typ) {
					t.Errorf("operator-only type %s has a Hungarian template nobody reads", typ)
				}
				continue
			}
			if !tpl.Has(lang, typ) {
				t.Errorf("no %s template for event type %s", lang, typ)
			}
		}
	}
	// No stray templates: every file is an event type or a known extra.
	for _, lang := range []string{notify.English, notify.Hungarian} {
		for _, name := range tpl.Names(lang) {
			if !slices.Contains(registry, name) && name != "generic" && !(lang == notify.English && name == "relay") &&
				!(lang == notify.Hungarian && (name == "digest" || name == notify.RecoveryRetrievedType)) {
				t.Errorf("%s template %s is not an event type", lang, name)
			}
		}
	}
}

// sampleData is a mail about a customer whose id must never reach a
// customer mail.
func sampleData(typ string, details map[string]any) *notify.MailData {
	budapest, _ := time.LoadLocation("Europe/Budapest")
	return &notify.MailData{
		CustomerID: "kovacs-csalad-7f3a", CustomerName: "Kovács család", Node: "felhom-kovacs",
		EventType: typ, Severity: "error", Message: "/mnt/hdd1 is 91% full <b>bold</b>",
		When:         time.Date(2026, 11, 22, 9, 44, 58, 0, time.UTC).In(budapest),
		DashboardURL: "https://hub.felhom.eu/customers/kovacs-csalad-7f3a",
		Details:      details,
	}
}

func TestTemplatesRender(t *testing.T) {
	tpl := mustTemplates(t)
	detailSets := map[string]map[string]any{
		"no details":   nil,
		"with details": {"app": "Nextcloud <script>", "used_percent": 91.2, "version": "v1.5.0", "domain": "kovacs.felhom.eu"},
	}
	for _, typ := range specEventTypes {
		for setName, details := range detailSets {
			t.Run(typ+"/"+setName, func(t *testing.T) {
				en, err := tpl.Render(notify.English, typ, sampleData(typ, details))
				if err != nil {
					t.Fatal(err)
				}
				hu, err := tpl.Render(notify.Hungarian, typ, sampleData(typ, details))
				if err != nil {
					t.Fatal(err)
				}
				for lang, r := range map[string]*notify.Rendered{"en": en, "hu": hu} {
					all := r.Subject + r.Text + r.HTML
					for _, bad := range []string{"{{", "}}", "<no value>", "%!"} {
						if strings.Contains(all, bad) {
							t.Errorf("%s mail contains %q:\n%s\n%s", lang, bad, r.Subject, r.Text)
						}
					}
					if strings.Contains(r.HTML, "<script>") {
						t.Errorf("%s html does not escape details", lang)
					}
					if r.Subject == "" || strings.ContainsAny(r.Subject, "\r\n") {
						t.Errorf("%s subject %q", lang, r.Subject)
					}
					if !strings.Contains(r.HTML, `<html lang="`+lang+`">`) {
						t.Errorf("%s html has no lang", lang)
					}
				}
				// Operator: English, with the facts and the link.
				for _, want := range []string{"Kovács család (kovacs-csalad-7f3a)", "felhom-kovacs", typ,
					"Sun 22 Nov 2026 10:44 CET", "https://hub.felhom.eu/customers/kovacs-csalad-7f3a", "/mnt/hdd1 is 91% full"} {
					if !strings.Contains(en.Text, want) {
						t.Errorf("operator text lacks %q:\n%s", want, en.Text)
					}
				}
				if !strings.HasPrefix(en.Subject, "[ERROR] Kovács család (kovacs-csalad-7f3a): ") {
					t.Errorf("operator subject %q", en.Subject)
				}
				if !strings.Contains(en.HTML, "&lt;b&gt;bold&lt;/b&gt;") || strings.Contains(en.HTML, "<b>bold") {
					t.Errorf("operator html does not escape the message")
				}
				// Customer: polite Hungarian, no internal ids, no jargon.
				for _, want := range []string{"Tisztelt Ügyfelünk!", "Üdvözlettel:", "A Felhom csapata", "2026. november 22. 10:44"} {
					if !strings.Contains(hu.Text, want) || !strings.Contains(hu.HTML, want) {
						t.Errorf("customer mail lacks %q:\n%s", want, hu.Text)
					}
				}
				if !strings.HasPrefix(hu.Subject, "Felhom: ") || !strings.ContainsAny(hu.Subject+hu.Text, "áéíóöőúüű") {
					t.Errorf("customer mail without Hungarian accents: %s\n%s", hu.Subject, hu.Text)
				}
				for _, banned := range []string{"kovacs-csalad-7f3a", "felhom-kovacs", "hub.felhom.eu", typ,
					"/mnt/hdd1", "error", "warning", "controller", "node", "container", "Dear"} {
					if strings.Contains(hu.Subject+hu.Text, banned) {
						t.Errorf("customer mail contains %q:\n%s\n%s", banned, hu.Subject, hu.Text)
					}
				}
				if details != nil && strings.Contains(hu.Text, "Nextcloud") && !strings.Contains(hu.HTML, "Nextcloud &lt;script&gt;") {
					t.Errorf("customer html does not escape details")
				}
			})
		}
	}
}

func TestTemplatesFallBackToGeneric(t *testing.T) {
	tpl := mustTemplates(t)
	r, err := tpl.Render(notify.Hungarian, "some_future_type", sampleData("some_future_type", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "Tisztelt Ügyfelünk!") {
		t.Fatalf("generic mail:\n%s", r.Text)
	}
}

// captureQueue runs a dispatcher's planner on a fixed state and keeps
// what it planned.
type captureQueue struct {
	hub.NotificationQueue
	state   *hub.NotificationState
	planned []*hub.PlannedNotification
}

func (q *captureQueue) EnqueueNotifications(_ context.Context, _ string, _ int64, plan hub.NotificationPlanner) (bool, error) {
	p, err := plan(q.state)
	q.planned = append(q.planned, p...)
	return err == nil, err
}

// TestSampleEmails renders the samples in docs/emails through the
// dispatcher; -update rewrites them.
func TestSampleEmails(t *testing.T) {
	queue := &captureQueue{state: &hub.NotificationState{
		Now: time.Date(2026, 11, 22, 9, 45, 3, 0, time.UTC),
		Customer: &hub.Customer{ID: "kovacs-csalad", DisplayName: "Kovács család",
			Latest: &hub.ReportSummary{Hostname: "felhom-kovacs"}},
		Prefs: &hub.NotificationPrefs{CustomerID: "kovacs-csalad", Email: "kovacs.anna@example.hu",
			EnabledEvents: []string{"backup_failed", "disk_space_warning", "node_down"}},
	}}
	d, err := notify.NewDispatcher(queue, notify.Policy{OperatorEnabled: true, OperatorEmail: "operator@felhom.eu",
		OperatorCooldown: time.Hour, CustomerEnabled: true, DefaultCustomerCooldown: 6 * time.Hour},
		mustTemplates(t), "https://hub.felhom.eu")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	disk, err := hub.ParseEvent(example, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	disk.ID, disk.ReceivedAt = 41, queue.state.Now
	backup := &hub.Event{ID: 42, CustomerID: "kovacs-csalad", Type: "backup_failed", Severity: "error",
		Message: "restic backup to /mnt/hdd1/restic failed: repository is locked", Details: json.RawMessage(`{}`),
		OccurredAt: time.Date(2026, 11, 22, 2, 14, 51, 0, time.UTC), ReceivedAt: queue.state.Now}
	for _, e := range []*hub.Event{disk, backup} {
		if err := d.DispatchEvent(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	samples := map[string]*hub.Email{}
	for _, p := range queue.planned {
		if p.Email == nil {
			t.Fatalf("not queued: %+v", p)
		}
		samples[p.Channel+"-"+p.EventType] = p.Email
	}
	for _, name := range []string{"operator-disk_space_warning", "customer-disk_space_warning", "customer-backup_failed"} {
		m := samples[name]
		if m == nil {
			t.Fatalf("no sample %s", name)
		}
		files := map[string]string{
			name + ".txt":  "To: " + m.To + "\nSubject: " + m.Subject + "\n\n" + m.Text,
			name + ".html": m.HTML,
		}
		for file, content := range files {
			path := filepath.Join("..", "docs", "emails", file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./notify -run TestSampleEmails -update)", err)
			}
			if string(got) != content {
				t.Errorf("%s is out of date: run go test ./notify -run TestSampleEmails -update", path)
			}
		}
	}
}
