package hub

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPrefixAtEnd checks the linear search against the obvious quadratic
// one on strings of a small alphabet, where prefixes repeat.
func TestPrefixAtEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab"[rng.IntN(2)]
		}
		return string(b)
	}
	for range 20000 {
		text, form := word(rng.IntN(12)), word(rng.IntN(8))
		want := 0
		for n := len(form) - 1; n >= 1; n-- {
			if strings.HasSuffix(text, form[:n]) {
				want = n
				break
			}
		}
		if got := prefixAtEnd(text, form); got != want {
			t.Fatalf("prefixAtEnd(%q, %q) = %d, want %d", text, form, got, want)
		}
	}
}

// A long secret (an operator's override of 64 KiB) costs linear time when
// a cut-short message is checked for its start.
func BenchmarkRedactLongSecretCutTail(b *testing.B) {
	secret := strings.Repeat("a", 64<<10)
	msg := strings.Repeat("a", 299) + "…"
	for b.Loop() {
		Redact(msg, secret)
	}
}
