// Package fleetsim simulates a fleet of felhom nodes — controllers and host
// agents — against a hub, for demos, load tests and benchmarks.
package fleetsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Node is one simulated customer node: its controller's state and the
// host its controller runs on.
type Node struct {
	CustomerID  string
	DisplayName string
	Version     string
	URL         string // the controller's base URL as reported

	rng        *rand.Rand
	containers []*simContainer
	diskUsed   []float64 // per storage entry, fraction
	cpu        float64
	memTotal   float64
	memUsed    float64
	uptime     time.Duration
	certDays   int       // days until the node's certificate expires
	at         time.Time // the time of the latest report rendered
	host       hostState
}

// installEpoch is around when the simulated nodes were installed: container
// creation times are spread over the year before it.
var installEpoch = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)

// NewNode returns a node with a deterministic personality from seed.
// targetSize is the approximate report size in bytes (2 KB to 40 KB); the
// size comes from the node's containers, about 1 KB each.
func NewNode(customerID string, seed uint64, targetSize int) *Node {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	n := &Node{
		CustomerID: customerID,
		Version:    fmt.Sprintf("v1.%d.%d", 3+rng.IntN(2), rng.IntN(4)),
		rng:        rng,
		memTotal:   float64(int64(4+4*rng.IntN(4)) << 30),
		diskUsed:   []float64{0.2 + 0.2*rng.Float64(), 0.3 + 0.6*rng.Float64(), 0.2 + 0.4*rng.Float64()},
		cpu:        3 + 20*rng.Float64(),
		uptime:     time.Duration(rng.IntN(60*24)) * time.Hour,
		certDays:   30 + rng.IntN(60),
	}
	n.memUsed = n.memTotal * (0.3 + 0.4*rng.Float64())
	installed := installEpoch.Add(-time.Duration(rng.IntN(365*24)) * time.Hour)
	var all []*simContainer
	addApp := func(a *app) {
		patch := rng.IntN(9)
		for i := range a.services {
			created := installed.Add(time.Duration(rng.IntN(90*24*60)) * time.Minute)
			all = append(all, newContainer(rng, a.name, &a.services[i], patch, created))
		}
	}
	addApp(&infra)
	for _, i := range rng.Perm(len(apps)) {
		addApp(&apps[i])
	}
	n.containers = n.fitContainers(all, targetSize)
	n.host = newHostState(rng, customerID)
	return n
}

// fitContainers returns the first k containers, k chosen so that a report
// comes closest to targetSize.
func (n *Node) fitContainers(all []*simContainer, targetSize int) []*simContainer {
	n.containers = nil
	size := len(n.render(installEpoch, true))
	k := 0
	for k < len(all) {
		c, _ := json.Marshal(all[k].report(installEpoch, n.memTotal, k))
		next := size + len(c) + 1
		if abs(next-targetSize) >= abs(size-targetSize) {
			break
		}
		size, k = next, k+1
	}
	return all[:k]
}

func abs(v int) int { return max(v, -v) }

