// Package configgen generates a customer's controller.yaml: the template
// deep-merged with the customer's overrides, comments and key order kept,
// the same bytes for the same input.
package configgen

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	hub "github.com/felhom/hub"
	"go.yaml.in/yaml/v4"
)

// maxNodes bounds the size of a document after its aliases are expanded,
// so that a "billion laughs" document cannot exhaust memory.
const maxNodes = 100_000

// ParseMapping parses one YAML document whose root is a mapping and
// returns its document node with every alias expanded. what names the
// input in errors ("template", "overrides_yaml"). With allowEmpty, a
// document with no content gives an empty mapping. Errors are EINVALID
// and carry the parser's position, never the input's values.
func ParseMapping(data []byte, what string, allowEmpty bool) (*yaml.Node, error) {
	var docs []yaml.Node
	if err := yaml.Load(data, &docs, yaml.WithAllDocuments()); err != nil {
		return nil, hub.Errorf(hub.EINVALID, "%s is not valid YAML: %s%s", what, yamlErrorText(err), tabHint(data))
	}
	if len(docs) > 1 {
		return nil, hub.Errorf(hub.EINVALID, "%s must be one YAML document, found %d", what, len(docs))
	}
	if len(docs) == 0 || len(docs[0].Content) == 0 || isNull(docs[0].Content[0]) {
		if !allowEmpty {
			return nil, hub.Errorf(hub.EINVALID, "%s is empty", what)
		}
		doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
		if len(docs) == 1 {
			doc.HeadComment, doc.FootComment = docs[0].HeadComment, docs[0].FootComment
		}
		return doc, nil
	}
	doc := &docs[0]
	if doc.Kind != yaml.DocumentNode || doc.Content[0].Kind != yaml.MappingNode {
		return nil, hub.Errorf(hub.EINVALID, "%s must be a YAML mapping (key: value pairs) at the top level", what)
	}
	budget := maxNodes
	root, err := expand(doc.Content[0], &budget, 0)
	if err != nil {
		return nil, hub.Errorf(hub.EINVALID, "%s: %v", what, err)
	}
	doc.Content[0] = root
	return doc, nil
}

// yamlErrorText keeps the position and the parser's description of a YAML
// error; the description names tokens and keys, not values.
// tabHint explains the usual cause of a YAML syntax error that names no
// cause a person would guess: a tab in the indentation.
func tabHint(data []byte) string {
	for line := range strings.SplitSeq(string(data), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") {
			return " (a line is indented with a tab: YAML allows only spaces for indentation)"
		}
	}
	return ""
}

func yamlErrorText(err error) string {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		if le.Mark.Line > 0 {
			return fmt.Sprintf("line %d: %s", le.Mark.Line, le.Message)
		}
		return le.Message
	}
	var les *yaml.LoadErrors
	if errors.As(err, &les) && len(les.Errors) > 0 {
		return yamlErrorText(les.Errors[0])
	}
	return "syntax error"
}

// expand returns a copy of n with aliases replaced by copies of what they
// point to and anchors dropped, failing when the result grows past budget.
func expand(n *yaml.Node, budget *int, depth int) (*yaml.Node, error) {
	*budget--
	if *budget < 0 {
		return nil, errors.New("document is too large once its aliases are expanded")
	}
	if depth > 200 {
		return nil, errors.New("document is nested too deeply")
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, errors.New("alias without a target")
		}
		out, err := expand(n.Alias, budget, depth+1)
		if err != nil {
			return nil, err
		}
		// The alias's own position keeps its comments.
		out.HeadComment, out.LineComment, out.FootComment = n.HeadComment, n.LineComment, n.FootComment
		return out, nil
	}
	if n.Kind == yaml.MappingNode {
		if err := checkUniqueKeys(n); err != nil {
			return nil, err
		}
	}
	out := *n
	out.Anchor, out.Alias = "", nil
	out.Content = nil
	if len(n.Content) > 0 {
		out.Content = make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			var err error
			if out.Content[i], err = expand(c, budget, depth+1); err != nil {
				return nil, err
			}
		}
	}
	return &out, nil
}

// checkUniqueKeys rejects a mapping that has a scalar key twice: which of
// the two values a merge would keep is anybody's guess.
func checkUniqueKeys(m *yaml.Node) error {
	seen := make(map[string]bool, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		id := canonical(k)
		if seen[id] {
			return fmt.Errorf("duplicate key %.64s at line %d", k.Value, k.Line)
		}
		seen[id] = true
	}
	return nil
}

// isNull reports whether n is the null scalar.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isString reports whether n is a string scalar.
func isString(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
}

