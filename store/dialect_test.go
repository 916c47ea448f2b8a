package store

import (
	"errors"
	"strings"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{`SELECT '?' || ? FROM "we?ird" -- why?` + "\n" + `WHERE x = ?`, `SELECT '?' || $1 FROM "we?ird" -- why?` + "\n" + `WHERE x = $2`},
		{`SELECT /* ? */ ?`, `SELECT /* ? */ $1`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT 'unterminated ?`, `SELECT 'unterminated ?`},
		{`SELECT ? -- trailing ?`, `SELECT $1 -- trailing ?`},
		// SQLite's numbered form, and a bare ? after it (one more than
		// the largest so far), as SQLite numbers them.
		{`SELECT ?2, ?1, ?`, `SELECT $2, $1, $3`},
		{`SELECT 0?00`, `SELECT 0$00`},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRebind checks that rebinding never panics and changes nothing but
// placeholders: with every $n of the output and every ?n of the input
// read as a bare ?, the two are the same.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{`SELECT ? FROM t WHERE a = '?' AND b = ?`, `-- ?`, `/* ? */ ?`, `"?"?`, `'`, `?`, `?12 ?`, `0?00`} {
		f.Add(s)
	}
	numbered := func(marker byte, s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			b.WriteByte(s[i])
			if s[i] == marker {
				for i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
					i++
				}
			}
		}
		return b.String()
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := rebind(q)
		if !strings.Contains(q, "?") && got != q {
			t.Fatalf("changed a query without placeholders: %q -> %q", q, got)
		}
		if strings.Contains(q, "$") {
			return // the input's own $n cannot be told from the rebind's
		}
		back := numbered('?', strings.ReplaceAll(numbered('$', got), "$", "?"))
		if want := numbered('?', q); back != want {
			t.Fatalf("rebind changed more than placeholders: %q -> %q", q, got)
		}
	})
}

func TestPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{placeholder(1), "$1"},
		{placeholder(12), "$12"},
		{placeholders(1, 0), ""},
		{placeholders(1, 1), "$1"},
		{placeholders(3, 3), "$3, $4, $5"},
		{valueTuples(1, 2), "($1, $2)"},
		{valueTuples(3, 2), "($1, $2), ($3, $4), ($5, $6)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestPostgresUnavailable(t *testing.T) {
	d := postgresDialect{}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "53100", Message: "could not extend file"}, true},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "55P03"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "23505", Message: "duplicate key"}, false},
		{&pgconn.PgError{Code: "42601", Message: "syntax error"}, false},
		{errors.New("plain"), false},
	} {
		if _, got := d.unavailable(tc.err); got != tc.want {
			t.Errorf("unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	db := newDB(d)
	err := db.classify(&pgconn.PgError{Code: "53100"})
	if hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Errorf("classify(disk full) = %v, want EUNAVAILABLE", err)
	}
}
