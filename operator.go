package hub

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Role is what an operator may do on the dashboard (SPEC §7.5).
type Role string

// The operator roles.
const (
	// RoleAdmin reads everything, secrets included, and acts.
	RoleAdmin Role = "admin"
	// RoleViewer reads every page but never a secret, and never acts.
	RoleViewer Role = "viewer"
)

// ParseRole returns the role named s; anything else is EINVALID.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.TrimSpace(s)); r {
	case RoleAdmin, RoleViewer:
		return r, nil
	}
	return "", Errorf(EINVALID, "role must be admin or viewer")
}

// Allows reports whether an operator of role r may do what needs role need.
func (r Role) Allows(need Role) bool {
	switch need {
	case RoleViewer:
		return r == RoleViewer || r == RoleAdmin
	case RoleAdmin:
		return r == RoleAdmin
	}
	return false
}

// BuiltinOperator is the account auth.password_hash logs in as.
const BuiltinOperator = "admin"

// Operator is a person who logs in to the dashboard.
type Operator struct {
	Name         string
	PasswordHash string // bcrypt
	Role         Role
	// Builtin marks the account auth.password_hash defines: its password
	// is the config's, changed there and not on the dashboard.
	Builtin bool
	// TOTPSecret is the RFC 6238 shared secret (raw bytes); empty until
	// the operator has enrolled.
	TOTPSecret []byte
	CreatedAt  time.Time
}

// TOTPEnabled reports whether the operator logs in with a second factor.
func (o *Operator) TOTPEnabled() bool { return len(o.TOTPSecret) > 0 }

var operatorNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

// ValidateOperatorName checks an account name: 1..40 of [a-z0-9._-],
// starting with a letter or digit.
func ValidateOperatorName(name string) error {
	if !operatorNameRE.MatchString(name) {
		return Errorf(EINVALID, "the name must be 1 to 40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return nil
}

// ValidatePassword checks a new operator password.
func ValidatePassword(password string) error {
	switch {
	case len(password) < 12:
		return Errorf(EINVALID, "the password must be at least 12 characters")
	case len(password) > 72:
		return Errorf(EINVALID, "the password must be at most 72 bytes (bcrypt reads no more)")
	case strings.ContainsAny(password, "\r\n\x00"):
		return Errorf(EINVALID, "the password must not hold line breaks or NUL")
	}
	return nil
}

// RecoveryCodeCount is how many single-use recovery codes an enrolment
// mints.
const RecoveryCodeCount = 10

// NewRecoveryCode mints a recovery code a person can type: two groups of
// five characters, about 49 bits, enough for a code that is also behind
// the login throttle.
func NewRecoveryCode() string {
	out := make([]byte, 0, 11)
	for i := range 10 {
		if i == 5 {
			out = append(out, '-')
		}
		out = append(out, retrievalAlphabet[randomIndex(len(retrievalAlphabet))])
	}
	return string(out)
}

// NormalizeRecoveryCode folds what a person typed into the stored form:
// lower case, without spaces, with the dash.
func NormalizeRecoveryCode(s string) string {
	s = strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(s) != 10 {
		return s
	}
	return s[:5] + "-" + s[5:]
}

// OperatorService keeps operator accounts, their second factor and their
// recovery codes.
type OperatorService interface {
	// CreateOperator stores a new account; ECONFLICT when the name is taken.
	CreateOperator(ctx context.Context, o *Operator) error
	// FindOperator returns the account; ENOTFOUND when none has the name.
	FindOperator(ctx context.Context, name string) (*Operator, error)
	// FindOperators returns every account, by name.
	FindOperators(ctx context.Context) ([]*Operator, error)
	// CountOperators returns how many accounts exist.
	CountOperators(ctx context.Context) (int, error)
	// SetOperatorPassword changes the password and ends every session of
	// the account but keepSession (a token hash; "" ends them all).
	SetOperatorPassword(ctx context.Context, name, passwordHash, keepSession string) error
	// SetOperatorRole changes the role; demoting the last admin is ECONFLICT.
	SetOperatorRole(ctx context.Context, name string, role Role) error
	// DeleteOperator removes the account, its sessions and recovery codes;
	// removing the last admin is ECONFLICT.
	DeleteOperator(ctx context.Context, name string) error
	// SyncBuiltinOperator makes the built-in account match
	// auth.password_hash: created or updated when hash is set, removed
	// when it is empty. An account of that name made by hand is left
	// alone (reported by ok false).
	SyncBuiltinOperator(ctx context.Context, hash string) (ok bool, err error)
	// EnrollTOTP sets the second factor and replaces the recovery codes by
	// those hashed in codeHashes.
	EnrollTOTP(ctx context.Context, name string, secret []byte, codeHashes []string) error
	// DisableTOTP removes the second factor and the recovery codes.
	DisableTOTP(ctx context.Context, name string) error
	// UseTOTPStep records that the code of step was used, and reports
	// false when that step or a later one was used before (a code is
	// good once).
	UseTOTPStep(ctx context.Context, name string, step int64) (bool, error)
	// UseRecoveryCode spends the code whose hash is codeHash, and reports
	// false when the account has no such unused code.
	UseRecoveryCode(ctx context.Context, name, codeHash string) (bool, error)
	// CountRecoveryCodes returns how many unused recovery codes remain.
	CountRecoveryCodes(ctx context.Context, name string) (int, error)
}