// Tick advances the node's metrics by one report interval d: loads move,
// disks fill, and now and then a container restarts or an app is updated.
func (n *Node) Tick(d time.Duration) {
	n.uptime += d
	n.cpu = clamp(n.cpu+n.rng.NormFloat64()*3, 1, 98)
	n.memUsed = clamp(n.memUsed+n.rng.NormFloat64()*n.memTotal*0.02, n.memTotal*0.1, n.memTotal*0.97)
	for i := range n.diskUsed {
		n.diskUsed[i] = clamp(n.diskUsed[i]+n.rng.Float64()*0.0005, 0.05, 0.995)
	}
	at := n.at
	if at.IsZero() {
		at = installEpoch
	}
	at = at.Add(d / 2)
	for _, c := range n.containers {
		c.tick(n.rng, at)
	}
	// About one app update per node every three weeks: new image, new
	// containers.
	if len(n.containers) > 0 && n.rng.Float64() < float64(d)/float64(21*24*time.Hour) {
		app := n.containers[n.rng.IntN(len(n.containers))].appName
		for _, c := range n.containers {
			if c.appName == app {
				c.patch++
				c.recreate(n.rng, at)
			}
		}
	}
	n.host.tick(n.rng, d, at)
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

// DiskPercent returns the fullest disk's usage in percent.
func (n *Node) DiskPercent() float64 {
	m := 0.0
	for _, d := range n.diskUsed {
		m = max(m, d*100)
	}
	return m
}

// Report renders the controller report at now. monitoring is the node's
// monitoring_enabled flag.
func (n *Node) Report(now time.Time, monitoring bool) []byte {
	n.at = now
	return n.render(now, monitoring)
}

// Shapes of a controller report.
type (
	reportStorage struct {
		Mount      string  `json:"mount"`
		Label      string  `json:"label"`
		UUID       string  `json:"uuid"`
		Role       string  `json:"role"`
		FSType     string  `json:"fs_type"`
		Device     string  `json:"device"`
		TotalBytes float64 `json:"total_bytes"`
		UsedBytes  float64 `json:"used_bytes"`
		SMART      string  `json:"smart"`
	}
	reportCheck struct {
		Name    string `json:"name"`
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	reportSystem struct {
		Hostname      string  `json:"hostname"`
		OS            string  `json:"os"`
		Kernel        string  `json:"kernel"`
		DockerVersion string  `json:"docker_version"`
		UptimeSeconds int64   `json:"uptime_seconds"`
		CPUPercent    float64 `json:"cpu_percent"`
		Load1         float64 `json:"load1"`
		Load5         float64 `json:"load5"`
		Load15        float64 `json:"load15"`
		MemTotalBytes float64 `json:"mem_total_bytes"`
		MemUsedBytes  float64 `json:"mem_used_bytes"`
	}
	reportBackups struct {
		LastBackupAt     string `json:"last_backup_at"`
		LastBackupStatus string `json:"last_backup_status"`
		LastDBDumpAt     string `json:"last_dbdump_at"`
		LastDBDumpStatus string `json:"last_dbdump_status"`
		RepositoryBytes  int64  `json:"repository_bytes"`
		Snapshots        int    `json:"snapshots"`
	}
	controllerReport struct {
		CustomerID        string            `json:"customer_id"`
		ReportedAt        string            `json:"reported_at"`
		ControllerVersion string            `json:"controller_version"`
		ControllerURL     string            `json:"controller_url"`
		Health            string            `json:"health"`
		MonitoringEnabled bool              `json:"monitoring_enabled"`
		System            reportSystem      `json:"system"`
		Storage           []reportStorage   `json:"storage"`
		Containers        []containerReport `json:"containers"`
		Backups           reportBackups     `json:"backups"`
		Checks            []reportCheck     `json:"checks"`
	}
)

// render builds the report at now without changing the node.
func (n *Node) render(now time.Time, monitoring bool) []byte {
	totals := []float64{118111600640, 1000204886016, 2000398934016}
	mounts := []struct{ mount, label, role, device string }{
		{"/", "system", "system", "/dev/nvme0n1p2"}, {"/mnt/hdd1", "adat1", "data", "/dev/sda1"}, {"/mnt/hdd2", "mentes", "backup", "/dev/sdb1"},
	}
	var st []reportStorage
	for i, m := range mounts {
		st = append(st, reportStorage{m.mount, m.label, n.uuid(i), m.role, "ext4", m.device, totals[i], float64(int64(totals[i] * n.diskUsed[i])), "PASSED"})
	}
	health := "ok"
	var checks []reportCheck
	disk := n.DiskPercent()
	switch {
	case disk >= 95:
		health = "fail"
		checks = append(checks, reportCheck{"disk_space", "fail", fmt.Sprintf("a disk is %.0f%% full", disk)})
	case disk >= 85:
		health = "warn"
		checks = append(checks, reportCheck{"disk_space", "warn", fmt.Sprintf("a disk is %.0f%% full", disk)})
	default:
		checks = append(checks, reportCheck{"disk_space", "ok", fmt.Sprintf("fullest disk %.0f%%", disk)})
	}
	running, starting := 0, 0
	cs := make([]containerReport, 0, len(n.containers))
	for i, c := range n.containers {
		r := c.report(now, n.memTotal, i)
		if r.Health == "starting" {
			starting++
		}
		running++
		cs = append(cs, r)
	}
	containersCheck := reportCheck{"containers", "ok", fmt.Sprintf("%d of %d running", running, len(cs))}
	if starting > 0 {
		containersCheck.Message += fmt.Sprintf(", %d starting", starting)
	}
	day := now.UTC().Truncate(24 * time.Hour)
	checks = append(checks, containersCheck,
		reportCheck{"tunnel", "ok", "cloudflared connected to 4 edge locations"},
		reportCheck{"backups", "ok", "last backup " + day.Add(2*time.Hour+14*time.Minute).Format(time.RFC3339)},
		reportCheck{"certificate", "ok", fmt.Sprintf("*.%s.felhom.eu expires in %d days", n.CustomerID, n.certDays)},
		reportCheck{"smart", "ok", "3 disks PASSED"},
	)
	report := controllerReport{
		CustomerID:        n.CustomerID,
		ReportedAt:        now.UTC().Format(time.RFC3339),
		ControllerVersion: n.Version,
		ControllerURL:     n.URL,
		Health:            health,
		MonitoringEnabled: monitoring,
		System: reportSystem{
			Hostname: "felhom-" + n.CustomerID, OS: "Debian GNU/Linux 12 (bookworm)",
			Kernel: "6.1.0-27-amd64", DockerVersion: "27.3.1",
			UptimeSeconds: int64(n.uptime.Seconds()), CPUPercent: round1(n.cpu),
			Load1: round1(n.cpu / 25), Load5: round1(n.cpu / 27), Load15: round1(n.cpu / 30),
			MemTotalBytes: n.memTotal, MemUsedBytes: float64(int64(n.memUsed)),
		},
		Storage:    st,
		Containers: cs,
		Backups: reportBackups{
			LastBackupAt: day.Add(2*time.Hour + 14*time.Minute).Format(time.RFC3339), LastBackupStatus: "ok",
			LastDBDumpAt: day.Add(90 * time.Minute).Format(time.RFC3339), LastDBDumpStatus: "ok",
			RepositoryBytes: int64(totals[2] * n.diskUsed[2] * 0.6), Snapshots: 30 + int(now.Sub(installEpoch).Hours()/24)%60,
		},
		Checks: checks,
	}
	b, _ := json.Marshal(report)
	return b
}

func (n *Node) uuid(i int) string {
	h := uint64(0xcbf29ce484222325)
	for _, c := range n.CustomerID {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	h += uint64(i) * 0x9e3779b97f4a7c15
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>20)&0xfff, uint16(h>>8)&0xfff, h&0xffffffffffff)
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// Event is a controller event as posted to the hub.
type Event struct {
	CustomerID string         `json:"customer_id"`
	EventType  string         `json:"event_type"`
	Severity   string         `json:"severity"`
	Message    string         `json:"message"`
	Details    map[string]any `json:"details,omitempty"`
	OccurredAt string         `json:"occurred_at,omitempty"`
}

// DailyEvents returns the events a node posts around its nightly backup:
// usually success, now and then a failure.
func (n *Node) DailyEvents(now time.Time) []Event {
	at := now.UTC().Format(time.RFC3339)
	ev := []Event{}
	if n.rng.Float64() < 0.05 {
		ev = append(ev, Event{n.CustomerID, "backup_failed", "error", "restic: repository is locked by another process", map[string]any{"repository": "/mnt/hdd2/restic"}, at})
	} else {
		ev = append(ev, Event{n.CustomerID, "backup_completed", "info", "nightly backup finished", map[string]any{"files_new": n.rng.IntN(500), "duration_s": 60 + n.rng.IntN(900)}, at})
	}
	if n.rng.Float64() < 0.03 {
		ev = append(ev, Event{n.CustomerID, "dbdump_failed", "error", "mysqldump exited with status 2", nil, at})
	} else {
		ev = append(ev, Event{n.CustomerID, "dbdump_completed", "info", "database dumps finished", nil, at})
	}
	if d := n.DiskPercent(); d >= 85 {
		ev = append(ev, Event{n.CustomerID, "disk_space_warning", "warning", fmt.Sprintf("/mnt/hdd1 is %.0f%% full", d), map[string]any{"mount": "/mnt/hdd1", "used_percent": round1(d)}, at})
	}
	return ev
}
