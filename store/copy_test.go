package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/internal/pgtest"
	"github.com/felhom/hub/store"
)

// MustSQLiteHub builds a SQLite hub through the store's own methods — three
// simulated nodes over four hours with compacted and rolled-up history,
// sealed secrets, events, mails, audit entries, a session — and closes it.
// It returns the file and what the store reads back from it.
func MustSQLiteHub(t *testing.T, key []byte) (path string, want *hubSnapshot) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "hub.db")
	clock := clocktest.New(time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC))
	db := store.NewDB(path)
	db.Now = clock.Now
	if err := db.SetSecretsKey(key); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	reports, hostReports := simulated(t, db, clock, 3, 4*time.Hour)
	compactAll(t, db, 50)
	rollUpAll(t, db, 50)
	MustConfig(t, db, "secretive", func(c *hub.CustomerConfig) {
		c.CloudflareTunnelToken = "cf-tunnel-token"
		c.OverridesYAML = "smtp:\n  password: overrides-secret\n"
	})
	e := MustEvent(t, db, "sim-00", "backup_failed", "error")
	MustEvent(t, db, "sim-01", "disk_warning", "warning")
	if _, err := db.EnqueueNotifications(ctx, "sim-00", e.ID, queueMail("mail-1")); err != nil {
		t.Fatal(err)
	}
	six := 6
	must(t, db.SetNotificationPrefs(ctx, &hub.NotificationPrefs{CustomerID: "sim-01", Email: "anna@example.hu",
		EnabledEvents: []string{"node_down"}, CooldownHours: &six}))
	must(t, db.CreateAuditEntry(ctx, &hub.AuditEntry{At: clock.Now(), Actor: "operator", Action: "config.create", CustomerID: "secretive", Result: "ok"}))
	must(t, db.CreateSession(ctx, &hub.Session{TokenHash: "session-hash", CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}))
	if _, err := db.CreateInfraBackup(ctx, mustParseInfraBackup(t, infraBackupBody("sim-02", 3))); err != nil {
		t.Fatal(err)
	}
	must(t, db.SaveTemplate(ctx, &hub.Template{Body: []byte("customer:\n  id: {{.CustomerID}}\n"), SourceURL: "https://example.hu/t.yaml", FetchedAt: clock.Now()}))
	must(t, db.RecordJobRun(ctx, "daily", clock.Now()))
	must(t, db.SetLatestControllerVersion(ctx, &hub.ControllerVersion{Image: "ghcr.io/felhom/controller", Version: "v1.5.0", CheckedAt: clock.Now()}))
	// Databases of older versions kept an emptied body as TEXT ''; the
	// copy must still store it as a BYTEA.
	raw := store.OpenRaw(t, db)
	mustExec(t, raw, `UPDATE reports SET body = CAST('' AS TEXT) WHERE length(body) = 0`)
	var textBodies int
	must(t, raw.QueryRow(`SELECT COUNT(*) FROM reports WHERE typeof(body) = 'text'`).Scan(&textBodies))
	if textBodies == 0 {
		t.Fatal("no report keeps a TEXT body")
	}

	want = snapshot(t, db, reports, hostReports)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, want
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hubSnapshot is what a hub's store methods read back.
type hubSnapshot struct {
	// reports and hostReports are the bodies as posted, by report id.
	reports, hostReports map[int64][]byte
	JSON                 string
}

