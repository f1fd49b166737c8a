// What the UI shows of a group: its name, its members with their key state, and what this
// account may do in it. Built from the member's view (protocol/group-state.ts); safety numbers
// only while the "Group info" panel is open, since each costs a few hundred milliseconds once.
import { headOf } from '../../protocol/group-state.ts';
import type { GroupRecord } from '../platform/group-store.ts';
import type { ContactSecurity } from './session-manager.ts';

export interface GroupMemberView {
  name: string;
  admin: boolean;
  me: boolean;
  /** The member's identity changed and the person has not accepted it: nothing goes to them meanwhile. */
  keyChanged: boolean;
  verified: boolean;
  /** Filled while the "Group info" panel is open. */
  security: ContactSecurity | null;
}

export interface GroupInfo {
  id: string;
  name: string;
  members: readonly GroupMemberView[];
  amAdmin: boolean;
  /** False once this account left or was removed: the conversation stays, read-only. */
  amMember: boolean;
  /** Added by someone who is not a contact, and not accepted yet. */
  request: { by: string } | null;
  /** Members writing right now. */
  typing: readonly string[];
  /** The "Group info" panel is open. */
  infoOpen: boolean;
}

export async function groupInfoOf(
  rec: GroupRecord,
  me: string,
  deps: {
    keyState(peer: string): Promise<{ keyChanged: boolean; verified: boolean }>;
    security(peer: string): Promise<ContactSecurity>;
    isContact(peer: string): boolean;
    typing: readonly string[];
    infoOpen: boolean;
  },
): Promise<GroupInfo> {
  const head = headOf(rec.view);
  const members: GroupMemberView[] = [];
  for (const name of head.members) {
    const self = name === me;
    const keys = self ? { keyChanged: false, verified: false } : await deps.keyState(name);
    members.push({ name, admin: head.admins.includes(name), me: self, ...keys, security: !self && deps.infoOpen ? await deps.security(name) : null });
  }
  const invitedBy = rec.invitedBy;
  return {
    id: head.group,
    name: head.name,
    members,
    amAdmin: head.admins.includes(me),
    amMember: head.members.includes(me),
    request: !rec.accepted && invitedBy && !deps.isContact(invitedBy) ? { by: invitedBy } : null,
    typing: deps.typing.filter((t) => head.members.includes(t)),
    infoOpen: deps.infoOpen,
  };
}
