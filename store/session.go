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
			`INSERT INTO sessions (token_hash, created_at, expires_at, operator, last_seen_at, address) VALUES ($1, $2, $3, $4, $5, $6)`,
			s.TokenHash, millis(s.CreatedAt), millis(s.ExpiresAt), s.Operator, millis(s.LastSeenAt), s.Address)
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	})
}

// FindSessionByTokenHash returns the session with the given token hash.
func (db *DB) FindSessionByTokenHash(ctx context.Context, tokenHash string) (*hub.Session, error) {
	s, err := scanSession(db.read.QueryRowContext(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "session not found")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return s, nil
}

const sessionColumns = `token_hash, created_at, expires_at, operator, last_seen_at, address`

func scanSession(row interface{ Scan(...any) error }) (*hub.Session, error) {
	var s hub.Session
	var created, expires, seen int64
	if err := row.Scan(&s.TokenHash, &created, &expires, &s.Operator, &seen, &s.Address); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt, s.LastSeenAt = fromMillis(created), fromMillis(expires), fromMillis(seen)
	return &s, nil
}

// FindOperatorSessions returns the operator's sessions, latest seen first.
func (db *DB) FindOperatorSessions(ctx context.Context, operator string) ([]*hub.Session, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE operator = $1
		ORDER BY last_seen_at DESC, created_at DESC`, operator)
	if err != nil {
		return nil, fmt.Errorf("find sessions: %w", err)
	}
	defer rows.Close()
	var out []*hub.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("find sessions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TouchSession records a request of the session and slides its expiry.
func (db *DB) TouchSession(ctx context.Context, tokenHash string, seenAt, expiresAt time.Time, address string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1, expires_at = $2, address = $3
			WHERE token_hash = $4`, millis(seenAt), millis(expiresAt), address, tokenHash)
		if err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		return nil
	})
}

// DeleteOperatorSession ends one session of the operator.
func (db *DB) DeleteOperatorSession(ctx context.Context, operator, tokenHash string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE operator = $1 AND token_hash = $2`, operator, tokenHash)
		if err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hub.Errorf(hub.ENOTFOUND, "no such session")
		}
		return nil
	})
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
