// Accounts, their public identity keys, and refresh-token hashes: SQLite's migration 1 in
// PostgreSQL's types. Times are milliseconds since the epoch, as in every Store record.
export const migration001 = {
  version: 1,
  name: 'initial',
  sql: `
    CREATE TABLE users (
      id            TEXT PRIMARY KEY,
      username      TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      created_at    BIGINT NOT NULL
    );

    CREATE TABLE identity_keys (
      user_id           TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      signing_key       BYTEA NOT NULL,
      dh_key            BYTEA NOT NULL,
      dh_key_signature  BYTEA NOT NULL,
      updated_at        BIGINT NOT NULL
    );

    CREATE TABLE refresh_tokens (
      token_hash  TEXT PRIMARY KEY,
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      family_id   TEXT NOT NULL,
      expires_at  BIGINT NOT NULL,
      created_at  BIGINT NOT NULL,
      used_at     BIGINT
    );
    CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
    CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
    CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);
  `,
} as const;
