package fleet

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strings"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
)

// ValidateConfig checks a config's fields and the shape of its overrides.
func ValidateConfig(cfg *hub.CustomerConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	return configgen.ValidateOverrides(cfg.OverridesYAML)
}

// CreateConfig validates cfg, mints its credentials and stores it; cfg
// carries the new credentials back to the caller, who shows them once.
func (s *Service) CreateConfig(ctx context.Context, actor string, cfg *hub.CustomerConfig) error {
	if err := ValidateConfig(cfg); err != nil {
		return s.done(ctx, actor, ActionConfigCreate, cfg.CustomerID, err, "")
	}
	cfg.MintCredentials()
	err := s.Customers.CreateCustomerConfig(ctx, cfg)
	return s.done(ctx, actor, ActionConfigCreate, cfg.CustomerID, err, "")
}

// CreateConfigFromReport turns a manual customer into a managed one, with
// its identity taken from its latest report.
func (s *Service) CreateConfigFromReport(ctx context.Context, actor, id string) (*hub.CustomerConfig, error) {
	cfg, err := s.configFromReport(ctx, id)
	if err == nil {
		cfg.MintCredentials()
		err = s.Customers.CreateCustomerConfig(ctx, cfg)
	}
	if err != nil {
		return nil, s.done(ctx, actor, ActionConfigCreateFromReport, id, err, "")
	}
	s.record(ctx, actor, ActionConfigCreateFromReport, id, nil,
		describe("display_name %q, domain %q", cfg.DisplayName, cfg.Domain))
	return cfg, nil
}

// reportIdentity is what a report may say about who the customer is:
// controllers that know it send a customer section.
type reportIdentity struct {
	Customer struct {
		Name   string `json:"name"`
		Domain string `json:"domain"`
	} `json:"customer"`
	System struct {
		Hostname string `json:"hostname"`
	} `json:"system"`
	ControllerURL string `json:"controller_url"`
}

func (s *Service) configFromReport(ctx context.Context, id string) (*hub.CustomerConfig, error) {
	if err := hub.ValidateCustomerID(id); err != nil {
		return nil, err
	}
	c, err := s.Customers.FindCustomerByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Managed {
		return nil, hub.Errorf(hub.ECONFLICT, "customer %s already has a config", id)
	}
	latest, err := s.Reports.FindLatestReport(ctx, id)
	if err != nil {
		return nil, err
	}
	var ident reportIdentity
	_ = json.Unmarshal(latest.Body, &ident) // stored reports are valid JSON; odd shapes just give less
	cfg := &hub.CustomerConfig{CustomerID: id, Status: hub.ConfigActive}
	cfg.DisplayName = firstValid(func(v string) bool { return len(v) <= 200 },
		strings.TrimSpace(ident.Customer.Name), strings.TrimSpace(ident.System.Hostname), id)
	cfg.Domain = firstValid(isDomain, strings.ToLower(ident.Customer.Domain), hostOf(ident.ControllerURL))
	return cfg, ValidateConfig(cfg)
}

// firstValid returns the first non-empty candidate ok accepts, or "".
func firstValid(ok func(string) bool, candidates ...string) string {
	for _, c := range candidates {
		if c != "" && ok(c) {
			return c
		}
	}
	return ""
}

// isDomain accepts DNS names with at least one dot that are not addresses.
func isDomain(s string) bool {
	return strings.Contains(s, ".") && net.ParseIP(s) == nil && hub.ValidateDomain(s) == nil
}

// hostOf returns the lower-cased host name of a URL, or "".
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// UpdateConfig changes a config through update, validated and stored in
// one transaction.
func (s *Service) UpdateConfig(ctx context.Context, actor, id string, update func(*hub.CustomerConfig) error) (*hub.CustomerConfig, error) {
	cfg, err := s.Customers.UpdateCustomerConfig(ctx, id, func(c *hub.CustomerConfig) error {
		if err := update(c); err != nil {
			return err
		}
		return ValidateConfig(c)
	})
	return cfg, s.done(ctx, actor, ActionConfigUpdate, id, err, "")
}

// DeleteConfig removes a managed config; a customer that reports comes
// back as manual.
func (s *Service) DeleteConfig(ctx context.Context, actor, id string) error {
	return s.done(ctx, actor, ActionConfigDelete, id, s.Customers.DeleteCustomerConfig(ctx, id), "")
}

// SetBlocked blocks or unblocks a managed customer.
func (s *Service) SetBlocked(ctx context.Context, actor, id string, blocked bool) error {
	action := ActionUnblock
	if blocked {
		action = ActionBlock
	}
	return s.done(ctx, actor, action, id, s.Customers.SetCustomerBlocked(ctx, id, blocked), "")
}

// RotateKey mints and stores a new API key and returns it. The key the
// node was last seen using stays valid for KeyRotationGrace, or until the
// node first uses the new one; meanwhile pushes use the old key, which is
// the one the controller knows.
func (s *Service) RotateKey(ctx context.Context, actor, id string) (string, error) {
	key := hub.NewAPIKey()
	err := s.Customers.RotateCustomerKey(ctx, id, key, s.KeyRotationGrace)
	if err := s.done(ctx, actor, ActionRotateKey, id, err, describe("previous key valid for %s", s.KeyRotationGrace)); err != nil {
		return "", err
	}
	return key, nil
}

// RotateRetrievalPassword mints and stores a new retrieval password and
// returns it; the old one stops working at once.
func (s *Service) RotateRetrievalPassword(ctx context.Context, actor, id string) (string, error) {
	password := hub.NewRetrievalPassword()
	err := s.Customers.RotateRetrievalPassword(ctx, id, password)
	if err := s.done(ctx, actor, ActionRotateRetrievalPassword, id, err, ""); err != nil {
		return "", err
	}
	return password, nil
}
