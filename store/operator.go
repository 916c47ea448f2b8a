package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

var _ hub.OperatorService = (*DB)(nil)

// totpContext binds a sealed TOTP secret to its account.
func totpContext(name string) string { return "operators.totp_secret:" + name }

// CreateOperator stores a new operator account.
func (db *DB) CreateOperator(ctx context.Context, o *hub.Operator) error {
	if err := hub.ValidateOperatorName(o.Name); err != nil {
		return err
	}
	if _, err := hub.ParseRole(string(o.Role)); err != nil {
		return err
	}
	if o.PasswordHash == "" {
		return errors.New("create operator: empty password hash")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM operators WHERE name = $1`, o.Name).Scan(&exists)
		if err == nil {
			return hub.Errorf(hub.ECONFLICT, "an operator named %s exists", o.Name)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check operator: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO operators (name, password_hash, role, builtin, created_at)
			VALUES ($1, $2, $3, $4, $5)`, o.Name, o.PasswordHash, string(o.Role), boolInt(o.Builtin), millis(now)); err != nil {
			return fmt.Errorf("insert operator: %w", err)
		}
		o.CreatedAt = now
		return nil
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const operatorColumns = `name, password_hash, role, builtin, totp_secret, created_at`

func (db *DB) scanOperator(row interface{ Scan(...any) error }) (*hub.Operator, error) {
	var (
		o       hub.Operator
		role    string
		builtin int
		sealed  string
		created int64
	)
	if err := row.Scan(&o.Name, &o.PasswordHash, &role, &builtin, &sealed, &created); err != nil {
		return nil, err
	}
	o.Role, o.Builtin, o.CreatedAt = hub.Role(role), builtin != 0, fromMillis(created)
	if sealed != "" {
		text, err := db.sealer.Open(sealed, totpContext(o.Name))
		if err != nil {
			return nil, fmt.Errorf("open the two-factor secret of %s: %w", o.Name, err)
		}
		if o.TOTPSecret, err = hub.ParseTOTPSecretText(text); err != nil {
			return nil, fmt.Errorf("the two-factor secret of %s: %w", o.Name, err)
		}
	}
	return &o, nil
}

// FindOperator returns the named account.
func (db *DB) FindOperator(ctx context.Context, name string) (*hub.Operator, error) {
	o, err := db.scanOperator(db.read.QueryRowContext(ctx,
		`SELECT `+operatorColumns+` FROM operators WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no such operator")
	} else if err != nil {
		return nil, fmt.Errorf("find operator: %w", err)
	}
	return o, nil
}

// FindOperators returns every account, by name.
func (db *DB) FindOperators(ctx context.Context) ([]*hub.Operator, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find operators: %w", err)
	}
	defer rows.Close()
	var out []*hub.Operator
	for rows.Next() {
		o, err := db.scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("find operators: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// CountOperators returns how many accounts exist.
func (db *DB) CountOperators(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count operators: %w", err)
	}
	return n, nil
}

// SetOperatorPassword changes the password and ends the account's other
// sessions.
func (db *DB) SetOperatorPassword(ctx context.Context, name, passwordHash, keepSession string) error {
	if passwordHash == "" {
		return errors.New("set operator password: empty hash")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE operators SET password_hash = $1 WHERE name = $2`, passwordHash, name)
		if err != nil {
			return fmt.Errorf("set operator password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hub.Errorf(hub.ENOTFOUND, "no such operator")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE operator = $1 AND token_hash <> $2`, name, keepSession); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}

// otherAdmins counts the admins other than name.
func otherAdmins(ctx context.Context, tx *sql.Tx, name string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators WHERE role = 'admin' AND name <> $1`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// operatorRole returns the stored role of name.
func operatorRole(ctx context.Context, tx *sql.Tx, name string) (hub.Role, error) {
	var role string
	err := tx.QueryRowContext(ctx, `SELECT role FROM operators WHERE name = $1`, name).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hub.Errorf(hub.ENOTFOUND, "no such operator")
	} else if err != nil {
		return "", fmt.Errorf("find operator: %w", err)
	}
	return hub.Role(role), nil
}

// SetOperatorRole changes an account's role, keeping at least one admin.
func (db *DB) SetOperatorRole(ctx context.Context, name string, role hub.Role) error {
	if _, err := hub.ParseRole(string(role)); err != nil {
		return err
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		old, err := operatorRole(ctx, tx, name)
		if err != nil {
			return err
		}
		if old == hub.RoleAdmin && role != hub.RoleAdmin {
			if n, err := otherAdmins(ctx, tx, name); err != nil {
				return err
			} else if n == 0 {
				return hub.Errorf(hub.ECONFLICT, "%s is the last admin: make another admin first", name)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET role = $1 WHERE name = $2`, string(role), name); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		return nil
	})
}

// DeleteOperator removes an account with its sessions and codes.
func (db *DB) DeleteOperator(ctx context.Context, name string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		role, err := operatorRole(ctx, tx, name)
		if err != nil {
			return err
		}
		if role == hub.RoleAdmin {
			if n, err := otherAdmins(ctx, tx, name); err != nil {
				return err
			} else if n == 0 {
				return hub.Errorf(hub.ECONFLICT, "%s is the last admin: make another admin first", name)
			}
		}
		return deleteOperator(ctx, tx, name)
	})
}

