package fleetsim

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DemoOptions configure a gentle, living fleet.
type DemoOptions struct {
	// Interval is the real time between report rounds.
	Interval time.Duration
	// Accel is how many simulated seconds pass per real second; it paces
	// the daily events (backups, db dumps) and the infra backups.
	Accel float64
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// optionalEndpoints are posted only while the hub serves them: a hub that
// answers 404 (an older version) is told once and then spared.
type optionalEndpoints struct {
	mu       sync.Mutex
	disabled map[string]bool
}

func (f *Fleet) postOptional(ctx context.Context, path, key string, body any) error {
	o := f.optional
	o.mu.Lock()
	off := o.disabled[path]
	o.mu.Unlock()
	if off {
		return nil
	}
	err := f.Client.Do(ctx, "POST", path, key, body, nil)
	if se, ok := err.(*StatusError); ok && se.Status == http.StatusNotFound && strings.HasPrefix(se.Message, "no such endpoint") {
		o.mu.Lock()
		o.disabled[path] = true
		o.mu.Unlock()
		fmt.Fprintf(f.opts.Log, "hub does not serve %s; not posting to it\n", path)
		return nil
	}
	return err
}

// Demo runs the fleet until ctx ends: reports every interval by behaviour,
// daily events and infra backups at simulated midnight.
func (f *Fleet) Demo(ctx context.Context, o DemoOptions) error {
	if o.Interval <= 0 {
		o.Interval = 20 * time.Second
	}
	if o.Accel <= 0 {
		o.Accel = 96
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	lastDay := -1
	f.SyncPreferences(ctx)
	ticker := time.NewTicker(o.Interval)
	defer ticker.Stop()
	for round := 0; ; round++ {
		simNow := start.Add(time.Duration(float64(now().Sub(start)) * o.Accel))
		day := int(simNow.Sub(start) / (24 * time.Hour))
		errs := f.Round(ctx, round, simNow, day != lastDay)
		lastDay = day
		if errs > 0 {
			fmt.Fprintf(f.opts.Log, "round %d: %d requests failed\n", round, errs)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// SyncPreferences posts each managed node's notification preferences.
func (f *Fleet) SyncPreferences(ctx context.Context) {
	for i, n := range f.Nodes {
		if n.Behaviour == Manual || n.Behaviour == Pending {
			continue
		}
		_ = f.postOptional(ctx, "/api/v1/preferences", n.Key, map[string]any{
			"customer_id":    n.CustomerID,
			"email":          fmt.Sprintf("ugyfel%d@example.hu", i),
			"enabled_events": []string{"backup_failed", "disk_space_critical", "node_down", "expected_backup_missed"},
			"cooldown_hours": 6,
		})
	}
}

// Round posts one round of reports (and, on a new simulated day, the daily
// events and infra backups). It returns the number of failed requests.
func (f *Fleet) Round(ctx context.Context, round int, simNow time.Time, newDay bool) int {
	failed := 0
	count := func(err error) {
		if err != nil && ctx.Err() == nil {
			failed++
		}
	}
	for _, n := range f.Nodes {
		if !n.reportsIn(round) {
			continue
		}
		n.Tick(15 * time.Minute)
		body := n.Report(time.Now(), n.Behaviour != Paused)
		count(f.Client.Do(ctx, "POST", "/api/v1/report", n.Key, body, nil))
		if newDay && n.Behaviour != Manual {
			for _, e := range n.DailyEvents(simNow) {
				count(f.postOptional(ctx, "/api/v1/event", n.Key, e))
			}
			count(f.postOptional(ctx, "/api/v1/infra-backup", n.Key, n.InfraBackup(simNow)))
		}
	}
	return failed
}

// reportsIn says whether the node posts a report in the given round.
func (n *SimNode) reportsIn(round int) bool {
	switch n.Behaviour {
	case Pending:
		return false
	case Silent:
		return round == 0
	case Flappy:
		return round%4 != 3
	}
	return true
}

// InfraBackup renders the node's disaster-recovery bundle.
func (n *SimNode) InfraBackup(now time.Time) map[string]any {
	b64 := base64.StdEncoding.EncodeToString
	return map[string]any{
		"customer_id":     n.CustomerID,
		"created_at":      now.UTC().Format(time.RFC3339),
		"controller_yaml": b64([]byte("customer:\n  id: " + n.CustomerID + "\n  domain: " + n.CustomerID + ".felhom.eu\n")),
		"settings_json":   b64([]byte(`{"backup":{"hour":2,"keep_daily":7}}`)),
		"disks": []map[string]string{
			{"uuid": n.uuid(1), "label": "adat1", "mount_point": "/mnt/hdd1", "fs_type": "ext4", "fstab_options": "defaults,nofail,noatime"},
			{"uuid": n.uuid(2), "label": "mentes", "mount_point": "/mnt/hdd2", "fs_type": "ext4", "fstab_options": "defaults,nofail"},
		},
		"bind_mounts": []map[string]string{{"source": "/mnt/hdd1/nextcloud", "target": "/srv/stacks/nextcloud/data"}},
		"stacks":      []map[string]string{{"app": "nextcloud", "hdd_path": "/mnt/hdd1/nextcloud", "display_name": "Nextcloud"}},
		"restic":      map[string]string{"primary_password": "sim-" + n.uuid(3), "cross_drive_password": "sim-" + n.uuid(4)},
	}
}
