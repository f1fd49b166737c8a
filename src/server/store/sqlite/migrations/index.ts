// Every SQLite migration in order. Append only: a released migration is never edited, since
// databases in the field have already run it.
import { migration001 } from './001-initial.ts';
import { migration002 } from './002-prekeys.ts';
import { migration003 } from './003-queue.ts';
import { migration004 } from './004-token-cutoff.ts';
import { migration005 } from './005-contacts.ts';
import { migration006 } from './006-devices.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const sqliteMigrations: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006];
