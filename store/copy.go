package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CopyResult says what CopyToPostgres copied.
type CopyResult struct {
	// Tables are the copied tables in the order they were copied, with
	// their row counts (equal in source and target).
	Tables  []TableCount
	Rows    int64
	Elapsed time.Duration
}

// TableCount is one table's number of rows.
type TableCount struct {
	Name string
	Rows int64
}

// Limits of one multi-row INSERT: PostgreSQL takes at most 65535
// parameters a statement; the byte bound keeps a batch of large report
// bodies from holding much memory. Measured on a 2-CPU machine with the
// server local (BenchmarkCopyToPostgres: reports, bodies, events): about
// 30,000 rows/s at 500 rows, the same at 1000, 20–30% less at 100 and at
// 3000; the hub side is mostly waiting for PostgreSQL.
const (
	copyBatchRows  = 500
	copyBatchBytes = 4 << 20
	maxParams      = 65535
)

// CopyToPostgres copies the SQLite hub database at srcPath into dst, an
// open PostgreSQL store that holds no data yet: every table but
// schema_migrations, parents before children, columns by name, ids kept,
// in one transaction. It then moves each identity sequence past the copied
// ids and checks the row counts. The source is opened read-only and must
// be at this binary's schema version. progress gets a line per table.
func CopyToPostgres(ctx context.Context, srcPath string, dst *DB, progress io.Writer) (*CopyResult, error) {
	if _, ok := dst.dialect.(postgresDialect); !ok {
		return nil, errors.New("copy: the target must be a PostgreSQL store")
	}
	start := time.Now()
	src, err := openReadOnly(ctx, srcPath)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// One read transaction: a consistent snapshot even if a hub still
	// writes to the file.
	stx, err := src.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("copy: read %s: %w", srcPath, err)
	}
	defer stx.Rollback()
	if err := checkSourceVersion(ctx, stx); err != nil {
		return nil, err
	}
	tables, err := sourceTables(ctx, stx)
	if err != nil {
		return nil, err
	}

	dtx, err := dst.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("copy: begin: %w", err)
	}
	defer dtx.Rollback()
	columns, err := targetColumns(ctx, dtx)
	if err != nil {
		return nil, err
	}
	if err := checkTargetEmpty(ctx, dtx, columns); err != nil {
		return nil, err
	}
	res := &CopyResult{}
	for _, table := range tables {
		n, err := copyTable(ctx, stx, dtx, table, columns[table])
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", table, err)
		}
		res.Tables = append(res.Tables, TableCount{Name: table, Rows: n})
		res.Rows += n
		fmt.Fprintf(progress, "copied %-24s %9d rows\n", table, n)
	}
	if err := resetSequences(ctx, dtx); err != nil {
		return nil, err
	}
	if err := verifyCounts(ctx, stx, dtx, res.Tables); err != nil {
		return nil, err
	}
	if err := dtx.Commit(); err != nil {
		return nil, fmt.Errorf("copy: commit: %w", err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// openReadOnly opens an existing SQLite file so that nothing can write it.
func openReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("copy: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("copy: open %s: %w", path, err)
	}
	return db, nil
}

// checkSourceVersion refuses a source whose schema is not the one this
// binary's PostgreSQL schema matches.
func checkSourceVersion(ctx context.Context, tx *sql.Tx) error {
	all, err := migrations(sqliteDialect{}.migrations())
	if err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("copy: the source is not a hub database (no schema version): %w", err)
	}
	switch {
	case version < len(all):
		return fmt.Errorf("copy: the source database is at schema version %d, this binary's is %d: "+
			"start this hub version once on it (hub serve, with the SQLite driver) to upgrade it, then copy", version, len(all))
	case version > len(all):
		return fmt.Errorf("copy: the source database is at schema version %d, newer than this binary's %d: "+
			"copy with the hub version that wrote it (or a newer one)", version, len(all))
	}
	return nil
}

