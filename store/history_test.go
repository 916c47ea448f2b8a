package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

// metricReport stores a report of a customer with the given cpu, mem and
// disk percentages at the clock's time.
func metricReport(t *testing.T, db *store.DB, customerID string, cpu, mem, disk float64) *hub.ReportResult {
	t.Helper()
	return MustReportBody(t, db, fmt.Sprintf(`{"customer_id":%q,"system":{"cpu_percent":%g,"mem_total_bytes":1000,"mem_used_bytes":%g},
		"storage":[{"mount":"/","total_bytes":1000,"used_bytes":%g}]}`, customerID, cpu, mem*10, disk*10))
}

// metricHostReport stores a host report with the given percentages.
func metricHostReport(t *testing.T, db *store.DB, hostID string, cpu, mem, disk float64) {
	t.Helper()
	r, err := hub.ParseHostReport(fmt.Appendf(nil, `{"host_id":%q,"host":{"cpu_percent":%g,"mem_total_bytes":1000,
		"mem_used_bytes":%g,"disk_total_bytes":1000,"disk_used_bytes":%g}}`, hostID, cpu, mem*10, disk*10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateHostReport(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// rollUpAll rolls up everything, limit reports at a time.
func rollUpAll(t *testing.T, db *store.DB, limit int) {
	t.Helper()
	for {
		n, err := db.RollUpHistory(context.Background(), limit)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// compactAll compacts everything old enough.
func compactAll(t *testing.T, db *store.DB, limit int) {
	t.Helper()
	for {
		n, err := db.CompactHistory(context.Background(), limit)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func mustMetrics(t *testing.T, db *store.DB, stream, subject, resolution string, since time.Time) []hub.MetricPoint {
	t.Helper()
	points, err := db.FindMetrics(context.Background(), hub.MetricFilter{Stream: stream, SubjectID: subject, Resolution: resolution, Since: since})
	if err != nil {
		t.Fatal(err)
	}
	return points
}

// point is a rolled-up point as a test writes it by hand.
type point struct {
	at               time.Time
	samples          int
	cpuAvg, cpuMax   float64
	memAvg, memMax   float64
	diskAvg, diskMax float64
}

func checkPoints(t *testing.T, what string, got []hub.MetricPoint, want []point) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d points %+v, want %d", what, len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if !g.Time.Equal(w.at) || g.Samples != w.samples || g.CPUAvg != w.cpuAvg || g.CPUMax != w.cpuMax ||
			g.MemAvg != w.memAvg || g.MemMax != w.memMax || g.DiskAvg != w.diskAvg || g.DiskMax != w.diskMax {
			t.Errorf("%s point %d: got %+v, want %+v", what, i, g, w)
		}
	}
}

func TestRollUpAgainstHandComputedValues(t *testing.T) {
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	clock := clocktest.New(day.Add(10*time.Hour + 5*time.Minute))
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "kovacs", nil)
	mustHost(t, db, "kovacs-3fa2c1", "kovacs", "")

	// Hour 10: three reports; hour 11: one; the next day: one.
	metricReport(t, db, "kovacs", 10, 40, 70)
	metricHostReport(t, db, "kovacs-3fa2c1", 1, 2, 3)
	clock.Add(15 * time.Minute)
	metricReport(t, db, "kovacs", 30, 50, 71)
	clock.Add(39*time.Minute + 59*time.Second) // 10:59:59
	metricReport(t, db, "kovacs", 20, 60, 72)
	metricHostReport(t, db, "kovacs-3fa2c1", 3, 4, 5)
	clock.Add(time.Second) // 11:00:00 opens the next hour
	metricReport(t, db, "kovacs", 5, 10, 73)
	// Roll up in batches of 2, so that buckets are summed over several
	// transactions, then again: nothing may be counted twice.
	rollUpAll(t, db, 2)
	clock.Add(13*time.Hour + 10*time.Minute) // 00:10 the next day
	metricReport(t, db, "kovacs", 90, 95, 99)
	rollUpAll(t, db, 2)
	rollUpAll(t, db, 2)

	since := day.Add(-time.Hour)
	checkPoints(t, "hourly", mustMetrics(t, db, hub.StreamReports, "kovacs", hub.ResolutionHourly, since), []point{
		{day.Add(10 * time.Hour), 3, 20, 30, 50, 60, 71, 72},
		{day.Add(11 * time.Hour), 1, 5, 5, 10, 10, 73, 73},
		{day.Add(24 * time.Hour), 1, 90, 90, 95, 95, 99, 99},
	})
	checkPoints(t, "daily", mustMetrics(t, db, hub.StreamReports, "kovacs", hub.ResolutionDaily, since), []point{
		// (10+30+20+5)/4 = 16.25; (40+50+60+10)/4 = 40; (70+71+72+73)/4 = 71.5
		{day, 4, 16.25, 30, 40, 60, 71.5, 73},
		{day.Add(24 * time.Hour), 1, 90, 90, 95, 95, 99, 99},
	})
	checkPoints(t, "host hourly", mustMetrics(t, db, hub.StreamHostReports, "kovacs-3fa2c1", hub.ResolutionHourly, since), []point{
		{day.Add(10 * time.Hour), 2, 2, 3, 3, 4, 4, 5},
	})
	// A rolled-up answer starts with the bucket its period starts in.
	checkPoints(t, "daily from mid-day", mustMetrics(t, db, hub.StreamReports, "kovacs", hub.ResolutionDaily, day.Add(23*time.Hour)), []point{
		{day, 4, 16.25, 30, 40, 60, 71.5, 73},
		{day.Add(24 * time.Hour), 1, 90, 90, 95, 95, 99, 99},
	})
	// Raw points are the reports themselves, average and maximum alike.
	raw := mustMetrics(t, db, hub.StreamReports, "kovacs", hub.ResolutionRaw, day.Add(10*time.Hour+30*time.Minute))
	if len(raw) != 3 || raw[0].CPUAvg != 20 || raw[0].CPUMax != 20 || raw[0].Samples != 1 || raw[0].ReportID == 0 {
		t.Errorf("raw points %+v", raw)
	}
}

func TestFindMetricsRejectsUnknownStreamAndResolution(t *testing.T) {
	db := MustOpenDB(t, clocktest.New(epoch))
	for _, f := range []hub.MetricFilter{
		{Stream: "events", SubjectID: "a", Resolution: hub.ResolutionRaw},
		{Stream: hub.StreamReports, SubjectID: "a", Resolution: "weekly"},
	} {
		if _, err := db.FindMetrics(context.Background(), f); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", f, err)
		}
	}
}

// simulated writes n simulated nodes' controller and host reports every 15
// minutes for d, moving the clock, and returns every body by report id.
func simulated(t *testing.T, db *store.DB, clock *clocktest.Clock, nodes int, d time.Duration) (reports, hostReports map[int64][]byte) {
	t.Helper()
	ctx := context.Background()
	reports, hostReports = map[int64][]byte{}, map[int64][]byte{}
	var sim []*fleetsim.Node
	for i := range nodes {
		id := fmt.Sprintf("sim-%02d", i)
		MustConfig(t, db, id, nil)
		mustHost(t, db, id+"-host", id, "")
		sim = append(sim, fleetsim.NewNode(id, uint64(i+1), 8<<10+i*4<<10))
	}
	for end := clock.Now().Add(d); clock.Now().Before(end); clock.Add(15 * time.Minute) {
		for _, n := range sim {
			n.Tick(15 * time.Minute)
			body := n.Report(clock.Now(), true)
			reports[MustReportBody(t, db, string(body)).ReportID] = body
			hr, err := hub.ParseHostReport(n.HostReport(n.CustomerID+"-host", clock.Now()))
			if err != nil {
				t.Fatal(err)
			}
			res, err := db.CreateHostReport(ctx, hr)
			if err != nil {
				t.Fatal(err)
			}
			hostReports[res.ReportID] = hr.Raw
		}
	}
	return reports, hostReports
}

// storedBodies returns each report's stored body length and keyframe.
func storedBodies(t *testing.T, db *store.DB, table string) map[int64]struct {
	size     int
	keyframe bool
} {
	t.Helper()
	rows, err := rawConn(t, db).Query(`SELECT r.id, length(COALESCE(b.body, r.body)), b.keyframe_id IS NOT NULL
		FROM ` + table + ` r LEFT JOIN ` + strings.TrimSuffix(table, "s") + `_bodies b ON b.report_id = r.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]struct {
		size     int
		keyframe bool
	}{}
	for rows.Next() {
		var id int64
		var b struct {
			size     int
			keyframe bool
		}
		if err := rows.Scan(&id, &b.size, &b.keyframe); err != nil {
			t.Fatal(err)
		}
		out[id] = b
	}
	return out
}

func TestCompactionKeepsEveryBodyReadable(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC))
	db := MustOpenDB(t, clock)
	// Four hours across midnight: two keyframes per subject and stream.
	reports, hostReports := simulated(t, db, clock, 3, 4*time.Hour)
	before := storedBodies(t, db, "reports")
	compactAll(t, db, 7)
	after := storedBodies(t, db, "reports")

	horizon := clock.Now().Add(-time.Hour)
	var rawBytes, beforeBytes, afterBytes int
	for id, body := range reports {
		got, err := db.FindArchivedReport(ctx, hub.StreamReports, string(mustCustomer(t, body)), id)
		if err != nil {
			t.Fatalf("report %d: %v", id, err)
		}
		if string(got.Body) != string(body) {
			t.Fatalf("report %d reads back changed", id)
		}
		rawBytes += len(body)
		beforeBytes += before[id].size
		afterBytes += after[id].size
		if got.ReceivedAt.Before(horizon) != after[id].keyframe && !isLatest(t, db, got) {
			t.Errorf("report %d received %v: compacted %v, want compacted exactly when older than an hour", id, got.ReceivedAt, after[id].keyframe)
		}
	}
	for id, body := range hostReports {
		got, err := db.FindArchivedReport(ctx, hub.StreamHostReports, string(mustHostID(t, body)), id)
		if err != nil || string(got.Body) != string(body) {
			t.Fatalf("host report %d: %v", id, err)
		}
	}
	t.Logf("%d reports: %d bytes as JSON, %d stored per body, %d as deltas", len(reports), rawBytes, beforeBytes, afterBytes)
	if afterBytes*3 > beforeBytes {
		t.Errorf("deltas take %d bytes, per-body zstd %d: want at least 3 times less", afterBytes, beforeBytes)
	}
	var keyframes int
	if err := rawConn(t, db).QueryRow(`SELECT COUNT(*) FROM body_keyframes`).Scan(&keyframes); err != nil || keyframes != 3*2*2 {
		t.Errorf("%d keyframes (%v), want 3 subjects × 2 streams × 2 days", keyframes, err)
	}
	// The latest reports stand alone and read back as received.
	for i := range 3 {
		id := fmt.Sprintf("sim-%02d", i)
		latest, err := db.FindLatestReport(ctx, id)
		if err != nil || string(latest.Body) != string(reports[latest.Summary.ReportID]) {
			t.Fatalf("latest of %s: %v", id, err)
		}
		if after[latest.Summary.ReportID].keyframe {
			t.Errorf("the latest report of %s is a delta", id)
		}
	}
	// Compaction is done: a later pass finds nothing new, and the walk
	// picks up newer reports once they are an hour old.
	if n, err := db.CompactHistory(ctx, 100); err != nil || n != 0 {
		t.Errorf("compacting again looked at %d reports (%v)", n, err)
	}
	clock.Add(2 * time.Hour)
	if n, err := db.CompactHistory(ctx, 100); err != nil || n == 0 {
		t.Errorf("two hours later compaction looked at %d reports (%v)", n, err)
	}
}

func isLatest(t *testing.T, db *store.DB, r *hub.ArchivedReport) bool {
	t.Helper()
	latest, err := db.FindLatestReport(context.Background(), r.SubjectID)
	return err == nil && latest.Summary.ReportID == r.ID
}

func mustCustomer(t *testing.T, body []byte) string {
	t.Helper()
	r, err := hub.ParseReport(body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r.CustomerID
}

func mustHostID(t *testing.T, body []byte) string {
	t.Helper()
	r, err := hub.ParseHostReport(body)
	if err != nil {
		t.Fatal(err)
	}
	return r.HostID
}

func pruneHistory(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	results, err := db.PruneHistory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range results {
		got[r.Step] = r.Deleted
	}
	return got
}

func TestPruneHistoryKeepsEachTier(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	db := MustOpenDB(t, clock)
	MustConfig(t, db, "aa", nil)
	mustHost(t, db, "aa-host", "aa", "")
	metricReport(t, db, "silent", 50, 50, 50) // its only report: the latest, forever
	// 100 days, a report of each stream every 6 hours, compacted daily.
	for range 100 {
		for range 4 {
			metricReport(t, db, "aa", 10, 50, 50)
			metricHostReport(t, db, "aa-host", 10, 50, 50)
			clock.Add(6 * time.Hour)
		}
		compactAll(t, db, 100)
	}
	now := clock.Now()

	// Nothing is rolled up yet, so no report may go.
	if got := pruneHistory(t, db); got["reports"] != 0 || got["host_reports"] != 0 {
		t.Fatalf("pruned %v before the rollup", got)
	}
	rollUpAll(t, db, 1000)
	got := pruneHistory(t, db)
	// Reports at start+k·6h, k < 400; the raw tier keeps k ≥ 372.
	if got["reports"] != 372 || got["host_reports"] != 372 {
		t.Errorf("pruned %v, want 372 reports of each stream", got)
	}
	for _, tc := range []struct {
		stream, subject, resolution string
		want                        int
	}{
		{hub.StreamReports, "aa", hub.ResolutionRaw, 28},
		{hub.StreamHostReports, "aa-host", hub.ResolutionRaw, 28},
		{hub.StreamReports, "aa", hub.ResolutionHourly, 30 * 4},
		{hub.StreamHostReports, "aa-host", hub.ResolutionHourly, 30 * 4},
		{hub.StreamReports, "aa", hub.ResolutionDaily, 90},
		{hub.StreamReports, "silent", hub.ResolutionRaw, 1}, // the latest report stays
		{hub.StreamReports, "silent", hub.ResolutionHourly, 0},
		{hub.StreamReports, "silent", hub.ResolutionDaily, 0},
	} {
		points := mustMetrics(t, db, tc.stream, tc.subject, tc.resolution, start.Add(-time.Hour))
		if len(points) != tc.want {
			t.Errorf("%s %s %s: %d points, want %d", tc.stream, tc.subject, tc.resolution, len(points), tc.want)
		}
		for _, p := range points {
			if tc.subject != "silent" && p.Time.Before(now.Add(-90*24*time.Hour)) {
				t.Errorf("%s %s: a point of %v outlived max_days", tc.stream, tc.resolution, p.Time)
			}
		}
	}
	latest, err := db.FindLatestReport(ctx, "silent")
	if err != nil || latest.Summary.ReceivedAt != start {
		t.Errorf("silent's latest report: %v, %v", latest, err)
	}
	// Every body of the raw tier reads back; keyframes no report needs
	// are gone.
	for _, p := range mustMetrics(t, db, hub.StreamReports, "aa", hub.ResolutionRaw, start) {
		if _, err := db.FindArchivedReport(ctx, hub.StreamReports, "aa", p.ReportID); err != nil {
			t.Errorf("report %d: %v", p.ReportID, err)
		}
	}
	var unreferenced, old int
	conn := rawConn(t, db)
	if err := conn.QueryRow(`SELECT COUNT(*) FROM body_keyframes k WHERE NOT EXISTS (SELECT 1 FROM report_bodies b WHERE b.keyframe_id = k.id)
		AND NOT EXISTS (SELECT 1 FROM host_report_bodies b WHERE b.keyframe_id = k.id)`).Scan(&unreferenced); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(`SELECT COUNT(*) FROM body_keyframes WHERE day < $1`, now.Add(-8*24*time.Hour).UnixMilli()).Scan(&old); err != nil {
		t.Fatal(err)
	}
	if unreferenced != 0 || old != 0 || got["body_keyframes"] == 0 {
		t.Errorf("%d unreferenced and %d old keyframes left, %d pruned", unreferenced, old, got["body_keyframes"])
	}
	// A second prune finds nothing.
	for step, n := range pruneHistory(t, db) {
		if n != 0 {
			t.Errorf("second prune deleted %d from %s", n, step)
		}
	}
}

func TestPruneHistoryDropsBodiesPastFullDays(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	clock := clocktest.New(start)
	db := MustOpenDB(t, clock)
	db.Tiers = hub.NewHistoryTiers(3, 90)
	var ids []int64
	for range 10 {
		ids = append(ids, metricReport(t, db, "aa", 10, 20, 30).ReportID)
		clock.Add(24 * time.Hour)
		compactAll(t, db, 100)
	}
	rollUpAll(t, db, 100)
	got := pruneHistory(t, db)
	// Days 0..9, now is day 10: rows before day 3 go, bodies before day 7.
	if got["reports"] != 3 || got["report_bodies"] != 4 {
		t.Errorf("pruned %v, want 3 reports and 4 bodies", got)
	}
	for i, id := range ids {
		_, err := db.FindArchivedReport(ctx, hub.StreamReports, "aa", id)
		switch {
		case i < 7 && hub.ErrorCode(err) != hub.ENOTFOUND:
			t.Errorf("report of day %d: %v, want ENOTFOUND", i, err)
		case i >= 7 && err != nil:
			t.Errorf("report of day %d: %v", i, err)
		}
	}
	if points := mustMetrics(t, db, hub.StreamReports, "aa", hub.ResolutionRaw, start); len(points) != 7 {
		t.Errorf("%d raw points, want 7: a row outlives its body", len(points))
	}
}

func TestCompactionLeavesAnUnreadableBodyAndGoesOn(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	db := MustOpenDB(t, clock)
	reports, _ := simulated(t, db, clock, 1, 3*time.Hour)
	var broken int64
	for id := range reports {
		if broken == 0 || id < broken {
			broken = id
		}
	}
	broken++ // not the day's first report: that one becomes the keyframe
	garbage := []byte{0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3}
	mustExec(t, rawConn(t, db), `UPDATE report_bodies SET body = $1 WHERE report_id = $2`, garbage, broken)

	compactAll(t, db, 3)
	after := storedBodies(t, db, "reports")
	if after[broken].keyframe || after[broken].size != len(garbage) {
		t.Errorf("the unreadable body was rewritten: %+v", after[broken])
	}
	compacted := 0
	for id, b := range after {
		if b.keyframe {
			compacted++
			if _, err := db.FindArchivedReport(ctx, hub.StreamReports, "sim-00", id); err != nil {
				t.Errorf("report %d: %v", id, err)
			}
		}
	}
	// 12 reports: the broken one and the four of the last hour stay.
	if compacted != 7 {
		t.Errorf("%d reports compacted, want 7", compacted)
	}
}
