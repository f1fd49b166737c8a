// Contacts over PostgreSQL: the same queries as SQLite's (store/sqlite/contacts.ts). Each call is
// one statement, so no transaction is needed; a relation is two rows, one per direction.
import type pg from 'pg';
import type { ContactRecord, ContactState, ContactStore } from '../types.ts';

export function postgresContacts(pool: pg.Pool): ContactStore {
  return {
    async list(ownerId) {
      const { rows } = await pool.query<{ contact_id: string; username: string; state: ContactState; mutual: boolean }>(
        `SELECT c.contact_id, u.username, c.state,
                EXISTS (SELECT 1 FROM contacts r WHERE r.owner_id = c.contact_id AND r.contact_id = c.owner_id AND r.state = 'added') AS mutual
         FROM contacts c JOIN users u ON u.id = c.contact_id WHERE c.owner_id = $1 ORDER BY u.username`,
        [ownerId],
      );
      return rows.map((r): ContactRecord => ({ contactId: r.contact_id, username: r.username, state: r.state, mutual: r.mutual }));
    },
    async set(ownerId, contactId, state, now) {
      await pool.query(
        `INSERT INTO contacts (owner_id, contact_id, state, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (owner_id, contact_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
        [ownerId, contactId, state, now],
      );
    },
    async remove(ownerId, contactId) {
      await pool.query('DELETE FROM contacts WHERE owner_id = $1 AND contact_id = $2', [ownerId, contactId]);
    },
    async blocks(ownerId, otherId) {
      const { rowCount } = await pool.query("SELECT 1 FROM contacts WHERE owner_id = $1 AND contact_id = $2 AND state = 'blocked'", [ownerId, otherId]);
      return (rowCount ?? 0) > 0;
    },
    async blockedBy(ownerId) {
      const { rows } = await pool.query<{ contact_id: string }>("SELECT contact_id FROM contacts WHERE owner_id = $1 AND state = 'blocked'", [ownerId]);
      return rows.map((r) => r.contact_id);
    },
    async mutual(userId) {
      const { rows } = await pool.query<{ contact_id: string }>(
        `SELECT a.contact_id FROM contacts a JOIN contacts b ON b.owner_id = a.contact_id AND b.contact_id = a.owner_id
         WHERE a.owner_id = $1 AND a.state = 'added' AND b.state = 'added'`,
        [userId],
      );
      return rows.map((r) => r.contact_id);
    },
  };
}
