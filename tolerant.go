package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FieldProblem is a field of a posted body the hub could not read as the
// contract describes: it was left out of the denormalized view (or read as
// a stated default), and the body was stored all the same (SPEC §2.2).
type FieldProblem struct {
	// Path names the field, such as storage[2].used_bytes.
	Path string `json:"path"`
	// Reason says what was wrong and what the hub did about it. It never
	// quotes the value (it may be a secret or hostile text).
	Reason string `json:"reason"`
}

// MaxFieldProblems is the most problems kept per body; the last one then
// says how many more there were.
const MaxFieldProblems = 50

// FieldProblems are the problems of one body.
type FieldProblems []FieldProblem

// Encode returns the form the store keeps: "" for no problems, a JSON
// array otherwise.
func (ps FieldProblems) Encode() string {
	if len(ps) == 0 {
		return ""
	}
	b, _ := json.Marshal([]FieldProblem(ps)) // strings only: cannot fail
	return string(b)
}

// ParseFieldProblems reads the stored form of Encode. A stored value
// that cannot be read (it never should) gives a single problem saying so,
// never an error: a page must not fail on it.
func ParseFieldProblems(text string) FieldProblems {
	if text == "" {
		return nil
	}
	var ps []FieldProblem
	if err := json.Unmarshal([]byte(text), &ps); err != nil {
		return FieldProblems{{Path: "", Reason: "the stored field problems are unreadable"}}
	}
	return ps
}

// Limits of plausible numbers (SPEC §2.2): byte counts and other
// magnitudes beyond 2^53 are not exact in JSON and never real.
const maxPlausible = 1 << 53

// reader reads the fields of a body leniently: every field that is not as
// the contract says is recorded as a problem and left out, so that one odd
// field never costs a node its report.
type reader struct {
	problems FieldProblems
	dropped  int
}

// problem records that the field at path was not read.
func (rd *reader) problem(path, format string, args ...any) {
	if len(rd.problems) >= MaxFieldProblems-1 {
		rd.dropped++
		return
	}
	rd.problems = append(rd.problems, FieldProblem{Path: path, Reason: fmt.Sprintf(format, args...)})
}

// result returns the problems, the last saying how many were not kept.
func (rd *reader) result() FieldProblems {
	if rd.dropped > 0 {
		return append(rd.problems, FieldProblem{Path: "", Reason: fmt.Sprintf("%d more field problems not listed", rd.dropped)})
	}
	return rd.problems
}

// present reports whether raw holds a value: absent fields and null are
// the same to the hub.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// jsonKind names the JSON type of a raw value for a problem's reason.
func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// object decodes raw, which should be a JSON object, into v (a struct of
// json.RawMessage fields). False when absent or not an object.
func (rd *reader) object(path string, raw json.RawMessage, v any) bool {
	if !present(raw) {
		return false
	}
	if raw[0] != '{' {
		rd.problem(path, "expected an object, got %s; left out", jsonKind(raw))
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		rd.problem(path, "unreadable object; left out")
		return false
	}
	return true
}

// array splits raw, which should be a JSON array, into its elements. Nil
// when absent or not an array.
func (rd *reader) array(path string, raw json.RawMessage, maxLen int) []json.RawMessage {
	if !present(raw) {
		return nil
	}
	if raw[0] != '[' {
		rd.problem(path, "expected an array, got %s; left out", jsonKind(raw))
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		rd.problem(path, "unreadable array; left out")
		return nil
	}
	if len(items) > maxLen {
		rd.problem(path, "has %d entries, more than %d; only the first %d read", len(items), maxLen, maxLen)
		items = items[:maxLen]
	}
	return items
}

// readList reads raw, which should be a JSON array of objects, calling each
// with the path and wire form W of every entry that is an object (null
// entries are skipped, others are problems); it returns how many it read.
func readList[W any](rd *reader, path string, raw json.RawMessage, maxLen int, each func(path string, w *W)) int {
	return eachEntry(rd, path, listOf[W](rd, path, raw), maxLen, each)
}

