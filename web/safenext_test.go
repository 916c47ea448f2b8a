package web

import (
	"net/url"
	"strings"
	"testing"
)

// safeNextCases are the tricks known to turn a "next" parameter into an
// off-site redirect, each with what safeNext must make of it.
var safeNextCases = []struct {
	next, want string
}{
	// Plain paths on this site pass unchanged.
	{"/", "/"},
	{"/configs", "/configs"},
	{"/customers/ok-node", "/customers/ok-node"},
	{"/customers/ok-node?period=7d&severity=error", "/customers/ok-node?period=7d&severity=error"},
	{"/customers/ok-node#events", "/customers/ok-node#events"},
	{"/configs/", "/configs/"},
	{"/customers/a%2Db", "/customers/a%2Db"},
	{"/?next=//evil.example", "/?next=//evil.example"}, // a query is no host
	{"/https:evil.example", "/https:evil.example"},     // a path segment, not a scheme

	// Empty, relative and absolute.
	{"", "/"},
	{"configs", "/"},
	{"evil.example", "/"},
	{"https://evil.example/", "/"},
	{"https:evil.example", "/"},
	{"https:/evil.example", "/"},
	{"http://hub.example@evil.example/", "/"},
	{"javascript:alert(1)", "/"},
	{"data:text/html,<script>alert(1)</script>", "/"},
	{"mailto:x@evil.example", "/"},
	{"?next=/x", "/"},
	{"#x", "/"},

	// Protocol-relative and backslashes, which browsers read as slashes.
	{"//evil.example", "/"},
	{"//evil.example/", "/"},
	{"///evil.example", "/"},
	{"/\\evil.example", "/"},
	{"\\\\evil.example", "/"},
	{"\\/evil.example", "/"},
	{"/\\/evil.example", "/"},
	{"/x\\y", "/"},

	// Control characters and whitespace anywhere: browsers strip tab, CR
	// and LF, so "/\t/evil" becomes "//evil" there. Refused, never stripped.
	{"/\t/evil.example/", "/"},
	{"/\n/evil.example/", "/"},
	{"/\r/evil.example/", "/"},
	{"\t//evil.example/", "/"},
	{" //evil.example/", "/"},
	{"/ /evil.example/", "/"},
	{"/configs\t", "/"},
	{"/configs?x=\n", "/"},
	{"/\x00/evil.example", "/"},
	{"/\x7f/evil.example", "/"},
	{"/\x0b/evil.example", "/"},
	{"/\x0c/evil.example", "/"},

	// Percent-encoded tricks, judged after decoding too.
	{"/%09/evil.example/", "/"},
	{"/%0a/evil.example/", "/"},
	{"/%0d/evil.example/", "/"},
	{"/%0D%0ASet-Cookie:x=y", "/"},
	{"/%2f%2fevil.example", "/"},
	{"/%2F/evil.example", "/"},
	{"/%5cevil.example", "/"},
	{"/%5C%5Cevil.example", "/"},
	{"/%20/evil.example", "/"},
	{"/%00", "/"},
	{"/%", "/"},
	{"/%zz", "/"},
	{"/%2e%2e/%2e%2e//evil.example", "/"},

	// Dot segments and empty segments, which collapse to "//".
	{"/.//evil.example", "/"},
	{"/..//evil.example", "/"},
	{"/./evil.example", "/"},
	{"/../evil.example", "/"},
	{"/configs/..//evil.example", "/"},
	{"/configs//evil.example", "/"},

	// Unicode slashes, dots and spaces (raw and encoded).
	{"/\uff0f/evil.example", "/"},          // fullwidth solidus
	{"/\u2044/evil.example", "/"},          // fraction slash
	{"/\u2215/evil.example", "/"},          // division slash
	{"/\uff3cevil.example", "/"},           // fullwidth reverse solidus
	{"\uff0f\uff0fevil.example", "/"},      // two fullwidth solidi
	{"/\u3000/evil.example", "/"},          // ideographic space
	{"/\u00a0/evil.example", "/"},          // no-break space
	{"/\u2028/evil.example", "/"},          // line separator
	{"/%EF%BC%8F/evil.example", "/"},       // fullwidth solidus, encoded
	{"/%E2%80%A8/evil.example", "/"},       // line separator, encoded
	{"/\xff/evil.example", "/"},            // invalid UTF-8
	{"/\xef\xbc\x8f\xef\xbc\x8fevil", "/"}, // fullwidth solidi as bytes

	// The login page itself would loop.
	{"/login", "/"},
	{"/login?next=/configs", "/"},
	{"/login?next=//evil.example", "/"},
}

func TestSafeNext(t *testing.T) {
	for _, tt := range safeNextCases {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
		assertOnSite(t, tt.next, safeNext(tt.next))
	}
}

// assertOnSite fails when got, the result of safeNext(next), could lead a
// browser off https://hub.example/: resolved with net/url, and again after
// the clean-up a browser does (tabs and newlines dropped, "\" read as "/"),
// it must stay on hub.example.
func assertOnSite(tb testing.TB, next, got string) {
	tb.Helper()
	if !strings.HasPrefix(got, "/") {
		tb.Fatalf("safeNext(%q) = %q: not a path", next, got)
	}
	base, _ := url.Parse("https://hub.example/")
	browserish := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
	for _, s := range []string{got, browserish} {
		ref, err := url.Parse(s)
		if err != nil {
			tb.Fatalf("safeNext(%q) = %q, which does not parse: %v", next, got, err)
		}
		if u := base.ResolveReference(ref); u.Host != "hub.example" || u.Scheme != "https" || u.User != nil {
			tb.Fatalf("safeNext(%q) = %q leads to %q", next, got, u)
		}
	}
	if got != "/" && got != next {
		tb.Fatalf("safeNext(%q) = %q: changed instead of refused", next, got)
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, tt := range safeNextCases {
		f.Add(tt.next)
	}
	f.Fuzz(func(t *testing.T, next string) {
		assertOnSite(t, next, safeNext(next))
	})
}
