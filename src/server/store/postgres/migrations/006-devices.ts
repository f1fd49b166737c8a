// Several browsers per account (issue #17), as in SQLite's migration 006: each browser ("device")
// has its own identity, prekeys and offline queue; every v1 key and envelope becomes device "1"'s.
// Queue usage is kept per device under the key `user` (device "1") or `user:device`.
export const migration006 = {
  version: 6,
  name: 'devices',
  sql: `
    ALTER TABLE identity_keys ADD COLUMN device_id TEXT NOT NULL DEFAULT '1';
    ALTER TABLE identity_keys DROP CONSTRAINT identity_keys_pkey;
    ALTER TABLE identity_keys ADD PRIMARY KEY (user_id, device_id);

    ALTER TABLE signed_prekeys ADD COLUMN device_id TEXT NOT NULL DEFAULT '1';
    ALTER TABLE signed_prekeys DROP CONSTRAINT signed_prekeys_pkey;
    ALTER TABLE signed_prekeys ADD PRIMARY KEY (user_id, device_id);

    ALTER TABLE one_time_prekeys ADD COLUMN device_id TEXT NOT NULL DEFAULT '1';
    ALTER TABLE one_time_prekeys DROP CONSTRAINT one_time_prekeys_pkey;
    ALTER TABLE one_time_prekeys ADD PRIMARY KEY (user_id, device_id, key_id);

    ALTER TABLE queue ADD COLUMN recipient_device TEXT NOT NULL DEFAULT '1';
    ALTER TABLE queue ADD COLUMN sender_device TEXT NOT NULL DEFAULT '1';
    CREATE INDEX queue_recipient_device ON queue(recipient_id, recipient_device, qid);
    CREATE OR REPLACE FUNCTION queue_usage_insert() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      INSERT INTO queue_usage (recipient_id, count, bytes)
        VALUES (NEW.recipient_id || CASE NEW.recipient_device WHEN '1' THEN '' ELSE ':' || NEW.recipient_device END, 1, octet_length(NEW.body))
        ON CONFLICT (recipient_id) DO UPDATE SET count = queue_usage.count + 1, bytes = queue_usage.bytes + octet_length(NEW.body);
      RETURN NULL;
    END $$;
    CREATE OR REPLACE FUNCTION queue_usage_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      UPDATE queue_usage SET count = count - 1, bytes = bytes - octet_length(OLD.body)
        WHERE recipient_id = OLD.recipient_id || CASE OLD.recipient_device WHEN '1' THEN '' ELSE ':' || OLD.recipient_device END;
      RETURN NULL;
    END $$;

    CREATE TABLE devices (
      user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      device_id     TEXT NOT NULL,
      name          TEXT NOT NULL,
      created_at    BIGINT NOT NULL,
      last_seen_at  BIGINT NOT NULL,
      unlinked_at   BIGINT,
      PRIMARY KEY (user_id, device_id)
    );
    INSERT INTO devices (user_id, device_id, name, created_at, last_seen_at) SELECT id, '1', '', created_at, created_at FROM users;

    CREATE TABLE device_lists (
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      version     BIGINT NOT NULL,
      body        BYTEA NOT NULL,
      signature   BYTEA NOT NULL,
      created_at  BIGINT NOT NULL,
      PRIMARY KEY (user_id, version)
    );

    CREATE TABLE link_requests (
      id          TEXT PRIMARY KEY,
      user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      request     BYTEA NOT NULL,
      answer      BYTEA,
      created_at  BIGINT NOT NULL,
      expires_at  BIGINT NOT NULL,
      used_at     BIGINT
    );
    CREATE INDEX link_requests_user ON link_requests(user_id);
  `,
} as const;