// listOf decodes raw, which should be a JSON array of objects, into wire
// forms W; an entry that is not an object is a problem and nil.
func listOf[W any](rd *reader, path string, raw json.RawMessage) []*W {
	if !present(raw) {
		return nil
	}
	if raw[0] != '[' {
		rd.problem(path, "expected an array, got %s; left out", jsonKind(raw))
		return nil
	}
	// An array of objects, the usual case, decodes in one pass.
	var all []*W
	if err := json.Unmarshal(raw, &all); err == nil {
		return all
	}
	items := rd.array(path, raw, math.MaxInt)
	all = make([]*W, len(items))
	for i, item := range items {
		var w W
		if rd.object(entryPath(path, i), item, &w) {
			all[i] = &w
		}
	}
	return all
}

// sectionOf decodes raw, which should be a JSON object, into its wire form
// W; nil when absent or not an object.
func sectionOf[W any](rd *reader, path string, raw json.RawMessage) *W {
	var w W
	if !rd.object(path, raw, &w) {
		return nil
	}
	return &w
}

// eachEntry calls each for the entries that are objects, at most maxLen of
// them, and returns how many it called it for.
func eachEntry[W any](rd *reader, path string, items []*W, maxLen int, each func(path string, w *W)) int {
	if len(items) > maxLen {
		rd.problem(path, "has %d entries, more than %d; only the first %d read", len(items), maxLen, maxLen)
		items = items[:maxLen]
	}
	n := 0
	for i, w := range items {
		if w != nil {
			each(entryPath(path, i), w)
			n++
		}
	}
	return n
}

// collect reads the entries of a list that are objects into values of T,
// at most maxLen of them.
func collect[W, T any](rd *reader, path string, items []*W, maxLen int, read func(path string, w *W) T) []T {
	var out []T
	eachEntry(rd, path, items, maxLen, func(p string, w *W) { out = append(out, read(p, w)) })
	return out
}

// entryPath names the i-th entry of the list at path.
func entryPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// text reads a string of at most maxLen bytes. Longer strings are left out
// (cut ones would look like real values).
func (rd *reader) text(path string, raw json.RawMessage, maxLen int) string {
	s, ok := rd.rawString(path, raw)
	if !ok {
		return ""
	}
	if len(s) > maxLen {
		rd.problem(path, "longer than %d bytes; left out", maxLen)
		return ""
	}
	return s
}

// line reads a one-line string of at most maxLen bytes: a value with
// control characters is left out.
func (rd *reader) line(path string, raw json.RawMessage, maxLen int) string {
	s := rd.text(path, raw, maxLen)
	if strings.ContainsFunc(s, unicode.IsControl) {
		rd.problem(path, "contains control characters; left out")
		return ""
	}
	return s
}

// rawString decodes a JSON string; invalid UTF-8 becomes U+FFFD.
func (rd *reader) rawString(path string, raw json.RawMessage) (string, bool) {
	if !present(raw) {
		return "", false
	}
	if raw[0] != '"' {
		rd.problem(path, "expected a string, got %s; left out", jsonKind(raw))
		return "", false
	}
	// Most strings have no escapes: their bytes are the value (the body
	// was made valid UTF-8 before it was split).
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		rd.problem(path, "unreadable string; left out")
		return "", false
	}
	return s, true
}

// boolean reads true or false; nil when absent or not a boolean.
func (rd *reader) boolean(path string, raw json.RawMessage) *bool {
	if !present(raw) {
		return nil
	}
	var b bool
	switch string(raw) {
	case "true":
		b = true
	case "false":
	default:
		rd.problem(path, "expected true or false, got %s; left out", jsonKind(raw))
		return nil
	}
	return &b
}

// number reads a finite JSON number; ok is false when absent or not one.
// A number sent as a string is not read: its meaning (units, locale) is
// not the contract's.
func (rd *reader) number(path string, raw json.RawMessage) (float64, bool) {
	if !present(raw) {
		return 0, false
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		rd.problem(path, "expected a number, got %s; left out", jsonKind(raw))
		return 0, false
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		rd.problem(path, "number out of range; left out")
		return 0, false
	}
	return v, true
}

// magnitude reads a plausible non-negative quantity: bytes, seconds.
func (rd *reader) magnitude(path string, raw json.RawMessage) (float64, bool) {
	v, ok := rd.number(path, raw)
	if !ok {
		return 0, false
	}
	if v < 0 || v >= maxPlausible {
		rd.problem(path, "must be between 0 and 2^53; left out")
		return 0, false
	}
	return v, true
}

// percentSlack is how far outside 0..100 a percentage may stray (rounding
// on the sender's side) before it is implausible rather than clamped.
const percentSlack = 1

