// The key directory: each user's current signed prekey and ML-KEM prekey, and their unused
// one-time prekeys (public halves and signatures only). Prekey ids go up to 2^32 - 2 (wire/),
// past INTEGER, hence BIGINT.
export const migration002 = {
  version: 2,
  name: 'prekeys',
  sql: `
    CREATE TABLE signed_prekeys (
      user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      spk_id         BIGINT NOT NULL,
      spk_public     BYTEA NOT NULL,
      spk_signature  BYTEA NOT NULL,
      pqk_id         BIGINT NOT NULL,
      pqk_public     BYTEA NOT NULL,
      pqk_signature  BYTEA NOT NULL,
      updated_at     BIGINT NOT NULL
    );

    CREATE TABLE one_time_prekeys (
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      key_id      BIGINT NOT NULL,
      public_key  BYTEA NOT NULL,
      PRIMARY KEY (user_id, key_id)
    );
  `,
} as const;
