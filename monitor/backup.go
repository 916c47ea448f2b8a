package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	hub "github.com/felhom/hub"
)

// eventChunk is the most events stored in one transaction.
const eventChunk = 500

// JobBackupCheck names the backup deadline check in job_runs.
const JobBackupCheck = "backup_check"

// expectations are the events every active node must post each local day,
// and the event the hub raises when one is missing.
var expectations = []struct{ want, missed, what string }{
	{hub.EventBackupCompleted, hub.EventExpectedBackupMissed, "backup"},
	{hub.EventDBDumpCompleted, hub.EventExpectedDBDumpMissed, "database dump"},
}

// BackupChecker raises expected_backup_missed and expected_dbdump_missed for
// active nodes that posted no backup_completed / dbdump_completed event since
// local midnight. Each node gets each at most once per local day, however
// often the check runs: the events' dedupe key names the day.
type BackupChecker struct {
	Nodes    hub.BackupCheckService
	Events   hub.EventService
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
}

// Run checks the local day of slot, from its midnight until now.
func (b *BackupChecker) Run(ctx context.Context, slot time.Time) error {
	// The same rule as the dashboard's: a backup counts for the local day
	// it completed on (hub.BackupSchedule).
	midnight := hub.BackupSchedule{Location: b.Location}.DayStart(slot)
	day := midnight.Format("2006-01-02")
	now := b.Now()
	for _, exp := range expectations {
		ids, err := b.Nodes.FindNodesMissingEvent(ctx, exp.want, midnight)
		if err != nil {
			return err
		}
		events := make([]*hub.Event, len(ids))
		for i, id := range ids {
			events[i] = missedEvent(id, exp.want, exp.missed, exp.what, day, midnight, now)
		}
		stored := 0
		// Chunks keep each transaction short, so that ingest is not blocked.
		for chunk := range slices.Chunk(events, eventChunk) {
			s, err := b.Events.CreateHubEvents(ctx, chunk)
			if err != nil {
				return err
			}
			stored += len(s)
		}
		b.Logger.Info("backup deadline check", "day", day, "event_type", exp.missed,
			"nodes_missing", len(ids), "events_stored", stored)
	}
	return nil
}

// missedEvent builds the event of a node that did not post want on day.
func missedEvent(customerID, want, missed, what, day string, midnight, now time.Time) *hub.Event {
	details, _ := json.Marshal(map[string]string{ // strings always encode
		"day":            day,
		"expected_event": want,
		"since":          midnight.UTC().Format(time.RFC3339),
	})
	return &hub.Event{
		CustomerID: customerID,
		Type:       missed,
		Severity:   hub.SeverityWarning,
		Source:     hub.SourceHub,
		Message:    fmt.Sprintf("node %s has not completed a %s on %s (no %s event since local midnight)", customerID, what, day, want),
		Details:    details,
		OccurredAt: now,
		DedupeKey:  fmt.Sprintf("%s:%s:%s", missed, customerID, day),
	}
}
