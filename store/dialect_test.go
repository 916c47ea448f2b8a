package store

import (
	"errors"
	"strconv"
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
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// FuzzRebind checks that rebinding never panics, changes nothing but
// placeholders, and numbers them 1, 2, … in order.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{`SELECT ? FROM t WHERE a = '?' AND b = ?`, `-- ?`, `/* ? */ ?`, `"?"?`, `'`, `?`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := rebind(q)
		if !strings.Contains(q, "?") && got != q {
			t.Fatalf("changed a query without placeholders: %q -> %q", q, got)
		}
		// Undo: every $n the rebind wrote becomes ? again.
		var back strings.Builder
		n := 0
		for i := 0; i < len(got); i++ {
			if got[i] == '$' {
				j := i + 1
				for j < len(got) && got[j] >= '0' && got[j] <= '9' {
					j++
				}
				if num := got[i+1 : j]; num != "" && !strings.Contains(q, "$") {
					n++
					if want := strconv.Itoa(n); num != want {
						t.Fatalf("placeholder %d numbered %s in %q", n, num, got)
					}
					back.WriteByte('?')
					i = j - 1
					continue
				}
			}
			back.WriteByte(got[i])
		}
		if !strings.Contains(q, "$") && back.String() != q {
			t.Fatalf("rebind changed more than placeholders: %q -> %q", q, got)
		}
	})
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
