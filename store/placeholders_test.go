package store_test

import (
	"slices"
	"testing"

	"github.com/felhom/hub/store"
)

// The store's SQL numbers its parameters $n on both engines: a number may
// come twice, out of order, in an IN list and as the LIMIT; a Go bool binds
// as 0 or 1 in an integer column.
func TestNumberedPlaceholders(t *testing.T) {
	db := MustOpenDB(t, nil)
	raw := store.OpenRaw(t, db)
	if _, err := raw.Exec(`CREATE TABLE placeholder_probe (n BIGINT NOT NULL, even INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for n := int64(1); n <= 8; n++ {
		if _, err := raw.Exec(`INSERT INTO placeholder_probe (n, even) VALUES ($1, $2)`, n, n%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	ints := func(query string, args ...any) []int64 {
		t.Helper()
		rows, err := raw.Query(query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	if got, want := ints(`SELECT even FROM placeholder_probe WHERE n IN ($1, $2) ORDER BY n`, 3, 4), []int64{0, 1}; !slices.Equal(got, want) {
		t.Errorf("false, true stored as %v, want %v", got, want)
	}
	got := ints(`SELECT n FROM placeholder_probe
		WHERE n >= $1 AND even = $2 AND n IN ($3, $4, $1)
		ORDER BY n LIMIT $5`, 2, true, 6, 4, 2)
	if want := []int64{2, 4}; !slices.Equal(got, want) {
		t.Errorf("$1 twice, IN and LIMIT: got %v, want %v", got, want)
	}
	got = ints(`SELECT n FROM placeholder_probe WHERE n < $2 AND n > $1 ORDER BY n`, 2, 5)
	if want := []int64{3, 4}; !slices.Equal(got, want) {
		t.Errorf("$2 before $1: got %v, want %v", got, want)
	}
}
