package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealed values are stored as text with a prefix that says how to open them,
// so that a hub given a key later can still read what it stored before.
const (
	plainPrefix  = "plain:"
	sealedPrefix = "aesgcm1:"
)

// Sealer encrypts secrets at rest with AES-256-GCM. The zero Sealer has no
// key and stores values in the clear (the hub warns about that at start).
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Encrypts reports whether the sealer has a key.
func (s *Sealer) Encrypts() bool { return s.aead != nil }

// Seal returns the stored form of a secret. context binds the ciphertext to
// its place (table and row) so that it cannot be moved to another one.
func (s *Sealer) Seal(plaintext, context string) string {
	if s.aead == nil {
		return plainPrefix + plaintext
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// errSealed is returned when a sealed value cannot be opened.
var errSealed = errors.New("a stored secret cannot be decrypted: is secrets.key the key it was stored with?")

// Open returns the plaintext of a stored secret.
func (s *Sealer) Open(stored, context string) (string, error) {
	switch {
	case strings.HasPrefix(stored, plainPrefix):
		return strings.TrimPrefix(stored, plainPrefix), nil
	case strings.HasPrefix(stored, sealedPrefix):
		if s.aead == nil {
			return "", errSealed
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(stored, sealedPrefix))
		if err != nil || len(raw) < s.aead.NonceSize() {
			return "", errSealed
		}
		n := s.aead.NonceSize()
		plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(context))
		if err != nil {
			return "", errSealed
		}
		return string(plain), nil
	}
	return "", errors.New("a stored secret has an unknown format")
}