// Merge deep-merges src into dst: mappings merge key by key (dst's keys
// keep their order and new keys are appended in src's order), anything
// else in src (scalars, lists, null, a different kind) replaces dst's
// value. dst's comments stay where src brings none.
func Merge(dst, src *yaml.Node) {
	if dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(src.Content); i += 2 {
			key, value := src.Content[i], src.Content[i+1]
			if j := findKey(dst, key); j >= 0 {
				Merge(dst.Content[j+1], value)
				continue
			}
			dst.Content = append(dst.Content, copyNode(key), copyNode(value))
		}
		return
	}
	replace(dst, src)
}

// findKey returns the index of key in mapping m, or -1. Keys match by
// value: 'a' and "a" are one key, 1 and "1" are two.
func findKey(m *yaml.Node, key *yaml.Node) int {
	if key.Kind != yaml.ScalarNode {
		return -1
	}
	want := canonical(key)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && canonical(k) == want {
			return i
		}
	}
	return -1
}

// replace overwrites dst with a copy of src, keeping dst's comments where
// src has none and the template's quoting when a string replaces a string.
func replace(dst, src *yaml.Node) {
	old := *dst
	*dst = *copyNode(src)
	if dst.HeadComment == "" {
		dst.HeadComment = old.HeadComment
	}
	if dst.LineComment == "" {
		dst.LineComment = old.LineComment
	}
	if dst.FootComment == "" {
		dst.FootComment = old.FootComment
	}
	quoted := yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle
	if isString(&old) && isString(dst) && dst.Style == 0 && old.Style&quoted != 0 && !strings.Contains(dst.Value, "\n") {
		dst.Style = old.Style & quoted
	}
}

// copyNode returns a deep copy of n.
func copyNode(n *yaml.Node) *yaml.Node {
	out := *n
	if n.Content != nil {
		out.Content = make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out.Content[i] = copyNode(c)
		}
	}
	return &out
}

// Encode writes a document with two-space indentation and no line
// wrapping, then separates top-level sections with a blank line.
func Encode(doc *yaml.Node) ([]byte, error) {
	spellFlowNulls(doc, false)
	out, err := yaml.Dump(doc, yaml.WithIndent(2), yaml.WithCompactSeqIndent(false), yaml.WithLineWidth(-1))
	if err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return spaceSections(out), nil
}

// spellFlowNulls writes empty nulls that are keys or inside flow
// collections as "null": the emitter would write {b: } with an empty quoted
// string for b, and a null key the same way, turning null into a string.
func spellFlowNulls(n *yaml.Node, inFlow bool) {
	if inFlow && isNull(n) && n.Value == "" {
		n.Value = "null"
	}
	inFlow = inFlow || n.Style&yaml.FlowStyle != 0
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 && isNull(c) && c.Value == "" {
			c.Value = "null"
		}
		spellFlowNulls(c, inFlow)
	}
}

// spaceSections puts a blank line before each top-level key that follows
// a multi-line section, as a person would write the file. The emitter
// loses blank lines; this restores the usual look. It is checked: when
// the spaced text does not load to the same value (a keep-chomped block
// scalar would), the text is returned unchanged.
func spaceSections(in []byte) []byte {
	lines := bytes.SplitAfter(in, []byte("\n"))
	var out bytes.Buffer
	prevIndented, seenTop := false, false
	for _, line := range lines {
		top := len(line) > 0 && line[0] != ' ' && line[0] != '\n' && line[0] != '\r' &&
			!bytes.HasPrefix(line, []byte("---")) && !bytes.HasPrefix(line, []byte("..."))
		if top && seenTop && prevIndented {
			out.WriteByte('\n')
		}
		if top && line[0] != '#' {
			seenTop = true
		}
		if len(line) > 0 {
			prevIndented = line[0] == ' '
		}
		out.Write(line)
	}
	spaced := out.Bytes()
	if bytes.Equal(spaced, in) || !sameValue(in, spaced) {
		return in
	}
	return spaced
}

// sameValue reports whether two YAML texts load to equal values.
func sameValue(a, b []byte) bool {
	var va, vb any
	if yaml.Load(a, &va) != nil || yaml.Load(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// MergeYAML merges the overrides text into the template text and encodes
// the result.
func MergeYAML(template, overrides []byte) ([]byte, error) {
	doc, err := ParseMapping(template, "template", false)
	if err != nil {
		return nil, err
	}
	over, err := ParseMapping(overrides, "overrides", true)
	if err != nil {
		return nil, err
	}
	Merge(doc.Content[0], over.Content[0])
	return Encode(doc)
}
