// The key directory: each user's current signed prekey and ML-KEM prekey, and their unused
// one-time prekeys (public halves and signatures only).
export const migration002 = {
  version: 2,
  name: 'prekeys',
  sql: `
    CREATE TABLE signed_prekeys (
      user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      spk_id         INTEGER NOT NULL,
      spk_public     BLOB NOT NULL,
      spk_signature  BLOB NOT NULL,
      pqk_id         INTEGER NOT NULL,
      pqk_public     BLOB NOT NULL,
      pqk_signature  BLOB NOT NULL,
      updated_at     INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE one_time_prekeys (
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      key_id      INTEGER NOT NULL,
      public_key  BLOB NOT NULL,
      PRIMARY KEY (user_id, key_id)
    ) STRICT;
  `,
} as const;
