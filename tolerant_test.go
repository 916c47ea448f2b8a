package hub_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	hub "github.com/felhom/hub"
)

// paths returns the paths of problems, space-separated.
func paths(ps hub.FieldProblems) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path)
	}
	return strings.Join(out, " ")
}

func TestParseReportTolerant(t *testing.T) {
	tests := []struct {
		name, body, problems string
		check                func(t *testing.T, r *hub.Report, s hub.ReportSummary)
	}{
		{"storage as an object", `{"customer_id":"ab","storage":{"/":{"total_bytes":10,"used_bytes":5}}}`, "storage",
			func(t *testing.T, r *hub.Report, s hub.ReportSummary) {
				if len(r.Storage) != 0 || s.DiskPercent != 0 {
					t.Errorf("storage %v, disk %v", r.Storage, s.DiskPercent)
				}
			}},
		{"numbers as strings left out", `{"customer_id":"ab","system":{"cpu_percent":"42","load1":"1"}}`, "system.cpu_percent system.load1",
			func(t *testing.T, r *hub.Report, s hub.ReportSummary) {
				if r.System.HasCPU || s.CPUPercent != 0 {
					t.Errorf("cpu read from a string: %v", s.CPUPercent)
				}
			}},
		{"health in capitals", `{"customer_id":"ab","health":" OK "}`, "",
			func(t *testing.T, r *hub.Report, _ hub.ReportSummary) {
				if r.Health != hub.HealthOK {
					t.Errorf("health %q", r.Health)
				}
			}},
		{"unknown health is warn", `{"customer_id":"ab","health":"degraded"}`, "health",
			func(t *testing.T, r *hub.Report, _ hub.ReportSummary) {
				if r.Health != hub.HealthWarn {
					t.Errorf("health %q", r.Health)
				}
			}},
		{"health not a string", `{"customer_id":"ab","health":1}`, "health", nil},
		{"time not RFC 3339", `{"customer_id":"ab","reported_at":"22/11/2026 09:45"}`, "reported_at",
			func(t *testing.T, r *hub.Report, _ hub.ReportSummary) {
				if r.ReportedAt != nil {
					t.Error("reported_at read")
				}
			}},
		{"1e300 used bytes", `{"customer_id":"ab","storage":[{"total_bytes":100,"used_bytes":1e300},{"total_bytes":100,"used_bytes":40}]}`, "storage[0].used_bytes",
			func(t *testing.T, r *hub.Report, s hub.ReportSummary) {
				if s.DiskPercent != 40 {
					t.Errorf("disk %v, want 40 from the readable disk", s.DiskPercent)
				}
			}},
		{"beyond float64", `{"customer_id":"ab","system":{"mem_total_bytes":1e999,"mem_used_bytes":1}}`, "system.mem_total_bytes", nil},
		{"beyond 2^53", `{"customer_id":"ab","system":{"uptime_seconds":9007199254740993}}`, "system.uptime_seconds", nil},
		{"negative bytes", `{"customer_id":"ab","storage":[{"total_bytes":-1,"used_bytes":1}]}`, "storage[0].total_bytes", nil},
		{"used beyond total", `{"customer_id":"ab","system":{"mem_total_bytes":10,"mem_used_bytes":11}}`, "system.mem_used_bytes",
			func(t *testing.T, r *hub.Report, s hub.ReportSummary) {
				if r.System.HasMem || s.MemPercent != 0 {
					t.Errorf("mem %v", s.MemPercent)
				}
			}},
		{"percent clamped from rounding", `{"customer_id":"ab","system":{"cpu_percent":100.4}}`, "",
			func(t *testing.T, _ *hub.Report, s hub.ReportSummary) {
				if s.CPUPercent != 100 {
					t.Errorf("cpu %v, want 100", s.CPUPercent)
				}
			}},
		{"percent implausible", `{"customer_id":"ab","system":{"cpu_percent":350}}`, "system.cpu_percent", nil},
		{"backup in the future", `{"customer_id":"ab","backups":{"last_backup_at":"2031-01-01T00:00:00Z","last_backup_status":"ok"}}`, "backups.last_backup_at",
			func(t *testing.T, r *hub.Report, s hub.ReportSummary) {
				if s.LastBackupAt != nil || s.LastBackupStatus != "ok" {
					t.Errorf("backup %v %q", s.LastBackupAt, s.LastBackupStatus)
				}
			}},
		{"bad entries of a list skipped", `{"customer_id":"ab","containers":[1,null,{"name":"a","state":"running"},{"name":7}]}`, "containers[0] containers[3].name",
			func(t *testing.T, r *hub.Report, s hub.ReportSummary) {
				if s.ContainersTotal != 2 || s.ContainersRunning != 1 {
					t.Errorf("containers %d/%d", s.ContainersRunning, s.ContainersTotal)
				}
			}},
		{"control characters in a one-line field", "{\"customer_id\":\"ab\",\"controller_version\":\"1.0\\n2.0\"}", "controller_version", nil},
		{"keys in other case", `{"CUSTOMER_ID":"ab","Health":"ok"}`, "",
			func(t *testing.T, r *hub.Report, _ hub.ReportSummary) {
				if r.Health != hub.HealthOK {
					t.Errorf("health %q", r.Health)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := hub.ParseReport([]byte(tt.body), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(r.Problems); got != tt.problems {
				t.Fatalf("problems at %q, want %q: %+v", got, tt.problems, r.Problems)
			}
			for _, p := range r.Problems {
				if p.Reason == "" {
					t.Errorf("problem at %s has no reason", p.Path)
				}
			}
			if tt.check != nil {
				tt.check(t, r, r.Summarize(testNow))
			}
		})
	}
}

func TestFieldProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"customer_id":"ab","containers":[`)
	for i := range 500 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"name":1}`)
	}
	b.WriteString(`]}`)
	r, err := hub.ParseReport([]byte(b.String()), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != hub.MaxFieldProblems || !strings.Contains(r.Problems[len(r.Problems)-1].Reason, "451 more") {
		t.Fatalf("%d problems, last %+v", len(r.Problems), r.Problems[len(r.Problems)-1])
	}
	if back := hub.ParseFieldProblems(r.Problems.Encode()); len(back) != len(r.Problems) {
		t.Fatalf("stored form reads back %d problems", len(back))
	}
	if hub.ParseFieldProblems("") != nil || len(hub.ParseFieldProblems("{broken")) != 1 {
		t.Error("ParseFieldProblems of the empty or a broken stored form")
	}
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	body := []byte("{\"customer_id\":\"ab\",\"system\":{\"hostname\":\"felhom-\xff\xfe\"},\"note\":\"\xc3\"}")
	r, err := hub.ParseReport(body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(r.Raw) || !json.Valid(r.Raw) {
		t.Fatalf("stored body %q is not valid UTF-8 JSON", r.Raw)
	}
	if r.System.Hostname != "felhom-\uFFFD" {
		t.Errorf("hostname %q", r.System.Hostname)
	}
	valid := []byte(`{"customer_id":"ab"}`)
	if got := hub.SanitizeUTF8(valid); &got[0] != &valid[0] {
		t.Error("a valid body was copied")
	}
}

func TestParseEventTolerant(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, body, problems string
		typ, severity        string
		known                bool
		check                func(t *testing.T, e *hub.Event)
	}{
		{"no severity", `{"customer_id":"ab","event_type":"backup_failed","message":"x"}`, "severity", "backup_failed", "warning", true, nil},
		{"severity in capitals", `{"customer_id":"ab","event_type":"backup_failed","severity":"Error"}`, "", "backup_failed", "error", true, nil},
		{"empty message", `{"customer_id":"ab","event_type":"app_updated","severity":"info","message":""}`, "", "app_updated", "info", true, nil},
		{"unknown well-formed type", `{"customer_id":"ab","event_type":"smart_prefail","severity":"error","message":"x"}`, "", "smart_prefail", "error", false, nil},
		{"type in other case", `{"customer_id":"ab","event_type":"Backup_Completed","severity":"info"}`, "", "backup_completed", "info", true, nil},
		{"malformed type", `{"customer_id":"ab","event_type":"a b","severity":"info"}`, "event_type", hub.UnknownEventType, "info", false, nil},
		{"no type", `{"customer_id":"ab","severity":"info"}`, "event_type", hub.UnknownEventType, "info", false, nil},
		{"details_json as a string", `{"customer_id":"ab","event_type":"tunnel_down","severity":"error","details_json":"{\"a\": 1}"}`, "", "tunnel_down", "error", true,
			func(t *testing.T, e *hub.Event) {
				if string(e.Details) != `{"a":1}` {
					t.Errorf("details %s", e.Details)
				}
			}},
		{"details_json as an object", `{"customer_id":"ab","event_type":"tunnel_down","severity":"error","details_json":{"a":1}}`, "", "tunnel_down", "error", true,
			func(t *testing.T, e *hub.Event) {
				if string(e.Details) != `{"a":1}` {
					t.Errorf("details %s", e.Details)
				}
			}},
		{"details_json not JSON", `{"customer_id":"ab","event_type":"tunnel_down","severity":"error","details_json":"{nope"}`, "details_json", "tunnel_down", "error", true, nil},
		{"occurred_at in 2031 is clamped", `{"customer_id":"ab","event_type":"backup_completed","severity":"info","occurred_at":"2031-01-01T00:00:00Z"}`, "occurred_at", "backup_completed", "info", true,
			func(t *testing.T, e *hub.Event) {
				if !e.OccurredAt.Equal(now) {
					t.Errorf("occurred_at %v, want the receipt time", e.OccurredAt)
				}
				if !strings.Contains(e.Problems[0].Reason, "2031-01-01T00:00:00Z") {
					t.Errorf("the original time is not kept: %q", e.Problems[0].Reason)
				}
			}},
		{"occurred_at within a day ahead stays", `{"customer_id":"ab","event_type":"backup_completed","severity":"info","occurred_at":"2026-11-23T09:00:00Z"}`, "", "backup_completed", "info", true,
			func(t *testing.T, e *hub.Event) {
				if !e.OccurredAt.Equal(now.Add(23 * time.Hour)) {
					t.Errorf("occurred_at %v", e.OccurredAt)
				}
			}},
		{"long message cut on a rune", `{"customer_id":"ab","event_type":"backup_failed","severity":"error","message":"` + strings.Repeat("é", 2100) + `"}`, "message", "backup_failed", "error", true,
			func(t *testing.T, e *hub.Event) {
				if utf8.RuneCountInString(e.Message) != hub.MaxEventMessageChars || !utf8.ValidString(e.Message) {
					t.Errorf("message of %d runes", utf8.RuneCountInString(e.Message))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := hub.ParseEvent([]byte(tt.body), now)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(e.Problems); got != tt.problems {
				t.Fatalf("problems at %q, want %q: %+v", got, tt.problems, e.Problems)
			}
			if e.Type != tt.typ || e.Severity != tt.severity || e.Known() != tt.known || e.Source != hub.SourceController {
				t.Fatalf("event %s/%s known %v, want %s/%s %v", e.Type, e.Severity, e.Known(), tt.typ, tt.severity, tt.known)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
	for _, body := range []string{
		`{"customer_id":"ab","event_type":"node_down","severity":"error"}`,
		`{"customer_id":"ab","event_type":"Host_Recovered","severity":"info"}`,
	} {
		if _, err := hub.ParseEvent([]byte(body), now); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("%s: error %v, want EINVALID (a node must not forge the hub's events)", body, err)
		}
	}
}

func TestParseHostReportTolerant(t *testing.T) {
	body := `{"host_id":"pve-1","reported_at":"now","host":{"cpu_percent":"3","mem_total_bytes":100,"mem_used_bytes":50,"disk_total_bytes":10,"disk_used_bytes":20},
		"guests":[{"vmid":0},{"vmid":101,"status":"running","spec":[1]},{"vmid":101},"x",{"vmid":102.5},{"vmid":103,"status":"stopped"}],"cloudflared":"up"}`
	r, err := hub.ParseHostReport([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := "reported_at host.cpu_percent host.disk_used_bytes guests[3] guests[0].vmid guests[1].spec guests[2].vmid guests[4].vmid cloudflared"
	if got := paths(r.Problems); got != want {
		t.Fatalf("problems at %q\nwant         %q", got, want)
	}
	s := r.Summarize(testNow)
	if s.GuestTotal != 2 || s.GuestRunning != 1 || s.MemPercent != 50 || s.DiskPercent != 0 || s.CPUPercent != 0 {
		t.Fatalf("summary %+v", s)
	}
	for _, bad := range []string{`{}`, `{"host_id":7}`, `{"host_id":"A"}`, `[]`} {
		if _, err := hub.ParseHostReport([]byte(bad)); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("%s: %v, want EINVALID", bad, err)
		}
	}
}

func TestParseInfraBackupTolerant(t *testing.T) {
	yes := func([]byte) bool { return true }
	complete := `{"customer_id":"ab","created_at":"2026-11-22T03:00:00Z","controller_yaml":"YTogMQo=","settings_json":"e30=",
		"disks":[{"uuid":"u","mount_point":"/mnt/a"}],"bind_mounts":[{"source":"/mnt/a/x","target":"/x"}],"stacks":[{"app":"nextcloud"}],
		"restic":{"primary_password":"secret-pw"}}`
	b, err := hub.ParseInfraBackup([]byte(complete), testNow, yes)
	if err != nil || !b.Complete() || b.Disks != 1 || b.BindMounts != 1 || b.Stacks != 1 || !b.HasRestic {
		t.Fatalf("complete backup: %+v %v", b, err)
	}
	bare, err := hub.ParseInfraBackup([]byte(`{"customer_id":"ab"}`), testNow, yes)
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(bare.Problems); got != "created_at controller_yaml settings_json restic" || bare.Complete() || !bare.CreatedAt.Equal(testNow) {
		t.Fatalf("bare backup problems %q, created %v", got, bare.CreatedAt)
	}
	// No problem ever quotes a value: the body holds secrets.
	leaky := `{"customer_id":"ab","created_at":"secret-1","controller_yaml":"secret-2","settings_json":"c2VjcmV0LTM=","restic":{"primary_password":["secret-4"]}}`
	b, err = hub.ParseInfraBackup([]byte(leaky), testNow, func([]byte) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if text := b.Problems.Encode(); strings.Contains(text, "secret") {
		t.Fatalf("a problem quotes a value: %s", text)
	}
}

func TestParseNotificationPrefsTolerant(t *testing.T) {
	six, two := 6, 2
	held := &hub.NotificationPrefs{CustomerID: "ab", Email: "anna@example.hu", EnabledEvents: []string{"backup_failed"}, CooldownHours: &six}
	p, err := hub.ParseNotificationPrefs([]byte(`{"customer_id":"ab","email":"nope","enabled_events":["tunnel_down","coffee_ready","tunnel_down"],"cooldown_hours":2}`), held)
	if err != nil {
		t.Fatal(err)
	}
	if p.Email != "anna@example.hu" || strings.Join(p.EnabledEvents, ",") != "tunnel_down" || *p.CooldownHours != two ||
		strings.Join(p.IgnoredEventTypes, ",") != "coffee_ready" || paths(p.Problems) != "email" {
		t.Fatalf("prefs %+v", p)
	}
	// Absent fields clear, as a full sync always did.
	p, err = hub.ParseNotificationPrefs([]byte(`{"customer_id":"ab"}`), held)
	if err != nil || p.Email != "" || len(p.EnabledEvents) != 0 || p.CooldownHours != nil {
		t.Fatalf("prefs %+v %v", p, err)
	}
}

func TestParseRelayRequestTolerant(t *testing.T) {
	r, err := hub.ParseRelayRequest([]byte("{\"customer_id\":\"ab\",\"subject\":\"a\\r\\nBcc: x@evil.example\",\"message\":\"m\"}"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "a  Bcc: x@evil.example" || r.Severity != hub.SeverityWarning || paths(r.Problems) != "subject severity" {
		t.Fatalf("relay %+v", r)
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"customer_id":"ab","event_type":"backup_failed","severity":"error","message":"x","details_json":"{\"a\":1}"}`))
	f.Add([]byte(`{"customer_id":"ab","event_type":"X","occurred_at":"2031-01-01T00:00:00Z","details":{"a":[1,2]}}`))
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := hub.ParseEvent(body, now)
		if err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !hub.ValidSeverity(e.Severity) || e.Type == "" || hub.EventTypeSource(e.Type) == hub.SourceHub {
			t.Fatalf("event %+v", e)
		}
		if e.OccurredAt.After(now.Add(hub.MaxFutureSkew)) || utf8.RuneCountInString(e.Message) > hub.MaxEventMessageChars || !utf8.ValidString(e.Message) {
			t.Fatalf("event %+v", e)
		}
		if len(e.Details) > 0 && (!json.Valid(e.Details) || e.Details[0] != '{' || len(e.Details) > hub.MaxEventDetailsBytes) {
			t.Fatalf("details %q", e.Details)
		}
	})
}
