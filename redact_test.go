package hub_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	hub "github.com/felhom/hub"
)

// redactSecrets are secrets of the shapes the hub holds: an API key (hex),
// a retrieval password, a tunnel token (base64 with "+/="), and an
// operator's password with spaces, quotes, slashes and non-ASCII.
var redactSecrets = []string{
	"4f1c2a9be0d3576812aa9c0b7e6d5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e",
	"kx7mqp-a2b3c4-zz9yy8-ptrvwx",
	"eyJhIjoiYjEyMzQ1Njc4OTAifQ+/x=",
	`p@ss w/rd "ő" <&>`,
	"12345678", // the shortest secret redacted
}

// TestRedactEncodings echoes each secret in every encoding a service may
// use, between ordinary text: the secret goes, the text stays.
func TestRedactEncodings(t *testing.T) {
	encodings := []struct {
		name   string
		encode func(string) string
	}{
		{"plain", func(s string) string { return s }},
		{"base64 std", func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }},
		{"base64 std raw", func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }},
		{"base64 url", func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }},
		{"base64 url raw", func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }},
		{"query escaped", url.QueryEscape},
		{"path escaped", url.PathEscape},
		{"query escaped, lower-case hex", func(s string) string { return lowerEscapes(url.QueryEscape(s)) }},
		{"every byte escaped", func(s string) string {
			var b strings.Builder
			for _, c := range []byte(s) {
				b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
			}
			return b.String()
		}},
		{"hex", func(s string) string { return hex.EncodeToString([]byte(s)) }},
		{"HEX", func(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) }},
		{"json string", func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }},
		{"json, escaped slashes", func(s string) string {
			b, _ := json.Marshal(s)
			return strings.ReplaceAll(string(b[1:len(b)-1]), "/", `\/`)
		}},
	}
	for _, secret := range redactSecrets {
		for _, enc := range encodings {
			t.Run(enc.name+"/"+secret, func(t *testing.T) {
				echoed := enc.encode(secret)
				in := `{"error":"invalid key: ` + echoed + `", "hint":"check it"}`
				got := hub.Redact(in, "unrelated-secret-value", secret)
				if strings.Contains(got, echoed) {
					t.Fatalf("Redact(%q) = %q still holds the secret", in, got)
				}
				if want := `{"error":"invalid key: [redacted]", "hint":"check it"}`; got != want {
					t.Errorf("Redact(%q) = %q, want %q", in, got, want)
				}
			})
		}
	}
}

// TestRedactEmbeddedBase64 hides each secret inside a longer text that is
// base64-encoded as a whole (an echoed "Authorization: Bearer <key>", an
// AUTH PLAIN line), at every alignment: no base64 run left in the result
// decodes, at any offset, to 3 bytes of the secret in a row.
func TestRedactEmbeddedBase64(t *testing.T) {
	for _, secret := range redactSecrets {
		for before := range 6 {
			for after := range 4 {
				plain := strings.Repeat("\x00", before) + secret + strings.Repeat("\xff", after)
				for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
					encoded := enc.EncodeToString([]byte(plain))
					got := hub.Redact("echo: "+encoded+" end", secret)
					if !strings.Contains(got, "[redacted]") || !strings.HasPrefix(got, "echo: ") || !strings.HasSuffix(got, " end") {
						t.Fatalf("secret %q, %d bytes before, %d after: %q", secret, before, after, got)
					}
					if leak := base64Leak(got, secret); leak != "" {
						t.Errorf("secret %q, %d bytes before, %d after: %q still decodes to %q", secret, before, after, got, leak)
					}
				}
			}
		}
	}
	// "Bearer <key>", as a proxy might log the header it was sent.
	key := redactSecrets[0]
	header := base64.StdEncoding.EncodeToString([]byte("Bearer " + key))
	if got := hub.Redact("auth "+header, key); base64Leak(got, key) != "" {
		t.Errorf("the base64 of the Authorization header survives: %q", got)
	}
}

// base64Leak returns 3 or more bytes of secret in a row that a run of
// base64 characters in s decodes to at one of its four offsets, or "".
func base64Leak(s, secret string) string {
	isB64 := func(r rune) bool {
		return r == '+' || r == '/' || r == '-' || r == '_' || r == '=' ||
			'0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	for _, run := range strings.FieldsFunc(s, func(r rune) bool { return !isB64(r) }) {
		run = strings.NewReplacer("-", "+", "_", "/").Replace(strings.TrimRight(run, "="))
		for off := range 4 {
			if off >= len(run) {
				break
			}
			chunk := run[off:]
			chunk = chunk[:len(chunk)/4*4]
			raw, err := base64.StdEncoding.DecodeString(chunk)
			if err != nil {
				continue
			}
			for i := 0; i+3 <= len(secret); i++ {
				if strings.Contains(string(raw), secret[i:i+3]) {
					return secret[i : i+3]
				}
			}
		}
	}
	return ""
}

func TestRedactEdges(t *testing.T) {
	key := redactSecrets[0]
	b64 := base64.StdEncoding.EncodeToString([]byte(key))
	for _, tt := range []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"no secrets", "text " + key, nil, "text " + key},
		{"empty secret", "text", []string{""}, "text"},
		{"short values are no secrets", "the word abc stays", []string{"abc", "stays"}, "the word abc stays"},
		{"twice", key + " and " + key, []string{key}, "[redacted] and [redacted]"},
		{"two secrets", "a " + key + " b " + redactSecrets[1], []string{key, redactSecrets[1]}, "a [redacted] b [redacted]"},
		{"cut short, plain", "x " + key[:20] + "…", []string{key}, "x [redacted]…"},
		{"cut short, base64", "x " + b64[:30] + "…", []string{key}, "x [redacted]…"},
		{"cut short, too little to tell", "x abc…", []string{"abcdefghij"}, "x abc…"},
		{"not cut", "x " + key[:20], []string{key}, "x " + key[:20]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := hub.Redact(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// lowerEscapes writes the hex digits of every %XX escape in lower case.
func lowerEscapes(s string) string {
	return regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(s, strings.ToLower)
}

// FuzzRedact: whatever surrounds a secret of 8 bytes or more, none of its
// standalone encodings survives, and the result is valid UTF-8 when the
// input was.
func FuzzRedact(f *testing.F) {
	f.Add("before ", redactSecrets[0], " after")
	f.Add("", redactSecrets[3], "")
	f.Add("%", "12345678", "=")
	f.Fuzz(func(t *testing.T, before, secret, after string) {
		if len(secret) < 8 {
			return
		}
		for _, echoed := range []string{
			secret,
			base64.StdEncoding.EncodeToString([]byte(secret)),
			base64.RawURLEncoding.EncodeToString([]byte(secret)),
			url.QueryEscape(secret),
			hex.EncodeToString([]byte(secret)),
		} {
			in := before + echoed + after
			got := hub.Redact(in, secret)
			if strings.Contains(got, echoed) {
				t.Fatalf("Redact(%q, %q) = %q holds %q", in, secret, got, echoed)
			}
			if utf8.ValidString(in) && utf8.ValidString(secret) && !utf8.ValidString(got) {
				t.Fatalf("Redact(%q, %q) = %q is not valid UTF-8", in, secret, got)
			}
		}
	})
}
