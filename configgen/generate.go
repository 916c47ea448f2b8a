package configgen

import (
	_ "embed"
	"strings"

	hub "github.com/felhom/hub"
	"go.yaml.in/yaml/v4"
)

// DefaultTemplate is the controller.yaml template built into the binary, so
// that a hub with no network generates configs.
//
//go:embed controller.yaml.example
var DefaultTemplate []byte

// MaxTemplateBytes bounds a template.
const MaxTemplateBytes = 1 << 20

// ParseTemplate checks that data is a usable template: one YAML document
// with a mapping at the top.
func ParseTemplate(data []byte) (*yaml.Node, error) {
	if len(data) > MaxTemplateBytes {
		return nil, hub.Errorf(hub.EINVALID, "template is larger than %d KiB", MaxTemplateBytes>>10)
	}
	return ParseMapping(data, "template", false)
}

// Managed keys: the values the hub owns in every generated config. The
// free-form overrides may not set them.
const (
	KeyCustomerID          = "customer.id"
	KeyCustomerName        = "customer.name"
	KeyCustomerDomain      = "customer.domain"
	KeyHubAPIKey           = "hub.api_key"
	KeySessionSecret       = "session.secret"
	KeyCloudflareToken     = "cloudflare.tunnel_token"
	KeyLegacyHeartbeatUUID = "monitoring.legacy.heartbeat_uuid"
	KeyLegacyBackupUUID    = "monitoring.legacy.backup_uuid"
)

// managedValues returns the managed keys with the config's values, in the
// order they are written.
func managedValues(cfg *hub.CustomerConfig) [][2]string {
	return [][2]string{
		{KeyCustomerID, cfg.CustomerID},
		{KeyCustomerName, cfg.DisplayName},
		{KeyCustomerDomain, cfg.Domain},
		{KeyHubAPIKey, cfg.APIKey},
		{KeySessionSecret, cfg.SessionSecret},
		{KeyCloudflareToken, cfg.CloudflareTunnelToken},
		{KeyLegacyHeartbeatUUID, cfg.LegacyHeartbeatUUID},
		{KeyLegacyBackupUUID, cfg.LegacyBackupUUID},
	}
}

// ManagedKeys lists the dotted keys the hub sets in every config.
func ManagedKeys() []string {
	var keys []string
	for _, kv := range managedValues(&hub.CustomerConfig{}) {
		keys = append(keys, kv[0])
	}
	return keys
}

// ParseOverrides parses a customer's free-form overrides: "" or a YAML
// mapping that sets none of the managed keys (nor replaces a mapping that
// holds one). It returns the mapping node.
func ParseOverrides(text string) (*yaml.Node, error) {
	if len(text) > hub.MaxOverridesBytes {
		return nil, hub.Errorf(hub.EINVALID, "overrides_yaml is larger than %d KiB", hub.MaxOverridesBytes>>10)
	}
	doc, err := ParseMapping([]byte(text), "overrides_yaml", true)
	if err != nil {
		return nil, err
	}
	root := doc.Content[0]
	for _, key := range ManagedKeys() {
		if p, ok := blocksManaged(root, strings.Split(key, ".")); ok {
			return nil, hub.Errorf(hub.EINVALID,
				"overrides_yaml may not set %s: %s is managed by the hub (edit the config's fields instead)", p, key)
		}
	}
	return root, nil
}

// blocksManaged reports whether mapping m sets the path, or replaces one
// of its parents with something that is not a mapping; it returns the
// offending dotted key.
func blocksManaged(m *yaml.Node, path []string) (string, bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind != yaml.ScalarNode || k.Value != path[0] {
			continue
		}
		v := m.Content[i+1]
		if len(path) == 1 || v.Kind != yaml.MappingNode {
			return m.Content[i].Value, true
		}
		sub, ok := blocksManaged(v, path[1:])
		if ok {
			return path[0] + "." + sub, true
		}
		return "", false
	}
	return "", false
}

// ValidateOverrides returns ParseOverrides's error.
func ValidateOverrides(text string) error {
	_, err := ParseOverrides(text)
	return err
}

// Generate renders the customer's controller.yaml: the template, then the
// free-form overrides, then the values the hub manages.
func Generate(template []byte, cfg *hub.CustomerConfig) ([]byte, error) {
	doc, err := ParseTemplate(template)
	if err != nil {
		return nil, err
	}
	root := doc.Content[0]
	over, err := ParseOverrides(cfg.OverridesYAML)
	if err != nil {
		return nil, err
	}
	Merge(root, over)
	managed := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, kv := range managedValues(cfg) {
		setPath(managed, strings.Split(kv[0], "."), kv[1])
	}
	Merge(root, managed)
	return Encode(doc)
}

// KeyHubURL is where a controller sends its reports.
const KeyHubURL = "hub.url"

// WithHubURL returns template with hub.url set to hubURL, so that the
// configs a hub generates point at that hub; an override may still set
// hub.url for one customer.
func WithHubURL(template []byte, hubURL string) ([]byte, error) {
	doc, err := ParseTemplate(template)
	if err != nil {
		return nil, err
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	setPath(m, strings.Split(KeyHubURL, "."), hubURL)
	Merge(doc.Content[0], m)
	return Encode(doc)
}

// setPath sets a string at a dotted path in mapping m, creating mappings.
func setPath(m *yaml.Node, path []string, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == path[0] {
			if len(path) == 1 {
				m.Content[i+1].SetString(value)
			} else {
				setPath(m.Content[i+1], path[1:], value)
			}
			return
		}
	}
	key := &yaml.Node{}
	key.SetString(path[0])
	var v *yaml.Node
	if len(path) == 1 {
		v = &yaml.Node{}
		v.SetString(value)
	} else {
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		setPath(v, path[1:], value)
	}
	m.Content = append(m.Content, key, v)
}
