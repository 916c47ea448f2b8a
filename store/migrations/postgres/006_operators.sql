-- Operator accounts, their second factor and recovery codes, and API
-- tokens (SPEC §7.5). Passwords are bcrypt hashes; TOTP secrets are
-- sealed like customer secrets; recovery codes and tokens are kept only
-- as SHA-256 hashes. Times are unix ms.
CREATE TABLE operators (
	name           TEXT PRIMARY KEY,
	password_hash  TEXT NOT NULL,
	role           TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
	builtin        BIGINT NOT NULL DEFAULT 0,
	totp_secret    TEXT NOT NULL DEFAULT '',
	totp_last_step BIGINT NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL
);

CREATE TABLE operator_recovery_codes (
	operator  TEXT NOT NULL REFERENCES operators (name) ON DELETE CASCADE,
	code_hash TEXT NOT NULL,
	used_at   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (operator, code_hash)
);

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	scopes       TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL DEFAULT 0,
	last_used_at BIGINT NOT NULL DEFAULT 0
);

-- Sessions name their operator and remember their latest request. Sessions
-- from before accounts existed name none and are no longer valid: their
-- holder logs in again.
ALTER TABLE sessions ADD COLUMN operator TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_operator ON sessions (operator);
