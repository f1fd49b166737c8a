// The offline queue: ciphertext envelopes waiting for their recipient, oldest first. A sender's
// retry of the same envelope id is stored once. Per-recipient usage is kept by triggers in the
// same transaction as every insert and delete, so limits are checked in O(1).
export const migration003 = {
  version: 3,
  name: 'offline queue',
  sql: `
    CREATE TABLE queue (
      qid           INTEGER PRIMARY KEY AUTOINCREMENT,
      recipient_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      sender_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      sender_name   TEXT NOT NULL,
      client_id     TEXT NOT NULL,
      body          BLOB NOT NULL,
      created_at    INTEGER NOT NULL,
      UNIQUE (recipient_id, sender_id, client_id)
    ) STRICT;
    CREATE INDEX queue_recipient ON queue(recipient_id, qid);
    CREATE INDEX queue_created ON queue(created_at);

    CREATE TABLE queue_usage (
      recipient_id  TEXT PRIMARY KEY,
      count         INTEGER NOT NULL,
      bytes         INTEGER NOT NULL
    ) STRICT;

    CREATE TRIGGER queue_usage_insert AFTER INSERT ON queue BEGIN
      INSERT INTO queue_usage (recipient_id, count, bytes) VALUES (NEW.recipient_id, 1, length(NEW.body))
        ON CONFLICT(recipient_id) DO UPDATE SET count = count + 1, bytes = bytes + length(NEW.body);
    END;
    CREATE TRIGGER queue_usage_delete AFTER DELETE ON queue BEGIN
      UPDATE queue_usage SET count = count - 1, bytes = bytes - length(OLD.body) WHERE recipient_id = OLD.recipient_id;
    END;
  `,
} as const;
