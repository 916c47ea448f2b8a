package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// TestConvertDatabaseOfPreviousSchema makes a database with migrations
// 001–003 as the previous version left it — report bodies in plain JSON
// (before compression) and per-body zstd — then opens it with this
// version: nothing may be lost, the bodies get compressed and the history
// rolled up in the background steps, and the prune then trims the tiers.
func TestConvertDatabaseOfPreviousSchema(t *testing.T) {
	SkipOnPostgres(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 45, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "hub.db")
	bodies := makePreviousSchemaDB(t, path, now)

	db := NewDB(path)
	db.Now = func() time.Time { return now }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := migrations(sqliteDialect{}.migrations())
	if err != nil {
		t.Fatal(err)
	}
	var version int
	if err := db.read.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(all) {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(all))
	}
	// The background steps, as the history worker runs them, in small
	// batches: the conversion resumes wherever it stopped.
	for {
		rolled, err := db.RollUpHistory(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		compacted, err := db.CompactHistory(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if rolled == 0 && compacted == 0 {
			break
		}
	}
	// Not a report is lost: each reads back exactly as received.
	checkBodies := func(stage string, wantAll bool) {
		t.Helper()
		found := 0
		for key, body := range bodies {
			got, err := db.FindArchivedReport(ctx, key.stream, key.subject, key.id)
			if hub.ErrorCode(err) == hub.ENOTFOUND && !wantAll {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %s report %d: %v", stage, key.stream, key.id, err)
			}
			if string(got.Body) != body {
				t.Fatalf("%s: %s report %d reads back changed", stage, key.stream, key.id)
			}
			found++
		}
		t.Logf("%s: %d reports read back", stage, found)
	}
	checkBodies("after conversion", true)
	// Bodies stay inline (plain JSON or zstd as the older version wrote
	// them) only where the prune will delete them: past the full tier and
	// not a latest report. Everywhere else they moved to the bodies table.
	fullCutoff := millis(now.Add(-7 * 24 * time.Hour))
	for _, st := range historyStreams {
		var inline int
		err := db.read.QueryRowContext(ctx, st.sql(`SELECT COUNT(*) FROM {table} r
			WHERE length(r.body) > 0
				AND (r.received_at >= $1 OR EXISTS (SELECT 1 FROM {owners} o WHERE o.latest_report_id = r.id))`),
			fullCutoff).Scan(&inline)
		if err != nil || inline != 0 {
			t.Errorf("%s: %d bodies left inline to keep (%v)", st.table, inline, err)
		}
	}
	// The existing history is rolled up: ten days of four reports.
	daily, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamReports, SubjectID: "legacy-a",
		Resolution: hub.ResolutionDaily, Since: now.Add(-30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	samples := 0
	for _, p := range daily {
		samples += p.Samples
	}
	if samples != 40 {
		t.Errorf("daily rollups of legacy-a count %d reports, want 40", samples)
	}
	hourly, err := db.FindMetrics(ctx, hub.MetricFilter{Stream: hub.StreamHostReports, SubjectID: "legacy-a-host",
		Resolution: hub.ResolutionHourly, Since: now.Add(-30 * 24 * time.Hour)})
	if err != nil || len(hourly) != 40 {
		t.Errorf("%d hourly host points (%v), want 40", len(hourly), err)
	}

	results, err := db.PruneHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("prune: %+v", results)
	checkBodies("after prune", false)
	latest, err := db.FindLatestReport(ctx, "legacy-b")
	if err != nil || string(latest.Body) != bodies[bodyKey{hub.StreamReports, "legacy-b", latest.Summary.ReportID}] {
		t.Fatalf("legacy-b's latest report (20 days old): %v", err)
	}
	for _, step := range []string{"rollup:reports", "compact:reports", "rollup:host_reports", "compact:host_reports"} {
		last, err := progress(ctx, db.read, step)
		if err != nil || last == 0 {
			t.Errorf("progress of %s: %d, %v", step, last, err)
		}
	}
}

type bodyKey struct {
	stream, subject string
	id              int64
}

// makePreviousSchemaDB writes a schema-3 database: legacy-a reported every
// 6 hours for 10 days (the older half of its bodies plain JSON, the newer
// half per-body zstd), with a host doing the same in plain JSON; legacy-b
// reported once, 20 days ago, in plain JSON. It returns every body.
func makePreviousSchemaDB(t *testing.T, path string, now time.Time) map[bodyKey]string {
	t.Helper()
	ctx := context.Background()
	conn, err := sql.Open("sqlite", dsn(path, false, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	all, err := migrations(sqliteDialect{}.migrations())
	if err != nil {
		t.Fatal(err)
	}
	// The previous schema is every migration before the history tiers.
	tiers := slices.IndexFunc(all, func(m migration) bool { return strings.HasSuffix(m.name, "_history_tiers.sql") })
	if tiers < 0 {
		t.Fatal("no history tiers migration")
	}
	if err := migrateThrough(ctx, conn, all[:tiers]); err != nil {
		t.Fatal(err)
	}
	exec := func(query string, args ...any) sql.Result {
		t.Helper()
		res, err := conn.ExecContext(ctx, query, args...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	bodies := map[bodyKey]string{}
	start := now.Add(-10 * 24 * time.Hour)
	exec(`INSERT INTO customers (id, created_at) VALUES ('legacy-a', $1), ('legacy-b', $2)`, millis(start), millis(start))
	exec(`INSERT INTO hosts (id, customer_id, created_at, updated_at) VALUES ('legacy-a-host', 'legacy-a', $1, $2)`, millis(start), millis(start))
	var lastReport, lastHostReport int64
	for k := range 40 {
		at := start.Add(time.Duration(k) * 6 * time.Hour)
		body := fmt.Sprintf(`{"customer_id":"legacy-a","reported_at":%q,"system":{"cpu_percent":%d,"mem_total_bytes":100,"mem_used_bytes":50},"containers":[{"name":"nextcloud-app","image":"nextcloud:29.0.8-apache","state":"running"}]}`,
			at.Format(time.RFC3339), k)
		stored := []byte(body)
		if k >= 20 {
			stored = encodeBody(stored)
		}
		res := exec(`INSERT INTO reports (customer_id, received_at, cpu_percent, mem_percent, body) VALUES ('legacy-a', $1, $2, 50, $3)`,
			millis(at), k, stored)
		lastReport, _ = res.LastInsertId()
		bodies[bodyKey{hub.StreamReports, "legacy-a", lastReport}] = body
		hostBody := fmt.Sprintf(`{"host_id":"legacy-a-host","reported_at":%q,"host":{"cpu_percent":%d}}`, at.Format(time.RFC3339), k)
		res = exec(`INSERT INTO host_reports (host_id, received_at, cpu_percent, body) VALUES ('legacy-a-host', $1, $2, $3)`,
			millis(at), k, []byte(hostBody))
		lastHostReport, _ = res.LastInsertId()
		bodies[bodyKey{hub.StreamHostReports, "legacy-a-host", lastHostReport}] = hostBody
	}
	old := now.Add(-20 * 24 * time.Hour)
	body := `{"customer_id":"legacy-b","health":"ok"}`
	res := exec(`INSERT INTO reports (customer_id, received_at, body) VALUES ('legacy-b', $1, $2)`, millis(old), []byte(body))
	oldID, _ := res.LastInsertId()
	bodies[bodyKey{hub.StreamReports, "legacy-b", oldID}] = body
	exec(`UPDATE customers SET latest_report_id = $1, latest_received_at = $2 WHERE id = 'legacy-a'`, lastReport, millis(start.Add(39*6*time.Hour)))
	exec(`UPDATE customers SET latest_report_id = $1, latest_received_at = $2 WHERE id = 'legacy-b'`, oldID, millis(old))
	exec(`UPDATE hosts SET latest_report_id = $1, last_report_at = $2 WHERE id = 'legacy-a-host'`, lastHostReport, millis(start.Add(39*6*time.Hour)))
	return bodies
}
