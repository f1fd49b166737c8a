// A password change must end every session, including access tokens still within their 15
// minutes: tokens issued before this time are refused.
export const migration004 = {
  version: 4,
  name: 'token cutoff',
  sql: `ALTER TABLE users ADD COLUMN tokens_valid_after INTEGER NOT NULL DEFAULT 0;`,
} as const;
