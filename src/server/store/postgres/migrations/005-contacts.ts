// Contacts: whom each user added or blocked. Same as SQLite's 005.
export const migration005 = {
  version: 5,
  name: 'contacts',
  sql: `
    CREATE TABLE contacts (
      owner_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      contact_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      state       TEXT NOT NULL CHECK (state IN ('added', 'blocked')),
      updated_at  BIGINT NOT NULL,
      PRIMARY KEY (owner_id, contact_id)
    );
    CREATE INDEX contacts_contact ON contacts(contact_id);
  `,
} as const;
