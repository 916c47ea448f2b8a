package hub

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// NewAPIKey mints a random API key of 64 hex characters (256 bits).
func NewAPIKey() string {
	return RandomHex(32)
}

// RandomHex returns n random bytes as 2n hex characters.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// retrievalAlphabet avoids letters and digits people confuse when they read
// a password off a screen (0/o, 1/l/i).
const retrievalAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRetrievalPassword mints a password a person can type during disaster
// recovery: four groups of six characters, about 118 bits.
func NewRetrievalPassword() string {
	const groups, per = 4, 6
	out := make([]byte, 0, groups*(per+1))
	for g := range groups {
		if g > 0 {
			out = append(out, '-')
		}
		for range per {
			out = append(out, retrievalAlphabet[randomIndex(len(retrievalAlphabet))])
		}
	}
	return string(out)
}

// randomIndex returns a uniform random number in [0, n) for small n.
func randomIndex(n int) int {
	limit := 256 - 256%n // reject bytes that would bias the result
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// HashSecret returns the hex SHA-256 of a high-entropy secret, the form in
// which keys are looked up so that the database never needs the plain value
// for authentication.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretEqual compares two secrets in constant time.
func SecretEqual(a, b string) bool {
	// Hash first so that the comparison time does not depend on the lengths.
	ha := sha256.Sum256([]byte(a))
	hb := sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
