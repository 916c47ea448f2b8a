package fleet

import (
	hub "github.com/felhom/hub"
	"go.yaml.in/yaml/v4"
)

// redactConfig removes the customer's secrets from an error a controller
// caused: its message reaches the operator, the log and the audit log, and
// a controller may echo what it was sent (the generated controller.yaml
// holds them all), in any encoding hub.Redact knows. A secret cut short
// at the end of a truncated message is removed too.
func redactConfig(err error, cfg *hub.CustomerConfig) error {
	if err == nil {
		return nil
	}
	secrets := configSecrets(cfg)
	msg := hub.ErrorMessage(err)
	clean := hub.Redact(msg, secrets...)
	if clean == msg {
		return err
	}
	return hub.Errorf(hub.ErrorCode(err), "%s", clean)
}

// configSecrets lists the secrets of a config: its credentials, its token,
// and every longer text value of its overrides (where an operator may have
// put a password).
func configSecrets(cfg *hub.CustomerConfig) []string {
	secrets := []string{cfg.APIKey, cfg.Rotation.PreviousAPIKey, cfg.RetrievalPassword, cfg.SessionSecret, cfg.CloudflareTunnelToken}
	var overrides any
	if yaml.Unmarshal([]byte(cfg.OverridesYAML), &overrides) == nil {
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for _, e := range v {
					walk(e)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case string:
				secrets = append(secrets, v)
			}
		}
		walk(overrides)
	}
	return secrets
}
