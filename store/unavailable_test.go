package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func openInternal(t *testing.T) *DB {
	t.Helper()
	db := NewDB(filepath.Join(t.TempDir(), "hub.db"))
	db.BusyTimeout = 50 * time.Millisecond
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func report(t *testing.T, id string) *hub.Report {
	t.Helper()
	r, err := hub.ParseReport([]byte(`{"customer_id":"`+id+`"}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLockedDatabaseIsUnavailableThenRecovers(t *testing.T) {
	SkipOnPostgres(t)
	ctx := context.Background()
	db := openInternal(t)
	other, err := sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(50)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateReport(ctx, report(t, "locked"))
	if hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Fatalf("write under another process's lock: %v, want EUNAVAILABLE", err)
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateReport(ctx, report(t, "locked")); err != nil {
		t.Fatalf("after the lock is released: %v", err)
	}
}

func TestFullDiskIsUnavailableThenRecovers(t *testing.T) {
	SkipOnPostgres(t)
	ctx := context.Background()
	db := openInternal(t)
	var pages int64
	if err := db.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The writer connection may not grow the file: the disk is "full".
	if _, err := db.write.ExecContext(ctx, `PRAGMA max_page_count = `+itoa(pages)); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 0, 64<<10)
	big = append(big, `{"customer_id":"full","pad":"`...)
	random := make([]byte, 45<<10)
	_, _ = rand.Read(random)
	big = base64.StdEncoding.AppendEncode(big, random)
	big = append(big, `"}`...)
	r, err := hub.ParseReport(big, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateReport(ctx, r)
	if hub.ErrorCode(err) != hub.EUNAVAILABLE {
		t.Fatalf("write on a full disk: %v, want EUNAVAILABLE", err)
	}
	if got := hub.ErrorMessage(err); got != "the hub's disk is full; retry later" {
		t.Errorf("message %q", got)
	}
	if _, err := db.FindCustomerByID(ctx, "full"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("a failed write left a customer behind: %v", err)
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateReport(ctx, r); err != nil {
		t.Fatalf("after space is freed: %v", err)
	}
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}
