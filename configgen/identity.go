package configgen

import (
	"strings"

	hub "github.com/felhom/hub"
	"go.yaml.in/yaml/v4"
)

// ReadIdentity reads who a controller.yaml says the node is and where it
// reports: customer.id, customer.domain, hub.url and hub.api_key. A key
// that is absent or not a plain value reads as "". An error means the text
// is not a YAML mapping. It is a hub.IdentityReader.
func ReadIdentity(text []byte) (*hub.DRIdentity, error) {
	doc, err := ParseMapping(text, "controller.yaml", false)
	if err != nil {
		return nil, err
	}
	root := doc.Content[0]
	value := func(key string) string {
		n := lookup(root, strings.Split(key, "."))
		if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
			return ""
		}
		return strings.TrimSpace(n.Value)
	}
	return &hub.DRIdentity{
		CustomerID: value(KeyCustomerID),
		Domain:     value(KeyCustomerDomain),
		HubURL:     value(KeyHubURL),
		APIKey:     value(KeyHubAPIKey),
	}, nil
}

var _ hub.IdentityReader = ReadIdentity