// snapshot reads everything the test wrote back through store methods.
func snapshot(t *testing.T, db *store.DB, reports, hostReports map[int64][]byte) *hubSnapshot {
	t.Helper()
	ctx := context.Background()
	s := map[string]any{}
	customers, err := db.FindCustomers(ctx)
	must(t, err)
	s["customers"] = customers
	for _, c := range customers {
		if latest, err := db.FindLatestReport(ctx, c.ID); err == nil {
			s["latest:"+c.ID] = latest
		}
		if cfg, err := db.FindCustomerConfig(ctx, c.ID); err == nil {
			// Every field, secrets opened with the key included (some
			// are not in the JSON form).
			s["config:"+c.ID] = fmt.Sprintf("%+v", *cfg)
		}
		hosts, err := db.FindHosts(ctx, c.ID)
		must(t, err)
		s["hosts:"+c.ID] = hosts
		backups, err := db.FindInfraBackups(ctx, c.ID)
		must(t, err)
		s["backups:"+c.ID] = backups
		prefs, _ := db.FindNotificationPrefs(ctx, c.ID)
		s["prefs:"+c.ID] = prefs
		for _, res := range []string{hub.ResolutionRaw, hub.ResolutionHourly, hub.ResolutionDaily} {
			points, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: c.ID, Resolution: res, Since: time.Unix(0, 0)})
			must(t, err)
			s["metrics:"+res+":"+c.ID] = points
		}
	}
	snap := &hubSnapshot{reports: reports, hostReports: hostReports}
	for id, body := range reports {
		got, err := db.FindArchivedReport(ctx, hub.StreamReports, mustCustomer(t, body), id)
		must(t, err)
		if !bytes.Equal(got.Body, body) {
			t.Fatalf("report %d reads back changed", id)
		}
		s[fmt.Sprint("report:", id)] = got
	}
	for id, body := range hostReports {
		got, err := db.FindArchivedReport(ctx, hub.StreamHostReports, mustHostID(t, body), id)
		must(t, err)
		if !bytes.Equal(got.Body, body) {
			t.Fatalf("host report %d reads back changed", id)
		}
		s[fmt.Sprint("host report:", id)] = got
	}
	events, err := db.FindEvents(ctx, hub.EventFilter{Limit: 1000})
	must(t, err)
	s["events"] = events
	notifications, err := db.FindNotifications(ctx, hub.NotificationFilter{})
	must(t, err)
	s["notifications"] = notifications
	outbox, err := db.FindOutboxStats(ctx)
	must(t, err)
	s["outbox"] = outbox
	audit, err := db.FindAuditEntries(ctx, hub.AuditFilter{Limit: 1000})
	must(t, err)
	s["audit"] = audit
	session, err := db.FindSessionByTokenHash(ctx, "session-hash")
	must(t, err)
	s["session"] = session
	tmpl, err := db.FindTemplate(ctx)
	must(t, err)
	s["template"] = tmpl
	run, err := db.FindJobRun(ctx, "daily")
	must(t, err)
	s["jobrun"] = run
	version, err := db.FindLatestControllerVersion(ctx)
	must(t, err)
	s["version"] = version
	b, err := json.MarshalIndent(s, "", " ")
	must(t, err)
	snap.JSON = string(b)
	return snap
}

// sourceCounts counts every table's rows of a SQLite file, read-only.
func sourceCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	must(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'`)
	must(t, err)
	var tables []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string]int64{}
	for _, table := range tables {
		var n int64
		must(t, db.QueryRow(`SELECT COUNT(*) FROM "`+table+`"`).Scan(&n))
		out[table] = n
	}
	return out
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return sha256.Sum256(b)
}

// mustPostgresStore opens a PostgreSQL store in a schema of its own.
func mustPostgresStore(t *testing.T, dsn string, key []byte) *store.DB {
	t.Helper()
	db := store.NewPostgresDB(dsn)
	if key != nil {
		must(t, db.SetSecretsKey(key))
	}
	must(t, db.Open(context.Background()))
	t.Cleanup(func() { db.Close() })
	return db
}

