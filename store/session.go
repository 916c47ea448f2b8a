package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.SessionService = (*DB)(nil)

// CreateSession stores a new dashboard session.
func (db *DB) CreateSession(ctx context.Context, s *hub.Session) error {
	if s.TokenHash == "" {
		return errors.New("create session: empty token hash")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (token_hash, created_at, expires_at) VALUES ($1, $2, $3)`,
			s.TokenHash, millis(s.CreatedAt), millis(s.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	})
}

// FindSessionByTokenHash returns the session with the given token hash.
func (db *DB) FindSessionByTokenHash(ctx context.Context, tokenHash string) (*hub.Session, error) {
	var created, expires int64
	s := hub.Session{TokenHash: tokenHash}
	err := db.read.QueryRowContext(ctx,
		`SELECT created_at, expires_at FROM sessions WHERE token_hash = $1`, tokenHash).Scan(&created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "session not found")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &s, nil
}

// DeleteSession removes a session; an unknown hash is no error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return nil
	})
}

// DeleteExpiredSessions removes the sessions that expired at or before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, millis(now))
		if err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
