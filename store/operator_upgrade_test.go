package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// TestOperatorsUpgrade opens a database of the schema before operator
// accounts, with a session of the one-password login: the migration keeps
// the data, the old session is no longer valid (it names no operator), and
// auth.password_hash becomes the built-in admin account.
func TestOperatorsUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	conn, err := sql.Open("sqlite", dsn(path, false, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	all, err := migrations(sqliteDialect{}.migrations())
	if err != nil {
		t.Fatal(err)
	}
	ops := slices.IndexFunc(all, func(m migration) bool { return strings.HasSuffix(m.name, "_operators.sql") })
	if ops < 0 {
		t.Fatal("no operators migration")
	}
	if err := migrateThrough(ctx, conn, all[:ops]); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	if _, err := conn.ExecContext(ctx, `INSERT INTO sessions (token_hash, created_at, expires_at) VALUES ($1, $2, $3)`,
		hub.HashSecret("old-token"), now.UnixMilli(), now.Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	db := NewDB(path)
	db.Now = func() time.Time { return now }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sess, err := db.FindSessionByTokenHash(ctx, hub.HashSecret("old-token"))
	if err != nil || sess.Operator != "" {
		t.Fatalf("old session: %+v, %v (want kept, naming no operator)", sess, err)
	}
	const hash = "$2a$04$abcdefghijklmnopqrstuuAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if ok, err := db.SyncBuiltinOperator(ctx, hash); err != nil || !ok {
		t.Fatalf("sync: %v %v", ok, err)
	}
	admin, err := db.FindOperator(ctx, hub.BuiltinOperator)
	if err != nil || !admin.Builtin || admin.Role != hub.RoleAdmin || admin.PasswordHash != hash {
		t.Fatalf("built-in admin: %+v, %v", admin, err)
	}
	// A new hash in the config ends the account's sessions; an empty one
	// removes the account.
	if err := db.CreateSession(ctx, &hub.Session{TokenHash: "h1", Operator: "admin", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SyncBuiltinOperator(ctx, hash[:len(hash)-1]+"B"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindSessionByTokenHash(ctx, "h1"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("the session of the old password survived its change: %v", err)
	}
	if _, err := db.SyncBuiltinOperator(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountOperators(ctx); n != 0 {
		t.Errorf("%d operators after the password hash was removed", n)
	}
}

// TestOperatorStore: the last admin stays, a TOTP step and a recovery code
// are good once, a password change ends the other sessions, and a
// revoked token is gone.
func TestOperatorStore(t *testing.T) {
	ctx := context.Background()
	db := NewDB(filepath.Join(t.TempDir(), "hub.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateOperator(ctx, &hub.Operator{Name: "anna", PasswordHash: "x", Role: hub.RoleAdmin}))
	if err := db.CreateOperator(ctx, &hub.Operator{Name: "anna", PasswordHash: "x", Role: hub.RoleViewer}); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("duplicate: %v", err)
	}
	if err := db.CreateOperator(ctx, &hub.Operator{Name: "Bad Name\n", PasswordHash: "x", Role: hub.RoleViewer}); hub.ErrorCode(err) != hub.EINVALID {
		t.Errorf("bad name: %v", err)
	}
	if err := db.DeleteOperator(ctx, "anna"); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("the last admin was removed: %v", err)
	}
	if err := db.SetOperatorRole(ctx, "anna", hub.RoleViewer); hub.ErrorCode(err) != hub.ECONFLICT {
		t.Errorf("the last admin was demoted: %v", err)
	}
	must(db.EnrollTOTP(ctx, "anna", hub.NewTOTPSecret(), []string{"c1", "c2"}))
	for i, want := range []bool{true, false, false} {
		ok, err := db.UseTOTPStep(ctx, "anna", 100-int64(i))
		must(err)
		if ok != want {
			t.Errorf("step %d: %v, want %v", 100-i, ok, want)
		}
	}
	for _, want := range []bool{true, false} {
		ok, err := db.UseRecoveryCode(ctx, "anna", "c1")
		must(err)
		if ok != want {
			t.Errorf("recovery code: %v, want %v", ok, want)
		}
	}
	if n, _ := db.CountRecoveryCodes(ctx, "anna"); n != 1 {
		t.Errorf("%d recovery codes left, want 1", n)
	}
	op, err := db.FindOperator(ctx, "anna")
	must(err)
	if !op.TOTPEnabled() {
		t.Error("the TOTP secret does not read back")
	}
	now := time.Now()
	for _, h := range []string{"keep", "other"} {
		must(db.CreateSession(ctx, &hub.Session{TokenHash: h, Operator: "anna", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	}
	must(db.SetOperatorPassword(ctx, "anna", "y", "keep"))
	sessions, err := db.FindOperatorSessions(ctx, "anna")
	must(err)
	if len(sessions) != 1 || sessions[0].TokenHash != "keep" {
		t.Errorf("sessions after a password change: %v", sessions)
	}
	tok := &hub.APIToken{Name: "deploy", Scopes: []hub.Scope{hub.ScopeAdmin}, TokenHash: hub.HashSecret("t")}
	must(db.CreateAPIToken(ctx, tok))
	got, err := db.FindAPITokenByHash(ctx, hub.HashSecret("t"))
	must(err)
	if got.ID != tok.ID || !got.Has(hub.ScopeRead) {
		t.Errorf("token: %+v", got)
	}
	if touched, _ := db.TouchAPIToken(ctx, tok.ID, now, time.Minute); !touched {
		t.Error("first use not recorded")
	}
	if touched, _ := db.TouchAPIToken(ctx, tok.ID, now.Add(time.Second), time.Minute); touched {
		t.Error("a use within the minute written again")
	}
	must(db.DeleteAPIToken(ctx, tok.ID))
	if _, err := db.FindAPITokenByHash(ctx, hub.HashSecret("t")); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("revoked token found: %v", err)
	}
}