// percentage reads a percentage, clamped into 0..100 when it strays by
// rounding only.
func (rd *reader) percentage(path string, raw json.RawMessage) (float64, bool) {
	v, ok := rd.number(path, raw)
	if !ok {
		return 0, false
	}
	if v < -percentSlack || v > 100+percentSlack {
		rd.problem(path, "a percentage must be between 0 and 100; left out")
		return 0, false
	}
	return min(max(v, 0), 100), true
}

// integer reads a whole number between lo and hi.
func (rd *reader) integer(path string, raw json.RawMessage, lo, hi int64) (int64, bool) {
	v, ok := rd.number(path, raw)
	if !ok {
		return 0, false
	}
	if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		rd.problem(path, "must be a whole number between %d and %d; left out", lo, hi)
		return 0, false
	}
	return int64(v), true
}

// timestamp reads an RFC 3339 time; nil when absent or not one.
func (rd *reader) timestamp(path string, raw json.RawMessage) *time.Time {
	s, ok := rd.rawString(path, raw)
	if !ok || s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		rd.problem(path, "not an RFC 3339 time such as 2026-11-22T09:45:03Z; left out")
		return nil
	}
	t = t.UTC()
	return &t
}

// MaxFutureSkew is how far after its receipt a sender's time may lie
// before the hub takes it for a wrong clock (SPEC §2.4).
const MaxFutureSkew = 24 * time.Hour

// pastTime reads an RFC 3339 time that must not lie more than MaxFutureSkew
// after now: a later one is left out (the caller may use now instead).
func (rd *reader) pastTime(path string, raw json.RawMessage, now time.Time) *time.Time {
	t := rd.timestamp(path, raw)
	if t != nil && t.After(now.Add(MaxFutureSkew)) {
		rd.problem(path, "%s is more than 24 h after its receipt; left out", t.Format(time.RFC3339))
		return nil
	}
	return t
}

// percent returns used/total as a percentage rounded to 0.1; ok is false
// when it cannot be told (no total, used beyond total).
func percentOf(used, total float64) (float64, bool) {
	if total <= 0 || used > total {
		return 0, false
	}
	return math.Round(used/total*1000) / 10, true
}

// SanitizeUTF8 returns body with every invalid UTF-8 sequence replaced by
// U+FFFD, so that what the hub stores and serves back is valid JSON text.
// Valid bodies are returned as they are, without a copy.
func SanitizeUTF8(body []byte) []byte {
	if utf8.Valid(body) {
		return body
	}
	return bytes.ToValidUTF8(body, []byte("\uFFFD"))
}

// decodeWire decodes body, which must be one JSON object, into the wire
// struct w after replacing invalid UTF-8. It returns the sanitized body.
func decodeWire(body []byte, w any) ([]byte, error) {
	body = SanitizeUTF8(body)
	if err := DecodeJSONObject(body, w); err != nil {
		return nil, err
	}
	return body, nil
}

// readCustomerID reads the identity of a body: the one field whose problem
// rejects it.
func readCustomerID(raw json.RawMessage) (string, error) {
	if !present(raw) {
		return "", Errorf(EINVALID, "customer_id is required")
	}
	var id string
	if raw[0] != '"' || json.Unmarshal(raw, &id) != nil {
		return "", Errorf(EINVALID, "customer_id must be a string")
	}
	return id, ValidateCustomerID(id)
}

// identity is the customer_id every wire form naming a customer embeds.
type identity struct {
	CustomerID json.RawMessage `json:"customer_id"`
}

func (i *identity) customer() json.RawMessage { return i.CustomerID }

// identified is a wire form that names its customer.
type identified interface{ customer() json.RawMessage }

// decodeFor decodes body, which must be one JSON object, into its wire form
// w and reads the customer_id it names: the one field whose problem rejects
// the body. It returns the body with invalid UTF-8 replaced.
func decodeFor(body []byte, w identified) ([]byte, string, error) {
	body, err := decodeWire(body, w)
	if err != nil {
		return nil, "", err
	}
	id, err := readCustomerID(w.customer())
	return body, id, err
}

// ReadCustomerID reads only the customer_id of a JSON object body, for a
// handler that must check who may act before it reads the rest.
func ReadCustomerID(body []byte) (string, error) {
	_, id, err := decodeFor(body, &identity{})
	return id, err
}
