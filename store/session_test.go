package store_test

import (
	"context"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/clocktest"
	"github.com/felhom/hub/store"
)

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, clocktest.New(epoch))
	token := hub.RandomHex(32)
	s := &hub.Session{TokenHash: hub.HashSecret(token), CreatedAt: epoch, ExpiresAt: epoch.Add(7 * 24 * time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, s); err == nil {
		t.Error("a second session with the same token hash was stored")
	}
	got, err := db.FindSessionByTokenHash(ctx, s.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(s.CreatedAt) || !got.ExpiresAt.Equal(s.ExpiresAt) {
		t.Errorf("got %+v, want %+v", got, s)
	}
	if got.Expired(epoch.Add(time.Hour)) || !got.Expired(s.ExpiresAt) {
		t.Error("Expired is wrong at the edges")
	}
	if _, err := db.FindSessionByTokenHash(ctx, hub.HashSecret("other")); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("unknown session: %v, want ENOTFOUND", err)
	}
	if err := db.DeleteSession(ctx, s.TokenHash); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindSessionByTokenHash(ctx, s.TokenHash); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("after delete: %v, want ENOTFOUND", err)
	}
	if err := db.DeleteSession(ctx, s.TokenHash); err != nil {
		t.Errorf("deleting an unknown session: %v", err)
	}
}

func TestSessionStoresOnlyTheHash(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	token := hub.RandomHex(32)
	if err := db.CreateSession(ctx, &hub.Session{TokenHash: hub.HashSecret(token), CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	raw := store.OpenRaw(t, db)
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM sessions WHERE token_hash = $1 OR token_hash LIKE $2`, token, "%"+token+"%").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the plain session token is in the database")
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, nil)
	for i, exp := range []time.Duration{-time.Hour, 0, time.Hour} {
		s := &hub.Session{TokenHash: hub.HashSecret(string(rune('a' + i))), CreatedAt: epoch.Add(-2 * time.Hour), ExpiresAt: epoch.Add(exp)}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.DeleteExpiredSessions(ctx, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("deleted %d sessions, want 2 (expired before and exactly at now)", n)
	}
	if _, err := db.FindSessionByTokenHash(ctx, hub.HashSecret("c")); err != nil {
		t.Errorf("the live session was deleted: %v", err)
	}
}