// sourceTables lists the source's tables, parents before children by its
// own foreign keys, otherwise by name, so that tables this code does not
// know are copied too.
func sourceTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.name, COALESCE(f."table", '')
		FROM sqlite_master m LEFT JOIN pragma_foreign_key_list(m.name) f
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name <> 'schema_migrations'
		ORDER BY m.name`)
	if err != nil {
		return nil, fmt.Errorf("copy: list tables: %w", err)
	}
	defer rows.Close()
	var names []string
	parents := map[string][]string{}
	for rows.Next() {
		var name, parent string
		if err := rows.Scan(&name, &parent); err != nil {
			return nil, fmt.Errorf("copy: list tables: %w", err)
		}
		if len(names) == 0 || names[len(names)-1] != name {
			names = append(names, name)
		}
		if parent != "" && parent != name {
			parents[name] = append(parents[name], parent)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("copy: list tables: %w", err)
	}
	return parentsFirst(names, parents), nil
}

// parentsFirst orders names so that each comes after its parents, keeping
// the given order where it is free to; a cycle keeps the given order.
func parentsFirst(names []string, parents map[string][]string) []string {
	placed := map[string]bool{}
	var out []string
	for len(out) < len(names) {
		progress := false
		for _, name := range names {
			if placed[name] {
				continue
			}
			ready := true
			for _, p := range parents[name] {
				if slices.Contains(names, p) && !placed[p] {
					ready = false
				}
			}
			if ready {
				placed[name], progress = true, true
				out = append(out, name)
			}
		}
		if !progress {
			for _, name := range names {
				if !placed[name] {
					placed[name] = true
					out = append(out, name)
				}
			}
		}
	}
	return out
}

// column is a target column and its PostgreSQL type.
type column struct {
	name, dataType string
}

// targetColumns returns the columns of every table in the target's schema.
func targetColumns(ctx context.Context, tx *sql.Tx) (map[string][]column, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t
			ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("copy: read target schema: %w", err)
	}
	defer rows.Close()
	out := map[string][]column{}
	for rows.Next() {
		var table string
		var c column
		if err := rows.Scan(&table, &c.name, &c.dataType); err != nil {
			return nil, fmt.Errorf("copy: read target schema: %w", err)
		}
		out[table] = append(out[table], c)
	}
	return out, rows.Err()
}

// seededTables are the tables whose rows the PostgreSQL migrations insert
// (history_progress's starting points): a fresh target has them, so they
// do not make it "not empty", and the copy replaces them. A migration that
// seeds another table makes every copy refuse a fresh target, naming it
// (TestCopyToPostgres), until it is added here.
var seededTables = map[string]bool{"history_progress": true}

// checkTargetEmpty refuses a target that holds data, naming the table, and
// clears the rows the migrations seeded.
func checkTargetEmpty(ctx context.Context, tx *sql.Tx, columns map[string][]column) error {
	seeded := seededTables
	tables := make([]string, 0, len(columns))
	for table := range columns {
		if table != "schema_migrations" && !seeded[table] {
			tables = append(tables, table)
		}
	}
	slices.Sort(tables)
	for _, table := range tables {
		var has bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(table)+`)`).Scan(&has); err != nil {
			return fmt.Errorf("copy: check target %s: %w", table, err)
		}
		if has {
			return fmt.Errorf("copy: the target database is not empty: table %s has rows; copy only into a new database", table)
		}
	}
	for table := range seeded {
		if _, ok := columns[table]; !ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+quoteIdent(table)); err != nil {
			return fmt.Errorf("copy: clear seeded %s: %w", table, err)
		}
	}
	return nil
}

// copyTable copies one table's rows in multi-row INSERTs and returns how
// many it copied.
func copyTable(ctx context.Context, stx, dtx *sql.Tx, table string, target []column) (int64, error) {
	if len(target) == 0 {
		return 0, errors.New("the target has no such table: this binary's PostgreSQL schema lacks it")
	}
	names, err := sourceColumns(ctx, stx, table)
	if err != nil {
		return 0, err
	}
	types := make([]string, len(names))
	quoted := make([]string, len(names))
	for i, name := range names {
		j := slices.IndexFunc(target, func(c column) bool { return c.name == name })
		if j < 0 {
			return 0, fmt.Errorf("column %s is missing in the target", name)
		}
		types[i], quoted[i] = target[j].dataType, quoteIdent(name)
	}
	cols := strings.Join(quoted, ", ")
	rows, err := stx.QueryContext(ctx, `SELECT `+cols+` FROM `+quoteIdent(table))
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()

	perBatch := min(copyBatchRows, maxParams/len(names))
	insert := `INSERT INTO ` + quoteIdent(table) + ` (` + cols + `) VALUES `
	args := make([]any, 0, perBatch*len(names))
	var copied int64
	var batchRows, batchBytes int
	flush := func() error {
		if batchRows == 0 {
			return nil
		}
		if _, err := dtx.ExecContext(ctx, insert+valueTuples(batchRows, len(names)), args...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		copied += int64(batchRows)
		args, batchRows, batchBytes = args[:0], 0, 0
		return nil
	}
	values := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		for i, v := range values {
			cv, err := convertValue(v, types[i])
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", names[i], err)
			}
			args = append(args, cv)
			batchBytes += valueSize(cv)
		}
		batchRows++
		if batchRows == perBatch || batchBytes >= copyBatchBytes {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	return copied, flush()
}

// valueTuples is the VALUES list of a multi-row INSERT of rows rows of cols
// columns: ($1, $2), ($3, $4), …
func valueTuples(rows, cols int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + placeholders(r*cols+1, cols) + ")")
	}
	return b.String()
}

// sourceColumns returns a source table's column names in order.
func sourceColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info($1) ORDER BY cid`, table)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read columns: %w", err)
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// convertValue turns a value as the SQLite driver reads it into one the
// target column's type takes. SQLite keeps any value in any column, so a
// BLOB column may hold TEXT (an emptied body of an older hub), which pgx
// would parse as bytea's text syntax if given a string.
func convertValue(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch pgType {
	case "bytea":
		switch x := v.(type) {
		case []byte:
			// The SQLite driver reads an empty blob as a nil slice, which
			// pgx would send as NULL.
			if x == nil {
				return []byte{}, nil
			}
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
				return int64(x), nil
			}
		case string:
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				return n, nil
			}
		}
	case "double precision", "real", "numeric":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case "text", "character varying", "character":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			if utf8.Valid(x) {
				return string(x), nil
			}
			return nil, errors.New("a blob that is not UTF-8 text in a text column")
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("a %T value does not fit a %s column", v, pgType)
}

