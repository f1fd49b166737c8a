// Several browsers per account (issue #17): each browser ("device") has its own identity, prekeys
// and offline queue, and the account publishes a signed list of them. Every v1 key and envelope
// becomes device "1"'s, which is what a v1 account's contacts already hold: nothing changes for
// them. SQLite cannot change a primary key in place, so the key tables are rebuilt and copied.
// Queue usage is kept per device under the key `user` (device "1") or `user:device`, so the v1
// rows stay valid as they are.
export const migration006 = {
  version: 6,
  name: 'devices',
  sql: `
    CREATE TABLE identity_keys_v6 (
      user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      device_id         TEXT NOT NULL,
      signing_key       BLOB NOT NULL,
      dh_key            BLOB NOT NULL,
      dh_key_signature  BLOB NOT NULL,
      updated_at        INTEGER NOT NULL,
      PRIMARY KEY (user_id, device_id)
    ) STRICT;
    INSERT INTO identity_keys_v6 SELECT user_id, '1', signing_key, dh_key, dh_key_signature, updated_at FROM identity_keys;
    DROP TABLE identity_keys;
    ALTER TABLE identity_keys_v6 RENAME TO identity_keys;

    CREATE TABLE signed_prekeys_v6 (
      user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      device_id      TEXT NOT NULL,
      spk_id         INTEGER NOT NULL,
      spk_public     BLOB NOT NULL,
      spk_signature  BLOB NOT NULL,
      pqk_id         INTEGER NOT NULL,
      pqk_public     BLOB NOT NULL,
      pqk_signature  BLOB NOT NULL,
      updated_at     INTEGER NOT NULL,
      PRIMARY KEY (user_id, device_id)
    ) STRICT;
    INSERT INTO signed_prekeys_v6 SELECT user_id, '1', spk_id, spk_public, spk_signature, pqk_id, pqk_public, pqk_signature, updated_at FROM signed_prekeys;
    DROP TABLE signed_prekeys;
    ALTER TABLE signed_prekeys_v6 RENAME TO signed_prekeys;

    CREATE TABLE one_time_prekeys_v6 (
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      device_id   TEXT NOT NULL,
      key_id      INTEGER NOT NULL,
      public_key  BLOB NOT NULL,
      PRIMARY KEY (user_id, device_id, key_id)
    ) STRICT;
    INSERT INTO one_time_prekeys_v6 SELECT user_id, '1', key_id, public_key FROM one_time_prekeys;
    DROP TABLE one_time_prekeys;
    ALTER TABLE one_time_prekeys_v6 RENAME TO one_time_prekeys;

    ALTER TABLE queue ADD COLUMN recipient_device TEXT NOT NULL DEFAULT '1';
    ALTER TABLE queue ADD COLUMN sender_device TEXT NOT NULL DEFAULT '1';
    CREATE INDEX queue_recipient_device ON queue(recipient_id, recipient_device, qid);
    DROP TRIGGER queue_usage_insert;
    DROP TRIGGER queue_usage_delete;
    CREATE TRIGGER queue_usage_insert AFTER INSERT ON queue BEGIN
      INSERT INTO queue_usage (recipient_id, count, bytes)
        VALUES (NEW.recipient_id || CASE NEW.recipient_device WHEN '1' THEN '' ELSE ':' || NEW.recipient_device END, 1, length(NEW.body))
        ON CONFLICT(recipient_id) DO UPDATE SET count = count + 1, bytes = bytes + length(NEW.body);
    END;
    CREATE TRIGGER queue_usage_delete AFTER DELETE ON queue BEGIN
      UPDATE queue_usage SET count = count - 1, bytes = bytes - length(OLD.body)
        WHERE recipient_id = OLD.recipient_id || CASE OLD.recipient_device WHEN '1' THEN '' ELSE ':' || OLD.recipient_device END;
    END;

    -- The browsers of each account. A v1 account's one browser is device "1"; its name is
    -- filled in by that browser when it next connects.
    CREATE TABLE devices (
      user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      device_id     TEXT NOT NULL,
      name          TEXT NOT NULL,
      created_at    INTEGER NOT NULL,
      last_seen_at  INTEGER NOT NULL,
      unlinked_at   INTEGER,
      PRIMARY KEY (user_id, device_id)
    ) STRICT;
    INSERT INTO devices (user_id, device_id, name, created_at, last_seen_at) SELECT id, '1', '', created_at, created_at FROM users;

    -- Every signed version of each account's device list, append only.
    CREATE TABLE device_lists (
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      version     INTEGER NOT NULL,
      body        BLOB NOT NULL,
      signature   BLOB NOT NULL,
      created_at  INTEGER NOT NULL,
      PRIMARY KEY (user_id, version)
    ) STRICT;

    -- Link requests of browsers waiting to be linked: public keys and a tag only; the secret of
    -- the link code never reaches the server. Used once, expired after ten minutes.
    CREATE TABLE link_requests (
      id          TEXT PRIMARY KEY,
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      request     BLOB NOT NULL,
      answer      BLOB,
      created_at  INTEGER NOT NULL,
      expires_at  INTEGER NOT NULL,
      used_at     INTEGER
    ) STRICT;
    CREATE INDEX link_requests_user ON link_requests(user_id);
  `,
} as const;
