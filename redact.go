package hub

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces a secret in text that leaves the hub's hands.
const Redacted = "[redacted]"

// minRedactLen is the shortest secret Redact looks for: shorter values
// are not secrets worth the name, and would blank out ordinary words.
const minRedactLen = 8

// Redact replaces every secret of 8 characters or more in s, as it is and
// in every encoding an outside service may echo it in: base64 (standard
// and URL-safe, with and without padding, and the three alignments of the
// secret inside a longer base64 text), URL encoding (query and path
// escaping, upper- and lower-case hex), hex, and JSON string escaping. A
// message cut short ("…" at its end) in the middle of one of those forms
// loses that start too. It is the one redaction of the hub: controller
// calls, steering errors and mail providers all use it.
func Redact(s string, secrets ...string) string {
	var forms []string
	for _, secret := range secrets {
		if len(secret) >= minRedactLen {
			forms = append(forms, secretForms(secret)...)
		}
	}
	if len(forms) == 0 {
		return s
	}
	// Longest first, so that a form never leaves the rest of a longer one
	// (base64 with its padding before the same without).
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	forms = slices.Compact(forms)
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, Redacted)
	}
	return redactCutTail(s, forms)
}

// secretForms lists the ways secret may appear in an echoed text.
func secretForms(secret string) []string {
	raw := []byte(secret)
	forms := []string{
		secret,
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for shift := range 3 {
			forms = append(forms, embeddedBase64(enc, raw, shift))
		}
	}
	for _, escaped := range []string{url.QueryEscape(secret), url.PathEscape(secret), percentEncodeAll(secret)} {
		forms = append(forms, escaped, lowerPercentHex(escaped))
	}
	if quoted, err := json.Marshal(secret); err == nil {
		inner := string(quoted[1 : len(quoted)-1])
		forms = append(forms, inner, strings.ReplaceAll(inner, "/", `\/`))
	}
	return forms
}

// embeddedBase64 returns the characters of secret's base64 that are the
// same wherever it sits inside a longer encoded text, when shift bytes of
// that text precede it in its 3-byte group: the characters made of its
// bits alone.
func embeddedBase64(enc *base64.Encoding, raw []byte, shift int) string {
	padded := append(make([]byte, shift, shift+len(raw)), raw...)
	text := enc.EncodeToString(padded)
	first := (8*shift + 5) / 6         // the first character with no bit of the preceding bytes
	last := 8 * (shift + len(raw)) / 6 // the characters after this one share bits with what follows
	return text[first:last]
}

// percentEncodeAll escapes every byte of s as %XX, as some encoders do.
func percentEncodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{s[i]})))
	}
	return b.String()
}

// lowerPercentHex turns the hex digits of every %XX escape of s to lower
// case.
func lowerPercentHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = toLowerASCII(b[i+1]), toLowerASCII(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// redactCutTail removes the start of a form, 4 characters or more, that a
// message cut short ("…" at its end) ends in.
func redactCutTail(msg string, forms []string) string {
	body, cut := strings.CutSuffix(msg, "…")
	if !cut {
		return msg
	}
	longest := 0
	for _, f := range forms {
		longest = max(longest, prefixAtEnd(body, f))
	}
	if longest < 4 {
		return msg
	}
	return body[:len(body)-longest] + Redacted + "…"
}

// prefixAtEnd returns the length of the longest proper prefix of form that
// text ends with, in time linear in the lengths (Knuth-Morris-Pratt), so
// that long secrets cost no more than short ones.
func prefixAtEnd(text, form string) int {
	if len(form) < 2 {
		return 0
	}
	// fail[i] is the length of the longest proper prefix of form[:i+1]
	// that is also its suffix.
	fail := make([]int, len(form))
	for i, k := 1, 0; i < len(form); i++ {
		for k > 0 && form[i] != form[k] {
			k = fail[k-1]
		}
		if form[i] == form[k] {
			k++
		}
		fail[i] = k
	}
	text = text[max(0, len(text)-len(form)):]
	k := 0
	for i := 0; i < len(text); i++ {
		for k > 0 && (k == len(form) || text[i] != form[k]) {
			k = fail[k-1]
		}
		if text[i] == form[k] {
			k++
		}
	}
	if k == len(form) {
		k = fail[k-1]
	}
	return k
}
