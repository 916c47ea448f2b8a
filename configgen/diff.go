package configgen

import (
	"encoding/base64"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Change types of a diff, seen from the hub: what a push would do to the
// live config.
const (
	// Added: the key is in the hub's config, not in the live one.
	Added = "added"
	// Removed: the key is in the live config, not in the hub's.
	Removed = "removed"
	// Changed: both have the key with different values.
	Changed = "changed"
)

// Change is one differing key.
type Change struct {
	// Key is the dotted path, with [i] for list items: backup.keep_daily.
	Key  string `json:"key"`
	Type string `json:"type"`
	// Hub and Live are the values as written; masked for secrets.
	Hub  string `json:"hub,omitempty"`
	Live string `json:"live,omitempty"`
	// Secret is true when the values are masked.
	Secret bool `json:"secret,omitempty"`
}

// Mask replaces a secret's value in a diff.
const Mask = "********"

// secretWords mark a key as secret when any segment of its path holds one.
var secretWords = []string{"token", "secret", "password", "passwd", "passphrase", "api_key", "apikey", "private_key", "credential"}

// IsSecretKey reports whether a dotted key names a secret.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// leaf is one flattened value: canon compares, text shows.
type leaf struct {
	canon string
	text  string
}

// Diff compares the hub's config with the live one key by key and by value:
// key order, quoting and formatting do not matter, keys matching a volatile
// pattern are ignored, secrets are masked. The result is sorted by key.
func Diff(hubYAML, liveYAML []byte, volatile []string) ([]Change, error) {
	hubDoc, err := ParseMapping(hubYAML, "the hub's config", true)
	if err != nil {
		return nil, err
	}
	liveDoc, err := ParseMapping(liveYAML, "the live config", true)
	if err != nil {
		return nil, err
	}
	h, l := map[string]leaf{}, map[string]leaf{}
	flatten(hubDoc.Content[0], "", h)
	flatten(liveDoc.Content[0], "", l)
	changes := []Change{}
	for key, hv := range h {
		if matchesAny(volatile, key) {
			continue
		}
		lv, ok := l[key]
		switch {
		case !ok:
			changes = append(changes, change(key, Added, hv.text, ""))
		case lv.canon != hv.canon:
			changes = append(changes, change(key, Changed, hv.text, lv.text))
		}
	}
	for key, lv := range l {
		if _, ok := h[key]; !ok && !matchesAny(volatile, key) {
			changes = append(changes, change(key, Removed, "", lv.text))
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Key < changes[j].Key })
	return changes, nil
}

func change(key, typ, hubText, liveText string) Change {
	c := Change{Key: key, Type: typ, Hub: hubText, Live: liveText}
	if IsSecretKey(key) {
		c.Secret = true
		if c.Hub != "" {
			c.Hub = Mask
		}
		if c.Live != "" {
			c.Live = Mask
		}
	}
	return c
}

// flatten records every leaf of n under its dotted path. Empty mappings
// and lists are leaves of their own.
func flatten(n *yaml.Node, path string, out map[string]leaf) {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			out[path] = leaf{canon: "map:{}", text: "{}"}
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := keyText(n.Content[i])
			if path != "" {
				k = path + "." + k
			}
			flatten(n.Content[i+1], k, out)
		}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			out[path] = leaf{canon: "seq:[]", text: "[]"}
			return
		}
		for i, c := range n.Content {
			flatten(c, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			flatten(n.Content[0], path, out)
		}
	default:
		out[path] = leaf{canon: canonical(n), text: n.Value}
	}
}

// keyText names a mapping key in a dotted path by its value, as findKey
// matches keys: ~ and null are "null", 0x1 and 1 are "1".
func keyText(k *yaml.Node) string {
	if k.Kind != yaml.ScalarNode || isString(k) {
		return k.Value
	}
	c := canonical(k)
	if _, v, ok := strings.Cut(c, ":"); ok && c != "null" {
		return v
	}
	return c
}

// canonical is a scalar's value in a form where equal values are equal
// text: 1, 1.0 and 0x1 are one number; 'a', "a" and a one string.
func canonical(n *yaml.Node) string {
	var v any
	if err := n.Decode(&v); err != nil {
		return "raw:" + n.ShortTag() + ":" + n.Value
	}
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "str:" + v
	case bool:
		return "bool:" + strconv.FormatBool(v)
	case int:
		return "num:" + strconv.FormatInt(int64(v), 10)
	case int64:
		return "num:" + strconv.FormatInt(v, 10)
	case uint64:
		return "num:" + strconv.FormatUint(v, 10)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return "num:" + strconv.FormatInt(int64(v), 10)
		}
		return "num:" + strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return "time:" + v.UTC().Format(time.RFC3339Nano)
	case []byte:
		return "bin:" + base64.StdEncoding.EncodeToString(v)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// matchesAny reports whether key falls under one of the volatile patterns.
func matchesAny(patterns []string, key string) bool {
	for _, p := range patterns {
		if matchKey(p, key) {
			return true
		}
	}
	return false
}

// matchKey reports whether key is pattern or lies under it. Patterns are
// dotted keys where "*" matches any text within one segment ("*" is any
// segment, "last_*" any segment starting last_); a segment without "[" in
// the pattern matches a key segment with any list index: "stacks.status"
// matches "stacks[3].status".
func matchKey(pattern, key string) bool {
	ps := strings.Split(strings.TrimSpace(pattern), ".")
	ks := strings.Split(key, ".")
	if len(ks) < len(ps) {
		return false
	}
	for i, p := range ps {
		k := ks[i]
		if !strings.Contains(p, "[") {
			if j := strings.IndexByte(k, '['); j >= 0 {
				k = k[:j]
			}
		}
		if !matchSegment(p, k) {
			return false
		}
	}
	return true
}

// matchSegment matches one key segment against a pattern segment in which
// "*" stands for any text (no other character is special).
func matchSegment(pattern, segment string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == segment
	}
	if !strings.HasPrefix(segment, parts[0]) {
		return false
	}
	segment = segment[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(segment, part)
		if i < 0 {
			return false
		}
		segment = segment[i+len(part):]
	}
	return len(segment) >= len(last) && strings.HasSuffix(segment, last)
}
