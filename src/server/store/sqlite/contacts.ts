// Contacts over SQLite.
import type Database from 'better-sqlite3';
import type { ContactRecord, ContactState, ContactStore } from '../types.ts';

export function sqliteContacts(db: Database.Database): ContactStore {
  const q = {
    list: db.prepare<[string], { contact_id: string; username: string; state: ContactState; mutual: number }>(
      `SELECT c.contact_id, u.username, c.state,
              EXISTS (SELECT 1 FROM contacts r WHERE r.owner_id = c.contact_id AND r.contact_id = c.owner_id AND r.state = 'added') AS mutual
       FROM contacts c JOIN users u ON u.id = c.contact_id WHERE c.owner_id = ? ORDER BY u.username`,
    ),
    set: db.prepare(
      `INSERT INTO contacts (owner_id, contact_id, state, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(owner_id, contact_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    ),
    remove: db.prepare('DELETE FROM contacts WHERE owner_id = ? AND contact_id = ?'),
    blocks: db.prepare<[string, string], { n: number }>("SELECT COUNT(*) AS n FROM contacts WHERE owner_id = ? AND contact_id = ? AND state = 'blocked'"),
    blockedBy: db.prepare<[string], { contact_id: string }>("SELECT contact_id FROM contacts WHERE owner_id = ? AND state = 'blocked'"),
    mutual: db.prepare<[string], { contact_id: string }>(
      `SELECT a.contact_id FROM contacts a JOIN contacts b ON b.owner_id = a.contact_id AND b.contact_id = a.owner_id
       WHERE a.owner_id = ? AND a.state = 'added' AND b.state = 'added'`,
    ),
  };
  return {
    async list(ownerId) {
      return q.list.all(ownerId).map((r): ContactRecord => ({ contactId: r.contact_id, username: r.username, state: r.state, mutual: r.mutual === 1 }));
    },
    async set(ownerId, contactId, state, now) {
      q.set.run(ownerId, contactId, state, now);
    },
    async remove(ownerId, contactId) {
      q.remove.run(ownerId, contactId);
    },
    async blocks(ownerId, otherId) {
      return q.blocks.get(ownerId, otherId)!.n > 0;
    },
    async blockedBy(ownerId) {
      return q.blockedBy.all(ownerId).map((r) => r.contact_id);
    },
    async mutual(userId) {
      return q.mutual.all(userId).map((r) => r.contact_id);
    },
  };
}
