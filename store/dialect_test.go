package store

import (
	"errors"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/jackc/pgx/v5/pgconn"
)

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
