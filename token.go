package hub

import (
	"context"
	"strings"
	"time"
)

// Scope is what an API token may do (SPEC §7.5).
type Scope string

// The token scopes.
const (
	// ScopeRead reads the fleet (the routes the global key reads).
	ScopeRead Scope = "read"
	// ScopeAdmin reaches the admin API, and reads.
	ScopeAdmin Scope = "admin"
)

// APITokenPrefix starts every minted token, so that a leaked one is easy
// to recognise (secret scanners, logs) and never taken for a node key.
const APITokenPrefix = "hubt_"

// APIToken is a named credential for automation. Only the SHA-256 of the
// token is stored; the token itself is shown once, when it is made.
type APIToken struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []Scope    `json:"scopes"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
	TokenHash string     `json:"-"`
}

// Has reports whether the token carries scope; admin implies read.
func (t *APIToken) Has(scope Scope) bool {
	for _, s := range t.Scopes {
		if s == scope || (s == ScopeAdmin && scope == ScopeRead) {
			return true
		}
	}
	return false
}

// Expired reports whether the token is no longer valid at now.
func (t *APIToken) Expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// NewAPIToken mints a token: the prefix and 64 hex characters.
func NewAPIToken() string { return APITokenPrefix + RandomHex(32) }

// ValidateTokenName checks a token's name, shown in lists and the audit log.
func ValidateTokenName(name string) error {
	if name == "" || len(name) > 64 {
		return Errorf(EINVALID, "name must be 1 to 64 characters")
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return Errorf(EINVALID, "name must not hold control characters")
		}
	}
	if strings.TrimSpace(name) != name {
		return Errorf(EINVALID, "name must not start or end with a space")
	}
	return nil
}

// ParseScopes checks a token's scopes: one or both of read and admin.
func ParseScopes(in []string) ([]Scope, error) {
	if len(in) == 0 {
		return nil, Errorf(EINVALID, `scopes must name "read" or "admin"`)
	}
	var out []Scope
	seen := map[Scope]bool{}
	for _, s := range in {
		sc := Scope(s)
		if sc != ScopeRead && sc != ScopeAdmin {
			return nil, Errorf(EINVALID, `scopes: %q is not "read" or "admin"`, Printable(s, 20))
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	return out, nil
}

// Printable returns s cut to at most n runes with control characters
// replaced, for quoting client input in an error message.
func Printable(s string, n int) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i == n {
			b.WriteString("…")
			break
		}
		if r < ' ' || r == 0x7f {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TokenService keeps API tokens.
type TokenService interface {
	// CreateAPIToken stores a token (its hash) and sets its ID.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// FindAPITokens returns every token, newest first.
	FindAPITokens(ctx context.Context) ([]*APIToken, error)
	// DeleteAPIToken revokes a token; ENOTFOUND when none has the id.
	DeleteAPIToken(ctx context.Context, id string) error
	// FindAPITokenByHash returns the token whose SHA-256 is hash;
	// ENOTFOUND when none. It does not check expiry.
	FindAPITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// TouchAPIToken records a use at now; it reports whether the stored
	// last use was older than every (so that the caller audits a use at
	// most once per interval).
	TouchAPIToken(ctx context.Context, id string, now time.Time, every time.Duration) (bool, error)
}
