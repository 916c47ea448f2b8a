package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.TemplateService = (*DB)(nil)

// SaveTemplate replaces the stored last good template.
func (db *DB) SaveTemplate(ctx context.Context, t *hub.Template) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		fetched := t.FetchedAt
		if fetched.IsZero() {
			fetched = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO config_templates (id, body, source_url, fetched_at)
			VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET body = excluded.body, source_url = excluded.source_url,
				fetched_at = excluded.fetched_at`,
			string(t.Body), t.SourceURL, millis(fetched))
		if err != nil {
			return fmt.Errorf("save template: %w", err)
		}
		return nil
	})
}

// FindTemplate returns the stored template.
func (db *DB) FindTemplate(ctx context.Context) (*hub.Template, error) {
	var (
		t       hub.Template
		body    string
		fetched int64
	)
	err := db.read.QueryRowContext(ctx,
		`SELECT body, source_url, fetched_at FROM config_templates WHERE id = 1`).Scan(&body, &t.SourceURL, &fetched)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no template stored")
	} else if err != nil {
		return nil, fmt.Errorf("find template: %w", err)
	}
	t.Body, t.FetchedAt = []byte(body), fromMillis(fetched)
	return &t, nil
}
