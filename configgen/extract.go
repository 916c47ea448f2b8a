package configgen

import (
	"strings"

	hub "github.com/felhom/hub"
	"go.yaml.in/yaml/v4"
)

// Extracted is what a pull takes from a live controller.yaml. A field is
// nil when the live config does not have the key.
type Extracted struct {
	CustomerID          *string
	DisplayName         *string
	Domain              *string
	TunnelToken         *string
	LegacyHeartbeatUUID *string
	LegacyBackupUUID    *string
	// APIKey and SessionSecret are read to warn when they differ from the
	// hub's; the hub's credentials are never replaced by a pull.
	APIKey        *string
	SessionSecret *string
	// OverridesYAML holds every other key whose live value differs from
	// the template: merged over the template it gives the live values back.
	OverridesYAML string
}

// Extract reads identity, tokens and overrides from a live config.
// Volatile keys are not carried into the overrides. Keys the template has
// and the live config lacks cannot be expressed as overrides and are left
// out.
func Extract(template, live []byte, volatile []string) (*Extracted, error) {
	tmplDoc, err := ParseTemplate(template)
	if err != nil {
		return nil, err
	}
	liveDoc, err := ParseMapping(live, "the live config", false)
	if err != nil {
		return nil, err
	}
	root := liveDoc.Content[0]
	ex := &Extracted{}
	for key, dst := range map[string]**string{
		KeyCustomerID: &ex.CustomerID, KeyCustomerName: &ex.DisplayName, KeyCustomerDomain: &ex.Domain,
		KeyCloudflareToken: &ex.TunnelToken, KeyLegacyHeartbeatUUID: &ex.LegacyHeartbeatUUID,
		KeyLegacyBackupUUID: &ex.LegacyBackupUUID, KeyHubAPIKey: &ex.APIKey, KeySessionSecret: &ex.SessionSecret,
	} {
		n := lookup(root, strings.Split(key, "."))
		if n == nil {
			continue
		}
		if n.Kind != yaml.ScalarNode {
			return nil, hub.Errorf(hub.EINVALID, "the live config's %s is not a plain value", key)
		}
		v := n.Value
		if isNull(n) {
			v = ""
		}
		*dst = &v
	}
	managed := ManagedKeys()
	overrides := delta(tmplDoc.Content[0], root, "", managed, volatile)
	if len(overrides.Content) == 0 {
		return ex, nil
	}
	out, err := Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{overrides}})
	if err != nil {
		return nil, err
	}
	ex.OverridesYAML = string(out)
	if len(ex.OverridesYAML) > hub.MaxOverridesBytes {
		return nil, hub.Errorf(hub.EINVALID, "the live config differs from the template by more than %d KiB", hub.MaxOverridesBytes>>10)
	}
	return ex, nil
}

// lookup returns the node at path in mapping m, or nil.
func lookup(m *yaml.Node, path []string) *yaml.Node {
	for len(path) > 0 {
		if m.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == path[0] {
				next = m.Content[i+1]
				break
			}
		}
		if next == nil {
			return nil
		}
		m, path = next, path[1:]
	}
	return m
}

// delta returns the mapping of live's keys whose values differ from the
// template's, skipping managed and volatile keys; live's order and
// comments are kept.
func delta(tmpl, live *yaml.Node, prefix string, managed, volatile []string) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(live.Content); i += 2 {
		key, value := live.Content[i], live.Content[i+1]
		path := key.Value
		if prefix != "" {
			path = prefix + "." + key.Value
		}
		if matchesAny(managed, path) || matchesAny(volatile, path) {
			continue
		}
		var tv *yaml.Node
		if tmpl != nil && tmpl.Kind == yaml.MappingNode {
			if j := findKey(tmpl, key); j >= 0 {
				tv = tmpl.Content[j+1]
			}
		}
		if value.Kind == yaml.MappingNode && (tv == nil || tv.Kind == yaml.MappingNode) && len(value.Content) > 0 {
			if sub := delta(tv, value, path, managed, volatile); len(sub.Content) > 0 {
				out.Content = append(out.Content, copyNode(key), sub)
			}
			continue
		}
		if tv != nil && sameNode(tv, value) {
			continue
		}
		if hasManagedBelow(managed, path) {
			// Replacing a parent of a managed key is not an override the
			// hub accepts; its managed fields are read separately.
			continue
		}
		out.Content = append(out.Content, copyNode(key), copyNode(value))
	}
	return out
}

// hasManagedBelow reports whether a managed key lies under path.
func hasManagedBelow(managed []string, path string) bool {
	for _, m := range managed {
		if strings.HasPrefix(m, path+".") {
			return true
		}
	}
	return false
}

// sameNode reports whether two subtrees hold equal values.
func sameNode(a, b *yaml.Node) bool {
	fa, fb := map[string]leaf{}, map[string]leaf{}
	flatten(a, "", fa)
	flatten(b, "", fb)
	if len(fa) != len(fb) {
		return false
	}
	for k, v := range fa {
		if w, ok := fb[k]; !ok || w.canon != v.canon {
			return false
		}
	}
	return true
}
