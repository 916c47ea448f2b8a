package monitor

import (
	"context"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

// NoiseCheck is the part of alert noise control that needs the clock: the
// staleness checker runs it in every pass, under its lease, so that each
// incident and each flapping episode is decided once across replicas.
type NoiseCheck struct {
	Store hub.NoiseService
	// Incident is when nodes going stale together are one fleet incident;
	// a zero Fraction or Window turns incidents off.
	Incident hub.IncidentRule
	// FlapThreshold is the number of stale/recovered transitions in an
	// hour that make a node or host flap; 0 turns flapping off.
	FlapThreshold int
}

// beforePass looks for a fleet incident before the pass moves any node:
// the nodes it silences are members before their stale events are stored,
// so none of them is mailed on its own.
func (n *NoiseCheck) beforePass(ctx context.Context, now time.Time, res *PassResult) error {
	if n == nil || n.Store == nil {
		return nil
	}
	events, err := n.Store.CheckFleetIncident(ctx, now, n.Incident)
	if err != nil {
		return fmt.Errorf("fleet incident check: %w", err)
	}
	res.Events = append(res.Events, events...)
	return nil
}

// afterPass opens and ends flapping episodes, counting the transitions the
// pass stored too.
func (n *NoiseCheck) afterPass(ctx context.Context, now time.Time, res *PassResult) error {
	if n == nil || n.Store == nil {
		return nil
	}
	events, err := n.Store.CheckFlapping(ctx, now, n.FlapThreshold)
	if err != nil {
		return fmt.Errorf("flapping check: %w", err)
	}
	res.Events = append(res.Events, events...)
	return nil
}
