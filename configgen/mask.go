package configgen

import (
	"fmt"

	"go.yaml.in/yaml/v4"
)

// MaskSecrets returns the config with the value of every key that names a
// secret (IsSecretKey) replaced by Mask, for showing a config to a person
// without showing its credentials. Empty and null values stay as they are,
// so that "not set" still shows.
func MaskSecrets(configYAML []byte) ([]byte, error) {
	doc, err := ParseMapping(configYAML, "config", true)
	if err != nil {
		return nil, err
	}
	maskLeaves(doc.Content[0], "")
	return Encode(doc)
}

// maskLeaves masks the secret scalars under n, whose dotted path is path.
func maskLeaves(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := keyText(n.Content[i])
			if path != "" {
				k = path + "." + k
			}
			maskLeaves(n.Content[i+1], k)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			maskLeaves(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		if IsSecretKey(path) && !isNull(n) && n.Value != "" {
			n.SetString(Mask)
		}
	}
}