// valueSize is roughly how many bytes a value sends.
func valueSize(v any) int {
	switch x := v.(type) {
	case []byte:
		return len(x)
	case string:
		return len(x)
	}
	return 8
}

// resetSequences moves every identity (or serial) sequence of the target
// past the largest id its table holds, so new rows do not collide.
func resetSequences(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')
		ORDER BY table_name`)
	if err != nil {
		return fmt.Errorf("copy: find sequences: %w", err)
	}
	type identity struct{ table, column string }
	var ids []identity
	for rows.Next() {
		var id identity
		if err := rows.Scan(&id.table, &id.column); err != nil {
			rows.Close()
			return fmt.Errorf("copy: find sequences: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("copy: find sequences: %w", err)
	}
	for _, id := range ids {
		// is_called false: the next value is exactly max+1 (1 when empty).
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, $2),
				COALESCE((SELECT MAX(`+quoteIdent(id.column)+`) FROM `+quoteIdent(id.table)+`), 0) + 1, false)`,
			quoteIdent(id.table), id.column); err != nil {
			return fmt.Errorf("copy: reset the sequence of %s.%s: %w", id.table, id.column, err)
		}
	}
	return nil
}

// verifyCounts checks that every copied table has as many rows in the
// target as in the source's snapshot.
func verifyCounts(ctx context.Context, stx, dtx *sql.Tx, tables []TableCount) error {
	for _, t := range tables {
		var source, target int64
		count := `SELECT COUNT(*) FROM ` + quoteIdent(t.Name)
		if err := stx.QueryRowContext(ctx, count).Scan(&source); err != nil {
			return fmt.Errorf("copy: count source %s: %w", t.Name, err)
		}
		if err := dtx.QueryRowContext(ctx, count).Scan(&target); err != nil {
			return fmt.Errorf("copy: count target %s: %w", t.Name, err)
		}
		if source != target || source != t.Rows {
			return fmt.Errorf("copy: %s has %d rows in the source and %d in the target after copying %d: rolled back",
				t.Name, source, target, t.Rows)
		}
	}
	return nil
}

// quoteIdent quotes a table or column name for either engine.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
