-- Dashboard sessions. Only the SHA-256 of the browser's token is kept, so a
-- copy of the database cannot be used to log in.
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_expires ON sessions (expires_at);
