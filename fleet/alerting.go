package fleet

import (
	"context"
	"fmt"
	"strings"

	hub "github.com/felhom/hub"
)

// Audit actions of alerting.
const (
	ActionSilenceCreate = "silence.create"
	ActionSilenceEnd    = "silence.end"
	ActionAcknowledge   = "customer.acknowledge"
)

// CreateSilence validates and stores a silence with actor as its author.
func (s *Service) CreateSilence(ctx context.Context, actor string, sil *hub.Silence) error {
	if s.Alerts == nil {
		return unavailable("silencing")
	}
	if err := sil.Validate(s.now()); err != nil {
		return err
	}
	sil.Author = actor
	err := s.Alerts.CreateSilence(ctx, sil)
	s.record(ctx, actor, ActionSilenceCreate, sil.CustomerID, err, silenceDetail(sil))
	return err
}

// EndSilence ends a silence now.
func (s *Service) EndSilence(ctx context.Context, actor string, id int64) (*hub.Silence, error) {
	if s.Alerts == nil {
		return nil, unavailable("silencing")
	}
	sil, err := s.Alerts.EndSilence(ctx, id, actor)
	customer := ""
	if sil != nil {
		customer = sil.CustomerID
	}
	s.record(ctx, actor, ActionSilenceEnd, customer, err, fmt.Sprintf("silence #%d", id))
	if err == nil && s.AlertsChanged != nil {
		s.AlertsChanged()
	}
	return sil, err
}

// Acknowledge acknowledges a customer's open problems with a note.
func (s *Service) Acknowledge(ctx context.Context, actor, customerID, note string) (*hub.Acknowledgement, error) {
	if s.Alerts == nil {
		return nil, unavailable("acknowledging")
	}
	note, err := hub.ValidateAckNote(note)
	if err != nil {
		return nil, err
	}
	ack, err := s.Alerts.AcknowledgeCustomer(ctx, customerID, actor, note)
	s.record(ctx, actor, ActionAcknowledge, customerID, err, note)
	return ack, err
}

// silenceDetail describes a silence for the audit log.
func silenceDetail(sil *hub.Silence) string {
	var b strings.Builder
	if sil.ID != 0 {
		fmt.Fprintf(&b, "silence #%d ", sil.ID)
	}
	if sil.HostID != "" {
		fmt.Fprintf(&b, "host %s ", sil.HostID)
	}
	if len(sil.EventTypes) > 0 {
		fmt.Fprintf(&b, "types %s ", strings.Join(sil.EventTypes, ","))
	}
	fmt.Fprintf(&b, "until %s: %s", sil.EndsAt.UTC().Format("2006-01-02T15:04Z"), sil.Reason)
	return b.String()
}
