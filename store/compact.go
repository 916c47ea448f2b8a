package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Compaction walks each stream in id order past a watermark
// (history_progress 'compact:<stream>') and rewrites the bodies of the full
// tier as deltas against their subject's keyframe of the day. It leaves a
// report alone until it is compactHorizon old, so that the latest report of
// every reporting subject has been superseded by then; a report that is
// still its subject's latest when the walk passes it (a silent node's last
// one) stays self-contained forever. Bodies of older versions stored as
// plain JSON are compressed on the way (the conversion of an existing
// database); those past the full tier are left to the prune, except a
// latest one.
//
// A body is replaced by deleting its row of the bodies table and inserting
// it again: SQLite merges the pages a delete leaves mostly empty, while an
// UPDATE that shrinks a body would leave them so until the prune. A body
// stored inline by an older version moves to the bodies table.
//
// The CPU work (decode, encode, verify) happens before the write
// transaction, which only writes the results, so ingest waits for the
// writer no longer than for a few row writes.
const compactHorizon = time.Hour

// compactRow is a report as the compactor reads it.
type compactRow struct {
	id         int64
	subject    string
	receivedAt int64
	latest     bool
	body       []byte // nil when the report needs no work
	inBodies   bool   // the body is in the bodies table, not inline
}

// keyframeKey names a subject's keyframe of a day.
type keyframeKey struct {
	subject string
	day     int64
}

// keyframeRef is a keyframe the compaction uses: an existing one (id set)
// or one it creates (id set once inserted).
type keyframeRef struct {
	key     keyframeKey
	id      int64
	content []byte
}

// bodyRewrite is a body the compactor replaces.
type bodyRewrite struct {
	id       int64
	inBodies bool
	body     []byte
	keyframe *keyframeRef // nil: the body stands alone
}

// compaction is what one batch writes: the keyframes it creates and the
// bodies it replaces.
type compaction struct {
	keyframes []*keyframeRef
	rewrites  []bodyRewrite
}

// CompactHistory compacts up to limit reports of each stream and returns
// how many it looked at.
func (db *DB) CompactHistory(ctx context.Context, limit int) (int, error) {
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	now := db.Now().UTC()
	total := 0
	for _, st := range historyStreams {
		n, err := db.compact(ctx, st, limit, now)
		if err != nil {
			return total, fmt.Errorf("compact %s: %w", st.name, err)
		}
		total += n
	}
	return total, nil
}