func deleteOperator(ctx context.Context, tx *sql.Tx, name string) error {
	for _, q := range []string{
		`DELETE FROM sessions WHERE operator = $1`,
		`DELETE FROM operator_recovery_codes WHERE operator = $1`,
		`DELETE FROM operators WHERE name = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, name); err != nil {
			return fmt.Errorf("delete operator: %w", err)
		}
	}
	return nil
}

// SyncBuiltinOperator makes the built-in admin match auth.password_hash.
func (db *DB) SyncBuiltinOperator(ctx context.Context, hash string) (bool, error) {
	ok := true
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var builtin int
		var stored string
		err := tx.QueryRowContext(ctx, `SELECT builtin, password_hash FROM operators WHERE name = $1`,
			hub.BuiltinOperator).Scan(&builtin, &stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if hash == "" {
				return nil
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO operators (name, password_hash, role, builtin, created_at)
				VALUES ($1, $2, 'admin', 1, $3)`, hub.BuiltinOperator, hash, millis(now))
			return err
		case err != nil:
			return fmt.Errorf("find built-in operator: %w", err)
		case builtin == 0:
			ok = hash == ""
			return nil
		case hash == "":
			return deleteOperator(ctx, tx, hub.BuiltinOperator)
		case stored == hash:
			return nil
		}
		// A new password in the config ends the sessions of the old one.
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET password_hash = $1, role = 'admin' WHERE name = $2`,
			hash, hub.BuiltinOperator); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE operator = $1`, hub.BuiltinOperator)
		return err
	})
	return ok, err
}

// EnrollTOTP sets the account's second factor and its recovery codes.
func (db *DB) EnrollTOTP(ctx context.Context, name string, secret []byte, codeHashes []string) error {
	if len(secret) == 0 {
		return errors.New("enroll totp: empty secret")
	}
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE operators SET totp_secret = $1, totp_last_step = 0 WHERE name = $2`,
			db.sealer.Seal(hub.TOTPSecretText(secret), totpContext(name)), name)
		if err != nil {
			return fmt.Errorf("enroll totp: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hub.Errorf(hub.ENOTFOUND, "no such operator")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM operator_recovery_codes WHERE operator = $1`, name); err != nil {
			return fmt.Errorf("enroll totp: %w", err)
		}
		for _, h := range codeHashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO operator_recovery_codes (operator, code_hash) VALUES ($1, $2)`, name, h); err != nil {
				return fmt.Errorf("enroll totp: store recovery code: %w", err)
			}
		}
		return nil
	})
}

// DisableTOTP removes the account's second factor and recovery codes.
func (db *DB) DisableTOTP(ctx context.Context, name string) error {
	return db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET totp_secret = '', totp_last_step = 0 WHERE name = $1`, name); err != nil {
			return fmt.Errorf("disable totp: %w", err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM operator_recovery_codes WHERE operator = $1`, name)
		return err
	})
}

// UseTOTPStep spends a step: one UPDATE that only moves the step forward,
// so that two replicas given the same code cannot both accept it.
func (db *DB) UseTOTPStep(ctx context.Context, name string, step int64) (bool, error) {
	var ok bool
	err := db.inWriteTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE operators SET totp_last_step = $1 WHERE name = $2 AND totp_last_step < $1`, step, name)
		if err != nil {
			return fmt.Errorf("use totp step: %w", err)
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// UseRecoveryCode spends one unused recovery code.
func (db *DB) UseRecoveryCode(ctx context.Context, name, codeHash string) (bool, error) {
	var ok bool
	err := db.inWriteTx(ctx, func(tx *sql.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE operator_recovery_codes SET used_at = $1
			WHERE operator = $2 AND code_hash = $3 AND used_at = 0`, millis(now), name, codeHash)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", err)
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// CountRecoveryCodes returns the unused recovery codes of an account.
func (db *DB) CountRecoveryCodes(ctx context.Context, name string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM operator_recovery_codes WHERE operator = $1 AND used_at = 0`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}
