package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.TokenService = (*DB)(nil)

// CreateAPIToken stores a token's hash under a new id.
func (db *DB) CreateAPIToken(ctx context.Context, t *hub.APIToken) error {
	if t.TokenHash == "" || len(t.Scopes) == 0 {
		return errors.New("create api token: no hash or no scope")
	}
	if err := hub.ValidateTokenName(t.Name); err != nil {
		return err
	}
	scopes := make([]string, len(t.Scopes))
	for i, s := range t.Scopes {
		scopes[i] = string(s)
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		id := "tok_" + hub.RandomHex(8)
		var expires int64
		if t.ExpiresAt != nil {
			expires = millis(*t.ExpiresAt)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, token_hash, scopes, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, t.Name, t.TokenHash, strings.Join(scopes, ","), t.CreatedBy, millis(now), expires); err != nil {
			return fmt.Errorf("insert api token: %w", err)
		}
		t.ID, t.CreatedAt = id, now
		return nil
	})
}

const tokenColumns = `id, name, token_hash, scopes, created_by, created_at, expires_at, last_used_at`

func scanToken(row interface{ Scan(...any) error }) (*hub.APIToken, error) {
	var (
		t                      hub.APIToken
		scopes                 string
		created, expires, used int64
	)
	if err := row.Scan(&t.ID, &t.Name, &t.TokenHash, &scopes, &t.CreatedBy, &created, &expires, &used); err != nil {
		return nil, err
	}
	for s := range strings.SplitSeq(scopes, ",") {
		t.Scopes = append(t.Scopes, hub.Scope(s))
	}
	t.CreatedAt = fromMillis(created)
	if expires != 0 {
		e := fromMillis(expires)
		t.ExpiresAt = &e
	}
	if used != 0 {
		u := fromMillis(used)
		t.LastUsed = &u
	}
	return &t, nil
}

// FindAPITokens returns every token, newest first.
func (db *DB) FindAPITokens(ctx context.Context) ([]*hub.APIToken, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("find api tokens: %w", err)
	}
	defer rows.Close()
	out := []*hub.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("find api tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes a token.
func (db *DB) DeleteAPIToken(ctx context.Context, id string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete api token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hub.Errorf(hub.ENOTFOUND, "no such token")
		}
		return nil
	})
}

// FindAPITokenByHash returns the token with the hash.
func (db *DB) FindAPITokenByHash(ctx context.Context, hash string) (*hub.APIToken, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no such token")
	} else if err != nil {
		return nil, fmt.Errorf("find api token: %w", err)
	}
	return t, nil
}

// TouchAPIToken records a use, at most once per every: most requests of
// a busy token do not write.
func (db *DB) TouchAPIToken(ctx context.Context, id string, now time.Time, every time.Duration) (bool, error) {
	var touched bool
	err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at <= $3`,
			millis(now), id, millis(now.Add(-every)))
		if err != nil {
			return fmt.Errorf("touch api token: %w", err)
		}
		n, _ := res.RowsAffected()
		touched = n == 1
		return nil
	})
	return touched, err
}