// TestCopyToPostgres copies a SQLite hub full of real data into an empty
// PostgreSQL schema and reads everything back equal through the store.
func TestCopyToPostgres(t *testing.T) {
	if onPostgres() {
		t.Skip("copies SQLite into PostgreSQL itself: runs once, in the SQLite run")
	}
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	src, want := MustSQLiteHub(t, key)
	counts := sourceCounts(t, src)
	before := fileHash(t, src)

	dst := mustPostgresStore(t, dsn, key)
	var progress bytes.Buffer
	res, err := store.CopyToPostgres(ctx, src, dst, &progress)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("copied %d rows in %v:\n%s", res.Rows, res.Elapsed, progress.String())

	if fileHash(t, src) != before {
		t.Error("the source file changed")
	}
	// Counts: every source table copied, row for row.
	raw := store.OpenRaw(t, dst)
	if len(res.Tables) != len(counts) {
		t.Errorf("copied %d tables, the source has %d", len(res.Tables), len(counts))
	}
	for _, tc := range res.Tables {
		var n int64
		must(t, raw.QueryRow(`SELECT COUNT(*) FROM "`+tc.Name+`"`).Scan(&n))
		if n != counts[tc.Name] || tc.Rows != n {
			t.Errorf("%s: %d rows in the source, %d reported, %d in PostgreSQL", tc.Name, counts[tc.Name], tc.Rows, n)
		}
	}
	for _, table := range []string{"reports", "report_bodies", "body_keyframes", "host_reports", "events",
		"notification_outbox", "audit_log", "sessions", "metric_rollups", "customer_configs"} {
		if counts[table] == 0 {
			t.Errorf("the fixture has no %s rows: the test proves nothing about them", table)
		}
	}

	// The same store methods read back the same things, secrets opened
	// with the same key and every body byte-equal.
	if got := snapshot(t, dst, want.reports, want.hostReports).JSON; got != want.JSON {
		t.Errorf("PostgreSQL reads back differently:\n%s", firstDiff(want.JSON, got))
	}

	cfg, err := dst.FindCustomerConfig(ctx, "secretive")
	if err != nil || cfg.CloudflareTunnelToken != "cf-tunnel-token" || !strings.Contains(cfg.OverridesYAML, "overrides-secret") {
		t.Errorf("secrets do not open on PostgreSQL: %v", err)
	}

	// New rows get ids past the copied ones.
	var maxReport int64
	for id := range want.reports {
		maxReport = max(maxReport, id)
	}
	if res := MustReport(t, dst, "sim-00"); res.ReportID <= maxReport {
		t.Errorf("new report id %d, copied ids up to %d", res.ReportID, maxReport)
	}
	e := MustEvent(t, dst, "sim-01", "after_copy", "info")
	if e.ID <= counts["events"] {
		t.Errorf("new event id %d after %d copied events", e.ID, counts["events"])
	}

	// A second copy finds the target in use.
	_, err = store.CopyToPostgres(ctx, src, dst, &progress)
	if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "table ") {
		t.Errorf("second copy: %v", err)
	}
	if fileHash(t, src) != before {
		t.Error("the source file changed")
	}
	assertNoPassword(t, dsn, progress.String(), fmt.Sprint(err))
}

// firstDiff shows where two texts part.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(wl), len(gl)) {
		if wl[i] != gl[i] {
			return fmt.Sprintf("line %d:\n want %s\n  got %s", i+1, wl[i], gl[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(gl), len(wl))
}

// assertNoPassword fails when the DSN or its password shows in a text.
func assertNoPassword(t *testing.T, dsn string, texts ...string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	for _, text := range texts {
		if strings.Contains(text, dsn) || (pw != "" && strings.Contains(text, ":"+pw+"@")) {
			t.Errorf("the DSN shows in %q", text)
		}
		// A password that is also the user's or database's name may show
		// as those; any other must not show at all.
		if pw != "" && pw != u.User.Username() && pw != strings.TrimPrefix(u.Path, "/") && strings.Contains(text, pw) {
			t.Errorf("the DSN's password shows in %q", text)
		}
	}
}

// BenchmarkCopyToPostgres copies a SQLite hub of 20,000 reports with their
// compressed bodies and 20,000 events, and reports rows per second.
func BenchmarkCopyToPostgres(b *testing.B) {
	if onPostgres() {
		b.Skip("SQLite run only")
	}
	const n = 20000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "hub.db")
	src := store.NewDB(path)
	if err := src.Open(ctx); err != nil {
		b.Fatal(err)
	}
	raw := store.OpenRaw(b, src)
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 600) // a compacted delta's size
	rand.Read(body)
	for c := range 20 {
		if _, err := tx.Exec(`INSERT INTO customers (id, created_at) VALUES ($1, 0)`, fmt.Sprintf("bench-%02d", c)); err != nil {
			b.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		customer := fmt.Sprintf("bench-%02d", i%20)
		at := int64(i) * 45_000
		if _, err := tx.Exec(`INSERT INTO reports (id, customer_id, received_at, reported_at, controller_version,
			health, hostname, cpu_percent, mem_percent, disk_percent, containers_total, containers_running, body)
			VALUES ($1, $2, $3, $4, 'v1.4.2', 'ok', 'felhom-bench', 7.5, 41.2, 63.0, 24, 23, X'')`, i, customer, at, at); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO report_bodies (report_id, body) VALUES ($1, $2)`, i, body); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO events (customer_id, event_type, severity, source, message, details, occurred_at, received_at)
			VALUES ($1, 'backup_completed', 'info', 'controller', 'backup completed', '{"bytes":123456}', $2, $3)`, customer, at, at); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	src.Close()
	b.ResetTimer()
	var rows int64
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		dst := store.NewPostgresDB(pgtest.Schema(b))
		if err := dst.Open(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := store.CopyToPostgres(ctx, path, dst, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rows += res.Rows
		elapsed += res.Elapsed
		dst.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
}
