// A group's state as it travels inside the pairwise ratchet (never to the server): the schema
// every member's browser checks a change against before the rules in protocol/group-state.ts.
import { z } from 'zod';
import { isNormalUsername } from './username.ts';

export const MAX_GROUP_MEMBERS = 100;
export const MAX_GROUP_NAME_CHARS = 100;

/** 128 random bits, base64url: a group's id and a change's id. */
export const groupId = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
const member = z.string().refine((s: string): boolean => isNormalUsername(s), 'not a username');

export const groupChange = z.object({
  group: groupId,
  /** This change's id; the smallest wins between two changes of the same version. */
  id: groupId,
  /** The change this one was made on; null only for the group's creation. */
  parent: groupId.nullable(),
  /**
   * Who made that change: a change is known by its id and its author together, so a member who
   * reuses another's id makes a change of their own, never a stand-in for the other's.
   */
  parentBy: member.nullable(),
  version: z.number().int().min(1).max(2 ** 31),
  /** Who made it: an admin of the parent, or a member leaving. */
  by: member,
  name: z.string().trim().min(1).max(MAX_GROUP_NAME_CHARS),
  /** Sorted, without repeats; the admins are among them. */
  members: z.array(member).max(MAX_GROUP_MEMBERS),
  admins: z.array(member).max(MAX_GROUP_MEMBERS),
  at: z.number().int().nonnegative(),
});
export type GroupChange = z.infer<typeof groupChange>;

/** The conversation a group's messages live in, on this side only: never sent anywhere. */
export const GROUP_CONVERSATION_PREFIX = 'g:';
export const groupConversation = (group: string): string => `${GROUP_CONVERSATION_PREFIX}${group}`;
export const groupOfConversation = (conversation: string): string | undefined => (conversation.startsWith(GROUP_CONVERSATION_PREFIX) ? conversation.slice(GROUP_CONVERSATION_PREFIX.length) : undefined);
