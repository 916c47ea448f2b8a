package fleet

import (
	"strings"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/controller"
	"go.yaml.in/yaml/v4"
)

// redactConfig removes the customer's secrets from an error a controller
// caused: its message reaches the operator, the log and the audit log, and
// a controller may echo what it was sent (the generated controller.yaml
// holds them all). A secret cut short at the end of a truncated message
// is removed too.
func redactConfig(err error, cfg *hub.CustomerConfig) error {
	if err == nil {
		return nil
	}
	secrets := configSecrets(cfg)
	msg := hub.ErrorMessage(err)
	clean := controller.Redact(msg, secrets...)
	clean = redactCutTail(clean, secrets)
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

// redactCutTail removes the start of a secret that a truncated message
// ("…" at its end) cut off.
func redactCutTail(msg string, secrets []string) string {
	body, cut := strings.CutSuffix(msg, "…")
	if !cut {
		return msg
	}
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		for n := len(s) - 1; n >= 4; n-- {
			if strings.HasSuffix(body, s[:n]) {
				return body[:len(body)-n] + "[redacted]…"
			}
		}
	}
	return msg
}
