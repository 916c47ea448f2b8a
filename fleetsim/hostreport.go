package fleetsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// hostState is the Proxmox host under a node, as its host agent sees it.
type hostState struct {
	hostname string
	cpu      float64
	memTotal float64
	memUsed  float64
	disk     float64 // fraction of the root disk used
	uptime   time.Duration
	guests   []simGuest
	audit    []auditLine
	auditSeq int
}

type simGuest struct {
	vmid    int64
	name    string
	running bool
	cores   int
	memMB   int
	rootGB  int
	hwaddr  string
}

type auditLine struct {
	At     string `json:"at"`
	User   string `json:"user"`
	Action string `json:"action"`
	Detail string `json:"detail"`
}

func newHostState(rng *rand.Rand, customerID string) hostState {
	h := hostState{
		hostname: "pve-" + customerID,
		cpu:      5 + 15*rng.Float64(),
		memTotal: float64(int64(16+16*rng.IntN(3)) << 30),
		disk:     0.15 + 0.3*rng.Float64(),
		uptime:   time.Duration(rng.IntN(90*24)) * time.Hour,
	}
	h.memUsed = h.memTotal * (0.4 + 0.3*rng.Float64())
	names := []string{"felhom-controller", "teszt", "windows-vm", "pihole", "backup-proxy"}
	for i := range 2 + rng.IntN(3) {
		h.guests = append(h.guests, simGuest{
			vmid: int64(101 + i), name: names[i], running: i == 0 || rng.IntN(3) > 0,
			cores: 1 + rng.IntN(4), memMB: 512 * (1 + rng.IntN(12)), rootGB: 8 * (1 + rng.IntN(4)),
			hwaddr: fmt.Sprintf("BC:24:11:%02X:%02X:%02X", rng.IntN(256), rng.IntN(256), rng.IntN(256)),
		})
	}
	for range 15 {
		h.addAudit(rng, installEpoch)
	}
	return h
}

var auditActions = []struct{ user, action, detail string }{
	{"root@pam", "login", "successful login from 10.0.0.%d"},
	{"felhom-agent@pve", "vzdump", "backup of guest %d started"},
	{"felhom-agent@pve", "snapshot", "snapshot auto-%d of guest 101 created"},
	{"root@pam", "apt", "%d packages upgraded"},
	{"felhom-agent@pve", "restore-test", "restore test of guest 101 passed in %d s"},
}

func (h *hostState) addAudit(rng *rand.Rand, at time.Time) {
	a := auditActions[rng.IntN(len(auditActions))]
	h.auditSeq++
	line := auditLine{At: at.Add(time.Duration(h.auditSeq%60) * time.Second).UTC().Format(time.RFC3339),
		User: a.user, Action: a.action, Detail: fmt.Sprintf(a.detail, rng.IntN(200))}
	h.audit = append(h.audit, line)
	if len(h.audit) > 20 {
		h.audit = h.audit[len(h.audit)-20:]
	}
}

func (h *hostState) tick(rng *rand.Rand, d time.Duration, at time.Time) {
	h.uptime += d
	h.cpu = clamp(h.cpu+rng.NormFloat64()*2, 1, 95)
	h.memUsed = clamp(h.memUsed+rng.NormFloat64()*h.memTotal*0.01, h.memTotal*0.2, h.memTotal*0.95)
	h.disk = clamp(h.disk+rng.Float64()*0.0002, 0.05, 0.99)
	if rng.Float64() < 0.1 {
		h.addAudit(rng, at)
	}
}

// HostReport renders the host agent's heartbeat for hostID at now.
func (n *Node) HostReport(hostID string, now time.Time) []byte {
	h := &n.host
	type guest struct {
		VMID              int64          `json:"vmid"`
		Name              string         `json:"name"`
		Status            string         `json:"status"`
		ControllerVersion string         `json:"controller_version"`
		Spec              map[string]any `json:"spec"`
	}
	var guests []guest
	var backups, restores []map[string]any
	day := now.UTC().Truncate(24 * time.Hour)
	for _, g := range h.guests {
		status, version := "stopped", ""
		if g.running {
			status = "running"
		}
		if g.vmid == 101 {
			version = n.Version
		}
		guests = append(guests, guest{g.vmid, g.name, status, version, map[string]any{
			"cores": g.cores, "memory_mb": g.memMB, "rootfs_gb": g.rootGB, "ostype": "debian", "onboot": g.running,
			"features": "nesting=1,keyctl=1", "net0": "name=eth0,bridge=vmbr0,firewall=1,hwaddr=" + g.hwaddr + ",ip=dhcp,type=veth",
		}})
		for d := 1; d <= 5; d++ {
			started := day.Add(-time.Duration(d)*24*time.Hour + 3*time.Hour + time.Duration(g.vmid%7)*time.Minute)
			backups = append(backups, map[string]any{
				"vmid": g.vmid, "started_at": started.Format(time.RFC3339), "ended_at": started.Add(4 * time.Minute).Format(time.RFC3339),
				"status": "ok", "size_bytes": int64(g.rootGB) << 27, "target": "hdd-backup",
				"volid": fmt.Sprintf("hdd-backup:backup/vzdump-lxc-%d-%s.tar.zst", g.vmid, started.Format("2006_01_02-15_04_05")),
			})
		}
	}
	for d := 0; d < 3; d++ {
		restores = append(restores, map[string]any{
			"vmid": 101, "tested_at": day.Add(-time.Duration(d*7+1) * 24 * time.Hour).Add(5 * time.Hour).Format(time.RFC3339),
			"status": "ok", "duration_seconds": 180 + d*7, "checks": []string{"boot", "controller_api", "database"},
		})
	}
	report := map[string]any{
		"host_id":       hostID,
		"reported_at":   now.UTC().Format(time.RFC3339),
		"agent_version": "0.2.0",
		"host": map[string]any{
			"hostname": h.hostname, "pve_version": "8.2.7", "kernel": "6.8.12-4-pve",
			"uptime_seconds": int64(h.uptime.Seconds()), "cpu_percent": round1(h.cpu),
			"mem_total_bytes": h.memTotal, "mem_used_bytes": float64(int64(h.memUsed)),
			"disk_total_bytes": 118111600640.0, "disk_used_bytes": float64(int64(118111600640 * h.disk)),
		},
		"guests":      guests,
		"cloudflared": map[string]any{"status": "running", "version": "2024.11.1", "connections": 4},
		"storage_targets": []map[string]any{
			{"id": "local", "type": "dir", "total_bytes": 100 << 30, "used_bytes": int64(float64(100<<30) * h.disk), "active": true},
			{"id": "local-lvm", "type": "lvmthin", "total_bytes": 800 << 30, "used_bytes": int64(float64(800<<30) * (h.disk + 0.1)), "active": true},
			{"id": "hdd-backup", "type": "dir", "total_bytes": 2000 << 30, "used_bytes": int64(float64(2000<<30) * 0.31), "active": true},
		},
		"backups":       backups,
		"restore_tests": restores,
		"pbs_snapshots": []any{},
		"audit_tail":    h.audit,
	}
	b, _ := json.Marshal(report)
	return b
}
