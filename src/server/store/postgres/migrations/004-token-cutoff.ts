// A password change must end every session, including access tokens still within their 15
// minutes: tokens issued before this time (unix seconds) are refused. Same as SQLite's 004.
export const migration004 = {
  version: 4,
  name: 'token cutoff',
  sql: `ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT NOT NULL DEFAULT 0;`,
} as const;
