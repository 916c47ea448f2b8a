package fleet

import (
	"context"
	"strings"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
)

// PushResult is the outcome of a push.
type PushResult struct {
	CustomerID string `json:"customer_id"`
	Bytes      int    `json:"bytes"`
	// ControllerMessage is what the controller answered, truncated.
	ControllerMessage string `json:"controller_message,omitempty"`
}

// Push generates the customer's config and applies it on its controller.
func (s *Service) Push(ctx context.Context, actor, id string) (*PushResult, error) {
	res, err := s.push(ctx, id)
	if err != nil {
		return nil, s.done(ctx, actor, ActionPush, id, err, "")
	}
	s.record(ctx, actor, ActionPush, id, nil, describe("%d bytes applied", res.Bytes))
	return res, nil
}

func (s *Service) push(ctx context.Context, id string) (*PushResult, error) {
	cfg, baseURL, err := s.target(ctx, id)
	if err != nil {
		return nil, err
	}
	body, err := s.render(cfg)
	if err != nil {
		return nil, err
	}
	msg, err := s.Controllers.Push(ctx, baseURL, cfg.ControllerKey(s.now()), body)
	if err != nil {
		return nil, redactConfig(controllerError(err), cfg)
	}
	return &PushResult{CustomerID: id, Bytes: len(body), ControllerMessage: hub.Redact(msg, configSecrets(cfg)...)}, nil
}

// DiffResult is the per-key comparison of the hub's and the live config.
type DiffResult struct {
	CustomerID string             `json:"customer_id"`
	InSync     bool               `json:"in_sync"`
	Changes    []configgen.Change `json:"changes"`
}

// Diff compares the hub's generated config with the controller's live one.
func (s *Service) Diff(ctx context.Context, actor, id string) (*DiffResult, error) {
	res, err := s.diff(ctx, id)
	if err != nil {
		return nil, s.done(ctx, actor, ActionDiff, id, err, "")
	}
	s.record(ctx, actor, ActionDiff, id, nil, describe("%d keys differ", len(res.Changes)))
	return res, nil
}

func (s *Service) diff(ctx context.Context, id string) (*DiffResult, error) {
	cfg, baseURL, err := s.target(ctx, id)
	if err != nil {
		return nil, err
	}
	generated, err := s.render(cfg)
	if err != nil {
		return nil, err
	}
	live, err := s.Controllers.Pull(ctx, baseURL, cfg.ControllerKey(s.now()))
	if err != nil {
		return nil, redactConfig(controllerError(err), cfg)
	}
	changes, err := configgen.Diff(generated, live, s.VolatileKeys)
	if err != nil {
		return nil, redactConfig(upstreamYAML(err), cfg)
	}
	return &DiffResult{CustomerID: id, InSync: len(changes) == 0, Changes: changes}, nil
}

// upstreamYAML turns "the live config is not YAML" into a controller fault.
func upstreamYAML(err error) error {
	if hub.ErrorCode(err) == hub.EINVALID {
		return hub.Errorf(hub.EUPSTREAM, "controller answered something unusable: %s", hub.ErrorMessage(err))
	}
	return err
}

// PullResult is the outcome of a pull.
type PullResult struct {
	CustomerID string `json:"customer_id"`
	// Updated names the config fields the pull changed.
	Updated  []string            `json:"updated"`
	Warnings []string            `json:"warnings"`
	Config   *hub.CustomerConfig `json:"-"`
}

// Pull fetches the live config and takes its identity, tokens, legacy
// UUIDs and overrides into the stored config. The hub's credentials stay.
func (s *Service) Pull(ctx context.Context, actor, id string) (*PullResult, error) {
	res, err := s.pull(ctx, id)
	if err != nil {
		return nil, s.done(ctx, actor, ActionPull, id, err, "")
	}
	detail := "no change"
	if len(res.Updated) > 0 {
		detail = "updated " + strings.Join(res.Updated, ", ")
	}
	s.record(ctx, actor, ActionPull, id, nil, detail)
	return res, nil
}

