package hub_test

import (
	"regexp"
	"testing"

	hub "github.com/felhom/hub"
)

func TestMintedSecrets(t *testing.T) {
	keyPattern := regexp.MustCompile(`^[0-9a-f]{64}$`)
	pwPattern := regexp.MustCompile(`^[a-hj-km-np-z2-9]{6}(-[a-hj-km-np-z2-9]{6}){3}$`)
	seen := map[string]bool{}
	for range 200 {
		k, p := hub.NewAPIKey(), hub.NewRetrievalPassword()
		if !keyPattern.MatchString(k) {
			t.Fatalf("API key %q is not 64 hex characters", k)
		}
		if !pwPattern.MatchString(p) {
			t.Fatalf("retrieval password %q has the wrong shape", p)
		}
		if seen[k] || seen[p] {
			t.Fatal("a minted secret repeated")
		}
		seen[k], seen[p] = true, true
	}
}

func TestSecretEqual(t *testing.T) {
	if !hub.SecretEqual("abc", "abc") {
		t.Error("equal secrets compare unequal")
	}
	for _, other := range []string{"abd", "ab", "abcd", ""} {
		if hub.SecretEqual("abc", other) {
			t.Errorf("SecretEqual(abc, %q) = true", other)
		}
	}
}
