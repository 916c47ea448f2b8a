// Package fleet holds the operator's actions on customers and their
// controllers: create, edit, block, delete configs; push, pull and diff
// controller.yaml; trigger updates. The admin API and the dashboard both
// call it, and every action lands in the audit log.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/controller"
)

// ConfigSource is the template in use and the generator over it.
type ConfigSource interface {
	Current() hub.Template
	Render(cfg *hub.CustomerConfig) ([]byte, error)
}

// Controllers makes the calls to a customer's controller.
type Controllers interface {
	Push(ctx context.Context, baseURL, apiKey string, configYAML []byte) (string, error)
	Pull(ctx context.Context, baseURL, apiKey string) ([]byte, error)
	Update(ctx context.Context, baseURL, apiKey, version string) (string, error)
}

// Service performs operator actions. Audit, Versions, Configs and
// Controllers may be nil: the actions that need them then answer
// EUNAVAILABLE, and nothing is audited without Audit.
type Service struct {
	Customers   hub.CustomerService
	Reports     hub.ReportService
	Audit       hub.AuditService
	Versions    hub.VersionService
	Configs     ConfigSource
	Controllers Controllers
	// VolatileKeys are ignored by diffs and pulls (controllers.volatile_keys).
	VolatileKeys []string
	// KeyRotationGrace is how long a rotated-out API key stays valid
	// (api.key_rotation_grace); 0 ends it at once.
	KeyRotationGrace time.Duration
	// Now is the clock that says whether a previous key is still valid;
	// nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Alerts keeps silences and acknowledgements (alerting.go); nil
	// answers EUNAVAILABLE. AlertsChanged, when set, is told when a
	// silence ended, so that its follow-up need not wait for a pass.
	Alerts        hub.AlertService
	AlertsChanged func()
}

// now reads the service's clock.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Audit actions.
const (
	ActionConfigCreate           = "config.create"
	ActionConfigCreateFromReport = "config.create_from_report"
	ActionConfigUpdate           = "config.update"
	ActionConfigDelete           = "config.delete"
	ActionBlock                  = "customer.block"
	ActionUnblock                = "customer.unblock"
	ActionRotateKey              = "customer.rotate_key"
	// ActionRotateRetrievalPassword is a new retrieval password.
	ActionRotateRetrievalPassword = "customer.rotate_retrieval_password"
	ActionPush                    = "controller.push"
	ActionPull                    = "controller.pull"
	ActionDiff                    = "controller.diff"
	ActionUpdate                  = "controller.update"
)

// record writes one audit entry. A failure to audit is logged: the action
// has happened and its result must still reach the caller.
func (s *Service) record(ctx context.Context, actor, action, customerID string, err error, detail string) {
	if s.Audit == nil {
		return
	}
	if who := hub.ActorFrom(ctx); who != "" {
		actor = who // the authenticated operator or token behind the request
	}
	e := &hub.AuditEntry{Actor: actor, Action: action, CustomerID: customerID, Result: hub.AuditOK, Detail: detail}
	if err != nil {
		e.Result = hub.AuditError
		e.Detail = hub.ErrorMessage(err)
	}
	// The caller may have gone; the record must not go with it.
	if aerr := s.Audit.CreateAuditEntry(context.WithoutCancel(ctx), e); aerr != nil && s.Logger != nil {
		s.Logger.Error("audit entry not written", "action", action, "customer_id", customerID, slog.Any("error", aerr))
	}
}

// unavailable is the error of an action whose dependency is not wired.
func unavailable(what string) error {
	return hub.Errorf(hub.EUNAVAILABLE, "%s is not available on this hub", what)
}

// controllerError maps a controller call's failure to a domain error whose
// message is shown to the operator.
func controllerError(err error) error {
	var ce *controller.Error
	if !errors.As(err, &ce) {
		return err
	}
	switch ce.Kind {
	case controller.KindPolicy:
		return hub.Errorf(hub.EFORBIDDEN, "%s", ce.Message)
	case controller.KindInvalidURL:
		return hub.Errorf(hub.ECONFLICT, "the reported %s", ce.Message)
	}
	return hub.Errorf(hub.EUPSTREAM, "%s", ce.Message)
}

// target returns the config of a managed customer and the controller URL
// from its latest report.
func (s *Service) target(ctx context.Context, id string) (*hub.CustomerConfig, string, error) {
	if s.Controllers == nil {
		return nil, "", unavailable("calling controllers")
	}
	cfg, err := s.Customers.FindCustomerConfig(ctx, id)
	if err != nil {
		return nil, "", err
	}
	latest, err := s.Reports.FindLatestReport(ctx, id)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		return nil, "", hub.Errorf(hub.ECONFLICT, "customer %s has not reported yet, so its controller URL is unknown", id)
	} else if err != nil {
		return nil, "", err
	}
	if latest.Summary.ControllerURL == "" {
		return nil, "", hub.Errorf(hub.ECONFLICT, "customer %s's latest report has no controller_url", id)
	}
	return cfg, latest.Summary.ControllerURL, nil
}

// render generates the customer's controller.yaml.
func (s *Service) render(cfg *hub.CustomerConfig) ([]byte, error) {
	if s.Configs == nil {
		return nil, unavailable("config generation")
	}
	return s.Configs.Render(cfg)
}

// done records the action and passes its error on.
func (s *Service) done(ctx context.Context, actor, action, id string, err error, detail string) error {
	s.record(ctx, actor, action, id, err, detail)
	return err
}

// describe formats an audit detail.
func describe(format string, args ...any) string { return fmt.Sprintf(format, args...) }
