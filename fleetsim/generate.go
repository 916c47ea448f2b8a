// Package fleetsim simulates a fleet of felhom nodes — controllers and host
// agents — against a hub, for demos, load tests and benchmarks.
package fleetsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// apps a simulated node may run, with the containers each brings.
var apps = []struct {
	name       string
	containers []string
	image      string
}{
	{"nextcloud", []string{"app", "db", "redis", "cron"}, "nextcloud:29.0.%d-apache"},
	{"immich", []string{"server", "ml", "db", "redis"}, "ghcr.io/immich-app/immich-server:v1.119.%d"},
	{"vaultwarden", []string{"server"}, "vaultwarden/server:1.32.%d"},
	{"jellyfin", []string{"server"}, "jellyfin/jellyfin:10.9.%d"},
	{"paperless", []string{"web", "db", "broker", "tika", "gotenberg"}, "ghcr.io/paperless-ngx/paperless-ngx:2.12.%d"},
	{"homeassistant", []string{"core", "mqtt", "zigbee"}, "ghcr.io/home-assistant/home-assistant:2024.11.%d"},
	{"gitea", []string{"server", "db"}, "gitea/gitea:1.22.%d"},
	{"photoprism", []string{"app", "db"}, "photoprism/photoprism:240915.%d"},
	{"uptime-kuma", []string{"app"}, "louislam/uptime-kuma:1.23.%d"},
	{"adguard", []string{"home"}, "adguard/adguardhome:v0.107.%d"},
	{"syncthing", []string{"app"}, "syncthing/syncthing:1.27.%d"},
	{"wordpress", []string{"app", "db"}, "wordpress:6.6.%d-apache"},
	{"mailu", []string{"front", "admin", "imap", "smtp", "antispam", "webmail", "redis"}, "ghcr.io/mailu/nginx:2024.06.%d"},
	{"freshrss", []string{"app"}, "freshrss/freshrss:1.24.%d"},
	{"navidrome", []string{"app"}, "deluan/navidrome:0.53.%d"},
}

// Node is one simulated customer node: its controller's state and the
// host its controller runs on.
type Node struct {
	CustomerID  string
	DisplayName string
	Version     string
	URL         string // the controller's base URL as reported

	rng        *rand.Rand
	apps       []int
	diskUsed   []float64 // per storage entry, fraction
	cpu        float64
	memTotal   float64
	memUsed    float64
	uptime     time.Duration
	targetSize int
	pad        int // extra check entries to reach targetSize
}

// NewNode returns a node with a deterministic personality from seed.
// targetSize is the approximate report size in bytes (2 KB to 40 KB).
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
		targetSize: targetSize,
	}
	n.memUsed = n.memTotal * (0.3 + 0.4*rng.Float64())
	for _, i := range rng.Perm(len(apps))[:3+rng.IntN(len(apps)-3)] {
		n.apps = append(n.apps, i)
	}
	n.fitSize()
	return n
}

// fitSize drops apps until a report is below targetSize, then picks how
// many padding checks bring it near the target.
func (n *Node) fitSize() {
	n.pad = 0
	for len(n.apps) > 1 && len(n.Report(time.Now(), true)) > n.targetSize {
		n.apps = n.apps[:len(n.apps)-1]
	}
	base := len(n.Report(time.Now(), true))
	if base < n.targetSize {
		n.pad = (n.targetSize - base) / 110 // one padded check is about 110 bytes
	}
}

// Tick advances the node's metrics by one report interval.
func (n *Node) Tick(d time.Duration) {
	n.uptime += d
	n.cpu = clamp(n.cpu+n.rng.NormFloat64()*3, 1, 98)
	n.memUsed = clamp(n.memUsed+n.rng.NormFloat64()*n.memTotal*0.02, n.memTotal*0.1, n.memTotal*0.97)
	for i := range n.diskUsed {
		n.diskUsed[i] = clamp(n.diskUsed[i]+n.rng.Float64()*0.0005, 0.05, 0.995)
	}
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
	type storage struct {
		Mount      string  `json:"mount"`
		Label      string  `json:"label"`
		UUID       string  `json:"uuid"`
		Role       string  `json:"role"`
		TotalBytes float64 `json:"total_bytes"`
		UsedBytes  float64 `json:"used_bytes"`
	}
	type container struct {
		Name   string `json:"name"`
		App    string `json:"app"`
		Image  string `json:"image"`
		State  string `json:"state"`
		Health string `json:"health"`
	}
	type check struct {
		Name    string `json:"name"`
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	totals := []float64{118111600640, 1000204886016, 2000398934016}
	mounts := []struct{ mount, label, role string }{{"/", "system", "system"}, {"/mnt/hdd1", "adat1", "data"}, {"/mnt/hdd2", "mentes", "backup"}}
	var st []storage
	for i, m := range mounts {
		st = append(st, storage{m.mount, m.label, n.uuid(i), m.role, totals[i], float64(int64(totals[i] * n.diskUsed[i]))})
	}
	health := "ok"
	var checks []check
	disk := n.DiskPercent()
	switch {
	case disk >= 95:
		health = "fail"
		checks = append(checks, check{"disk_space", "fail", fmt.Sprintf("a disk is %.0f%% full", disk)})
	case disk >= 85:
		health = "warn"
		checks = append(checks, check{"disk_space", "warn", fmt.Sprintf("a disk is %.0f%% full", disk)})
	default:
		checks = append(checks, check{"disk_space", "ok", ""})
	}
	checks = append(checks, check{"tunnel", "ok", ""}, check{"backups", "ok", ""})
	for i := range n.pad {
		checks = append(checks, check{fmt.Sprintf("probe_%03d", i), "ok", "http 200 in 41ms from https://" + n.CustomerID + ".felhom.eu/status"})
	}
	var cs []container
	for _, ai := range n.apps {
		a := apps[ai]
		for _, c := range a.containers {
			cs = append(cs, container{a.name + "-" + c, a.name, fmt.Sprintf(a.image, ai%9), "running", "healthy"})
		}
	}
	day := now.UTC().Truncate(24 * time.Hour)
	report := map[string]any{
		"customer_id":        n.CustomerID,
		"reported_at":        now.UTC().Format(time.RFC3339),
		"controller_version": n.Version,
		"controller_url":     n.URL,
		"health":             health,
		"monitoring_enabled": monitoring,
		"system": map[string]any{
			"hostname": "felhom-" + n.CustomerID, "os": "Debian GNU/Linux 12 (bookworm)",
			"uptime_seconds": int64(n.uptime.Seconds()), "cpu_percent": round1(n.cpu),
			"load1": round1(n.cpu / 25), "mem_total_bytes": n.memTotal, "mem_used_bytes": float64(int64(n.memUsed)),
		},
		"storage":    st,
		"containers": cs,
		"backups": map[string]any{
			"last_backup_at": day.Add(2*time.Hour + 14*time.Minute).Format(time.RFC3339), "last_backup_status": "ok",
			"last_dbdump_at": day.Add(90 * time.Minute).Format(time.RFC3339), "last_dbdump_status": "ok",
			"repository_bytes": int64(totals[2] * n.diskUsed[2] * 0.6),
		},
		"checks": checks,
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
