package hub

import (
	"context"
	"time"
)

// Session is a logged-in dashboard session. The browser holds a random
// token; the hub keeps only the token's SHA-256, so a copy of the database
// cannot be used to log in.
type Session struct {
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Operator is the account logged in; LastSeenAt and Address are the
	// time and client address of its latest request.
	Operator   string
	LastSeenAt time.Time
	Address    string
}

// Expired reports whether the session is no longer valid at now.
func (s *Session) Expired(now time.Time) bool {
	return !now.Before(s.ExpiresAt)
}

// SessionService holds dashboard sessions.
type SessionService interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByTokenHash returns the session; ENOTFOUND when none has
	// the hash. It does not check expiry: the caller decides with its clock.
	FindSessionByTokenHash(ctx context.Context, tokenHash string) (*Session, error)
	// DeleteSession removes a session; deleting an unknown one is no error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteExpiredSessions removes the sessions that expired at or before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	// FindOperatorSessions returns the operator's sessions, latest seen first.
	FindOperatorSessions(ctx context.Context, operator string) ([]*Session, error)
	// TouchSession records a request of the session: when and from where,
	// and slides its expiry to expiresAt.
	TouchSession(ctx context.Context, tokenHash string, seenAt, expiresAt time.Time, address string) error
	// DeleteOperatorSession ends one session of the operator; ENOTFOUND
	// when the operator has no session with that hash.
	DeleteOperatorSession(ctx context.Context, operator, tokenHash string) error
}
