// Accounts, their public identity keys, and refresh-token hashes.
export const migration001 = {
  version: 1,
  name: 'initial',
  sql: `
    CREATE TABLE users (
      id            TEXT PRIMARY KEY,
      username      TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      created_at    INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE identity_keys (
      user_id           TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      signing_key       BLOB NOT NULL,
      dh_key            BLOB NOT NULL,
      dh_key_signature  BLOB NOT NULL,
      updated_at        INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE refresh_tokens (
      token_hash  TEXT PRIMARY KEY,
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      family_id   TEXT NOT NULL,
      expires_at  INTEGER NOT NULL,
      created_at  INTEGER NOT NULL,
      used_at     INTEGER
    ) STRICT;
    CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
    CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
    CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);
  `,
} as const;
