// The offline queue: ciphertext envelopes waiting for their recipient, oldest first. A sender's
// retry of the same envelope id is stored once. Per-recipient usage is kept by triggers in the
// same transaction as every insert and delete (as in SQLite), so limits are checked in O(1).
// The usage row is also the recipient's lock: enqueue and ack take it before touching the queue,
// which makes qids of one recipient commit in increasing order (see ../queue.ts).
// The trigger functions pin the search_path they were created with, so they find their tables
// whatever the calling session's search_path is.
export const migration003 = {
  version: 3,
  name: 'offline queue',
  sql: `
    CREATE TABLE queue (
      qid           BIGSERIAL PRIMARY KEY,
      recipient_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      sender_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      sender_name   TEXT NOT NULL,
      client_id     TEXT NOT NULL,
      body          BYTEA NOT NULL,
      created_at    BIGINT NOT NULL,
      UNIQUE (recipient_id, sender_id, client_id)
    );
    CREATE INDEX queue_recipient ON queue(recipient_id, qid);
    CREATE INDEX queue_created ON queue(created_at);

    CREATE TABLE queue_usage (
      recipient_id  TEXT PRIMARY KEY,
      count         BIGINT NOT NULL,
      bytes         BIGINT NOT NULL
    );

    CREATE FUNCTION queue_usage_insert() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      INSERT INTO queue_usage (recipient_id, count, bytes) VALUES (NEW.recipient_id, 1, octet_length(NEW.body))
        ON CONFLICT (recipient_id) DO UPDATE SET count = queue_usage.count + 1, bytes = queue_usage.bytes + octet_length(NEW.body);
      RETURN NULL;
    END $$;
    CREATE FUNCTION queue_usage_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      UPDATE queue_usage SET count = count - 1, bytes = bytes - octet_length(OLD.body) WHERE recipient_id = OLD.recipient_id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER queue_usage_insert AFTER INSERT ON queue FOR EACH ROW EXECUTE FUNCTION queue_usage_insert();
    CREATE TRIGGER queue_usage_delete AFTER DELETE ON queue FOR EACH ROW EXECUTE FUNCTION queue_usage_delete();
  `,
} as const;
