package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/config"
	"github.com/felhom/hub/store"
	"golang.org/x/crypto/bcrypt"
)

// secretsKeyFile holds the secrets key the hub minted for itself.
const secretsKeyFile = "secrets-key"

// secretsKey returns secrets.key, or the key kept in the data directory;
// with mint, a SQLite hub without one mints it (as it does the global
// key), so that customer secrets are never stored in the clear by default.
// PostgreSQL replicas have a directory each: there the key must come from
// the config (nil and a warning otherwise, as before).
func secretsKey(cfg *config.Config, logger *slog.Logger, mint bool) ([]byte, error) {
	key, err := cfg.SecretsKey()
	if err != nil || key != nil {
		return key, err
	}
	if cfg.Database.Driver == "postgres" {
		return nil, nil
	}
	path := filepath.Join(cfg.Server.DataDir, secretsKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s: not 32 bytes in base64", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !mint {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	key = make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	if err := os.MkdirAll(cfg.Server.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	logger.Warn("secrets.key is not set: minted one into the data directory; back it up apart from the database, which cannot be read without it", "file", path)
	return key, nil
}

// loopbackOnly reports whether listen binds loopback addresses only.
func loopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkExposure refuses to serve a dashboard without any login on an
// address others can reach, unless auth.disabled says that is meant.
func (m *Main) checkExposure(ctx context.Context) error {
	cfg := m.Config
	if cfg.Auth.Disabled || loopbackOnly(cfg.Server.Listen) {
		return nil
	}
	n, err := m.DB.CountOperators(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return &config.FieldError{Key: "auth",
		Reason: fmt.Sprintf("the hub listens on %s, which is not loopback, and has no operator account and no auth.password_hash: "+
			"add an account (hub user add NAME --role admin), set auth.password_hash, listen on 127.0.0.1, "+
			"or set auth.disabled: true to serve an open dashboard on purpose", cfg.Server.Listen)}
}

// syncBuiltinOperator makes the account admin match auth.password_hash.
func (m *Main) syncBuiltinOperator(ctx context.Context) error {
	ok, err := m.DB.SyncBuiltinOperator(ctx, m.Config.Auth.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		m.Logger.Warn("auth.password_hash is ignored: an operator account named admin was made by hand and keeps its own password")
	}
	return nil
}

// openCommandStore opens the database for a command, with the secrets key.
func openCommandStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db := newStore(cfg)
	key, err := secretsKey(cfg, slog.New(slog.DiscardHandler), false)
	if err != nil {
		return nil, err
	}
	if key != nil {
		if err := db.SetSecretsKey(key); err != nil {
			return nil, err
		}
	}
	if err := db.Open(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// readOperatorPassword reads a new operator password as readPassword does
// (twice without echo on a terminal, else one line of stdin) and checks it
// against the operators' rules.
func readOperatorPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return "", err
	}
	return password, hub.ValidatePassword(password)
}

const userUsage = `usage:
  hub user add NAME --role admin|viewer [--config FILE]   (password on stdin, or asked twice on a terminal)
  hub user passwd NAME [--config FILE]                    (ends the account's sessions)
  hub user remove NAME [--config FILE]
  hub user list [--config FILE]`

// runUser manages operator accounts.
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file")
	role := fs.String("role", "", "admin or viewer")
	name, rest := leadingName(rest)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return err
	}
	db, err := openCommandStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "list":
		ops, err := db.FindOperators(ctx)
		if err != nil {
			return err
		}
		for _, o := range ops {
			extra := ""
			if o.Builtin {
				extra += " (auth.password_hash)"
			}
			if o.TOTPEnabled() {
				extra += " two-factor"
			}
			fmt.Fprintf(stdout, "%s\t%s%s\n", o.Name, o.Role, extra)
		}
		return nil
	case "add", "passwd", "remove":
	default:
		return errors.New(userUsage)
	}
	if err := hub.ValidateOperatorName(name); err != nil {
		return err
	}
	switch sub {
	case "remove":
		if err := db.DeleteOperator(ctx, name); err != nil {
			return err
		}
		audit(ctx, db, "operator.remove", name)
		fmt.Fprintf(stdout, "removed %s\n", name)
		return nil
	case "add":
		r, err := hub.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("--role: %w", err)
		}
		hash, err := newPasswordHash(stdin, stderr)
		if err != nil {
			return err
		}
		if err := db.CreateOperator(ctx, &hub.Operator{Name: name, PasswordHash: hash, Role: r}); err != nil {
			return err
		}
		audit(ctx, db, "operator.add", name+" as "+string(r))
		fmt.Fprintf(stdout, "added %s (%s)\n", name, r)
		return nil
	default: // passwd
		o, err := db.FindOperator(ctx, name)
		if err != nil {
			return err
		}
		if o.Builtin {
			return errors.New("the password of admin is auth.password_hash: change it in the config")
		}
		hash, err := newPasswordHash(stdin, stderr)
		if err != nil {
			return err
		}
		if err := db.SetOperatorPassword(ctx, name, hash, ""); err != nil {
			return err
		}
		audit(ctx, db, "operator.password", name)
		fmt.Fprintf(stdout, "password of %s changed; its sessions have ended\n", name)
		return nil
	}
}

// leadingName takes a NAME given before the flags (hub user add anna --role admin).
func leadingName(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

func newPasswordHash(stdin io.Reader, stderr io.Writer) (string, error) {
	password, err := readOperatorPassword(stdin, stderr)
	if err != nil {
		return "", err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	return string(hash), err
}

// audit records a command-line action; the command's user is the host's.
func audit(ctx context.Context, db *store.DB, action, detail string) {
	_ = db.CreateAuditEntry(ctx, &hub.AuditEntry{Actor: "command-line", Action: action, Result: hub.AuditOK, Detail: detail})
}

// runToken mints an API token on the command line (hub token add).
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) error {
	const usage = "usage: hub token add NAME --scope read|admin [--expires 720h] [--config FILE]"
	if len(args) == 0 || args[0] != "add" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("token add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file")
	scope := fs.String("scope", "", "read or admin")
	expires := fs.Duration("expires", 0, "how long the token is valid (default: until revoked)")
	name, rest := leadingName(args[1:])
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" || *scope == "" {
		return errors.New(usage)
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return err
	}
	db, err := openCommandStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	var expiresAt *time.Time
	if *expires != 0 {
		e := now.Add(*expires)
		expiresAt = &e
	}
	t, plain, err := api.NewAPIToken(name, strings.Split(*scope, ","), expiresAt, "command-line", now)
	if err != nil {
		return err
	}
	if err := db.CreateAPIToken(ctx, t); err != nil {
		return err
	}
	audit(ctx, db, "token.create", "id "+t.ID+", name "+hub.Printable(name, 64))
	fmt.Fprintf(stderr, "token %s (%s) made; it is shown once:\n", t.ID, *scope)
	fmt.Fprintln(stdout, plain)
	return nil
}