func (db *DB) compact(ctx context.Context, st historyStream, limit int, now time.Time) (int, error) {
	step := "compact:" + st.name
	rows, err := db.compactCandidates(ctx, st, step, limit, now)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	c, err := db.planCompaction(ctx, st, rows, millis(now.Add(-db.Tiers.FullFor)))
	if err != nil {
		return 0, err
	}
	lastID := rows[len(rows)-1].id
	err = db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		for _, kf := range c.keyframes {
			if err := tx.QueryRowContext(ctx, `INSERT INTO body_keyframes (stream, subject_id, day, body)
				VALUES ($1, $2, $3, $4) RETURNING id`, st.name, kf.key.subject, kf.key.day, encodeBody(kf.content)).Scan(&kf.id); err != nil {
				return fmt.Errorf("insert keyframe: %w", err)
			}
		}
		for _, w := range c.rewrites {
			if err := rewriteBody(ctx, tx, st, w); err != nil {
				return err
			}
		}
		return setProgress(ctx, tx, step, lastID)
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// planCompaction does the CPU work of a batch outside any transaction:
// bodies of the full tier become deltas, grouped by keyframe so that the
// codec switches dictionaries as rarely as it can; latest reports and
// reports past the full tier only move out of line or get compressed.
// A body that cannot be read, or whose delta does not decode back, is left
// exactly as it is: rewriting cannot make it better and must not make it
// worse, nor stop the walk.
func (db *DB) planCompaction(ctx context.Context, st historyStream, rows []compactRow, fullCutoff int64) (compaction, error) {
	var (
		c      compaction
		groups = map[keyframeKey][]compactRow{}
		order  []keyframeKey
	)
	for _, r := range rows {
		switch {
		case len(r.body) == 0:
			// No work, or a body already dropped.
		case r.latest || r.receivedAt < fullCutoff:
			if isPlainJSON(r.body) {
				c.rewrites = append(c.rewrites, bodyRewrite{id: r.id, inBodies: r.inBodies, body: encodeBody(r.body)})
			} else if !r.inBodies {
				c.rewrites = append(c.rewrites, bodyRewrite{id: r.id, body: r.body})
			}
		default:
			k := keyframeKey{r.subject, r.receivedAt - r.receivedAt%dayMillis}
			if groups[k] == nil {
				order = append(order, k)
			}
			groups[k] = append(groups[k], r)
		}
	}
	for _, k := range order {
		kf, err := db.findKeyframe(ctx, st, k)
		if errors.Is(err, errUnreadableKeyframe) {
			continue // the day's reports stay as they are
		} else if err != nil {
			return c, err
		}
		for _, r := range groups[k] {
			raw, err := decodeBody(r.body)
			if err != nil {
				continue
			}
			if kf == nil {
				kf = &keyframeRef{key: k, content: raw}
				c.keyframes = append(c.keyframes, kf)
			}
			if err := db.codec.use(kf.content); err != nil {
				return c, err
			}
			delta, err := db.codec.encode(raw)
			if err != nil {
				continue
			}
			c.rewrites = append(c.rewrites, bodyRewrite{id: r.id, inBodies: r.inBodies, body: delta, keyframe: kf})
		}
	}
	return c, nil
}

// rewriteBody replaces a body: it takes the old one out (from the bodies
// table or inline) and inserts the new one, unless the old one is gone
// meanwhile (the report or its body pruned).
func rewriteBody(ctx context.Context, tx *sql.Tx, st historyStream, w bodyRewrite) error {
	take := st.sql(`DELETE FROM {bodies} WHERE report_id = $1 AND keyframe_id IS NULL`)
	if !w.inBodies {
		take = st.sql(`UPDATE {table} SET body = $1 WHERE id = $2 AND length(body) > 0`)
	}
	args := []any{w.id}
	if !w.inBodies {
		args = []any{emptyBody, w.id}
	}
	res, err := tx.ExecContext(ctx, take, args...)
	if err != nil {
		return fmt.Errorf("take out body: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return err
	}
	var keyframeID sql.NullInt64
	if w.keyframe != nil {
		keyframeID = sql.NullInt64{Int64: w.keyframe.id, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, st.sql(`INSERT INTO {bodies} (report_id, keyframe_id, body) VALUES ($1, $2, $3)`),
		w.id, keyframeID, w.body); err != nil {
		return fmt.Errorf("insert body: %w", err)
	}
	return nil
}

// dayMillis is one UTC day in milliseconds.
const dayMillis = int64(24 * time.Hour / time.Millisecond)

// compactCandidates reads up to limit reports past the watermark that are
// older than the horizon, in id order. Bodies are read only where there
// may be work: self-contained bodies in the full tier, and latest reports.
func (db *DB) compactCandidates(ctx context.Context, st historyStream, step string, limit int, now time.Time) ([]compactRow, error) {
	from, err := progress(ctx, db.read, step)
	if err != nil {
		return nil, err
	}
	horizon := millis(now.Add(-compactHorizon))
	fullCutoff := millis(now.Add(-db.Tiers.FullFor))
	rows, err := db.read.QueryContext(ctx, st.sql(`SELECT r.id, r.{subject}, r.received_at, latest.id IS NOT NULL,
			CASE WHEN r.received_at < $1 AND b.keyframe_id IS NULL
				AND (r.received_at >= $2 OR latest.id IS NOT NULL) THEN COALESCE(b.body, r.body) END,
			b.report_id IS NOT NULL
		FROM {table} r
			LEFT JOIN {bodies} b ON b.report_id = r.id
			LEFT JOIN {owners} latest ON latest.latest_report_id = r.id
		WHERE r.id > $3 ORDER BY r.id LIMIT $4`), horizon, fullCutoff, from, limit)
	if err != nil {
		return nil, fmt.Errorf("find reports to compact: %w", err)
	}
	defer rows.Close()
	var out []compactRow
	for rows.Next() {
		var r compactRow
		if err := rows.Scan(&r.id, &r.subject, &r.receivedAt, &r.latest, &r.body, &r.inBodies); err != nil {
			return nil, fmt.Errorf("scan reports to compact: %w", err)
		}
		if r.receivedAt >= horizon {
			break // the walk waits here until the report is old enough
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// errUnreadableKeyframe is a keyframe whose stored body does not decode.
var errUnreadableKeyframe = errors.New("unreadable keyframe")

// findKeyframe returns the subject's keyframe of the day, or nil.
func (db *DB) findKeyframe(ctx context.Context, st historyStream, k keyframeKey) (*keyframeRef, error) {
	kf := keyframeRef{key: k}
	var stored []byte
	err := db.read.QueryRowContext(ctx, `SELECT id, body FROM body_keyframes
		WHERE stream = $1 AND subject_id = $2 AND day = $3`, st.name, k.subject, k.day).Scan(&kf.id, &stored)
	if err == sql.ErrNoRows {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find keyframe: %w", err)
	}
	if kf.content, err = decodeBody(stored); err != nil {
		return nil, fmt.Errorf("%w %d: %v", errUnreadableKeyframe, kf.id, err)
	}
	return &kf, nil
}