func (s *Service) pull(ctx context.Context, id string) (*PullResult, error) {
	cfg, baseURL, err := s.target(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Configs == nil {
		return nil, unavailable("config generation")
	}
	live, err := s.Controllers.Pull(ctx, baseURL, cfg.ControllerKey(s.now()))
	if err != nil {
		return nil, redactConfig(controllerError(err), cfg)
	}
	ex, err := configgen.Extract(s.Configs.Current().Body, live, s.VolatileKeys)
	if err != nil {
		return nil, redactConfig(upstreamYAML(err), cfg)
	}
	if ex.CustomerID != nil && *ex.CustomerID != "" && *ex.CustomerID != id {
		return nil, hub.Errorf(hub.ECONFLICT, "the live config belongs to customer %q, not %s: nothing imported", *ex.CustomerID, id)
	}
	res := &PullResult{CustomerID: id, Updated: []string{}, Warnings: []string{}}
	switch {
	case ex.APIKey == nil || *ex.APIKey == cfg.APIKey:
	case cfg.Rotation.PreviousAPIKey != "" && *ex.APIKey == cfg.Rotation.PreviousAPIKey:
		res.Warnings = append(res.Warnings, "the live hub.api_key is the customer's previous key, rotated out; a push will give the controller the new one")
	default:
		res.Warnings = append(res.Warnings, "the live hub.api_key differs from the hub's key for this customer; a push will replace it")
	}
	if ex.SessionSecret != nil && *ex.SessionSecret != cfg.SessionSecret {
		res.Warnings = append(res.Warnings, "the live session.secret differs from the hub's; a push will replace it and sign users out")
	}
	res.Config, err = s.Customers.UpdateCustomerConfig(ctx, id, func(c *hub.CustomerConfig) error {
		for _, f := range []struct {
			name string
			src  *string
			dst  *string
		}{
			{"display_name", ex.DisplayName, &c.DisplayName},
			{"domain", ex.Domain, &c.Domain},
			{"cloudflare_tunnel_token", ex.TunnelToken, &c.CloudflareTunnelToken},
			{"legacy_heartbeat_uuid", ex.LegacyHeartbeatUUID, &c.LegacyHeartbeatUUID},
			{"legacy_backup_uuid", ex.LegacyBackupUUID, &c.LegacyBackupUUID},
			{"overrides_yaml", &ex.OverridesYAML, &c.OverridesYAML},
		} {
			if f.src != nil && *f.src != *f.dst {
				*f.dst = *f.src
				res.Updated = append(res.Updated, f.name)
			}
		}
		if err := ValidateConfig(c); err != nil {
			return hub.Errorf(hub.EUPSTREAM, "the live config cannot be imported: %s", hub.ErrorMessage(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// UpdateResult is the outcome of a triggered update.
type UpdateResult struct {
	CustomerID string `json:"customer_id"`
	Version    string `json:"version"`
	// ControllerMessage is what the controller answered, truncated.
	ControllerMessage string `json:"controller_message,omitempty"`
}

// TriggerUpdate asks the customer's controller to update itself to
// version, or to the latest the registry watcher found when version is "".
func (s *Service) TriggerUpdate(ctx context.Context, actor, id, version string) (*UpdateResult, error) {
	res, err := s.triggerUpdate(ctx, id, version)
	if err != nil {
		return nil, s.done(ctx, actor, ActionUpdate, id, err, describe("version %q", version))
	}
	s.record(ctx, actor, ActionUpdate, id, nil, describe("to %s", res.Version))
	return res, nil
}

func (s *Service) triggerUpdate(ctx context.Context, id, version string) (*UpdateResult, error) {
	if version == "" {
		if s.Versions == nil {
			return nil, unavailable("the registry watcher")
		}
		latest, err := s.Versions.FindLatestControllerVersion(ctx)
		if hub.ErrorCode(err) == hub.ENOTFOUND {
			return nil, hub.Errorf(hub.ECONFLICT, "no controller version is known yet: name one")
		} else if err != nil {
			return nil, err
		}
		version = latest.Version
	}
	if _, ok := hub.ParseSemver(version); !ok || len(version) > 64 {
		return nil, hub.Errorf(hub.EINVALID, "version must be a release such as 0.8.1 or v0.8.1")
	}
	cfg, baseURL, err := s.target(ctx, id)
	if err != nil {
		return nil, err
	}
	msg, err := s.Controllers.Update(ctx, baseURL, cfg.ControllerKey(s.now()), version)
	if err != nil {
		return nil, redactConfig(controllerError(err), cfg)
	}
	return &UpdateResult{CustomerID: id, Version: version, ControllerMessage: hub.Redact(msg, configSecrets(cfg)...)}, nil
}
