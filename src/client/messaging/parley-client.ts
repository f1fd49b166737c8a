// The one object the UI talks to. It owns the account session, the signaling socket, the
// outbox and inbox, the conversations, the direct channels to contacts and the current call,
// and publishes one immutable state snapshot for the UI to render. The UI never touches keys,
// sockets or the protocol.
import { normalizeUsername, checkNewPassword, type Payload, type SessionResponse, type SignalData } from '../../wire/index.ts';
import type { LocalIdentity } from '../../protocol/identity.ts';
import { ApiClient, ApiError } from '../platform/api-client.ts';
import { createIdentity, loadDeviceId, loadIdentity, saveDeviceId, saveIdentity } from '../platform/key-vault.ts';
import { BrowserProtocolStore } from '../platform/protocol-stores.ts';
import { HistoryStore, type ConversationRecord, type MessageRecord, type MessageState } from '../platform/history-store.ts';
import { idbDelete, idbWipePrefix, prefixRange } from '../platform/idb.ts';
import { SignalingClient, type SignalingState } from '../transport/signaling-client.ts';
import { CallController } from '../calls/call-controller.ts';
import type { CallView } from '../calls/call-types.ts';
import { FILE_FRAME_TAG } from '../../protocol/file-chunks.ts';
import { isProtocolError } from '../../protocol/errors.ts';
import { fetchIce } from './ice-source.ts';
import { LinkManager, type LinkView } from './link-manager.ts';
import { newId } from './ids.ts';
import { Inbox } from './inbox.ts';
import { identityToWire, maintainKeys } from './key-maintenance.ts';
import { Outbox } from './outbox.ts';
import { CatchUp, type CatchUpProgress } from './catch-up.ts';
import { SessionManager, type ContactSecurity } from './session-manager.ts';
import { ContactBook, type ContactEntry } from './contact-book.ts';
import { FileTransfers, type FileChannel } from './file-transfers.ts';
import { addressOf, DeviceDirectory, parseAddress, type DeviceListEvent } from './device-directory.ts';
import { approveLink, HISTORY_DAYS, PendingLink, readLinkCode, suggestedName, transferMessage, unlinkDevice, type LinkOffer, type LinkTransfer } from './device-linking.ts';
import { decodeBase64url, encodeBase64url, type DeviceView } from '../../wire/index.ts';
import type { MessageRecord as StoredMessage } from '../platform/history-store.ts';
import type { FileInfo } from '../platform/history-store.ts';
import { GroupStore, type GroupEffect } from '../platform/group-store.ts';
import { GroupRuleError, GroupService, MAX_GROUP_MEMBERS } from './groups.ts';
import { groupInfoOf, type GroupInfo } from './group-views.ts';
import { groupConversation, groupOfConversation } from '../../wire/index.ts';
import { headOf } from '../../protocol/group-state.ts';

export type { SignalingState, ContactSecurity, CallView, LinkView, MessageState, ContactEntry, GroupInfo };
export { MAX_GROUP_MEMBERS };
export type { CallMedia } from '../../wire/index.ts';
export { formatDuration } from '../calls/call-log.ts';

export interface Notice {
  kind: 'error' | 'info';
  text: string;
}

export type FileView = FileInfo;

export interface MessageView {
  id: string;
  from: 'me' | 'peer' | 'system';
  text: string;
  at: number;
  state?: MessageState;
  file?: FileView;
  /** A call's line: voice or video, whether they called (incoming), and whether it was missed. */
  call?: { media: 'voice' | 'video'; incoming: boolean; missed: boolean };
  /** Groups: who wrote it (incoming). */
  sender?: string;
  /** Groups, own messages: the members it went to, and who confirmed or read it. */
  receipts?: { to: readonly string[]; delivered: readonly string[]; read: readonly string[] };
}

export interface ConversationSummary {
  peer: string;
  /** What the list calls it: the contact's username, or the group's name. */
  title: string;
  /** A group's members (this account aside), shown under its name. */
  members?: readonly string[];
  lastText: string;
  lastAt: number;
  lastFromMe: boolean;
  unread: number;
}

/**
 * How the user stands with the person in a conversation: a contact, blocked, someone who wrote
 * first and is not a contact yet (a message request), or someone the user wrote to first.
 */
export type Relation = 'contact' | 'blocked' | 'request' | 'stranger';

export interface ActiveConversation {
  peer: string;
  messages: readonly MessageView[];
  security: ContactSecurity | null;
  /** The direct channel to this contact (mutual contacts only), if one was set up. */
  link: LinkView | null;
  /** The call with this contact, if it is on or was the last one. */
  call: CallView | null;
  relation: Relation;
  /** Online now (mutual contacts only), else null. */
  online: boolean | null;
  /** The contact is writing right now. */
  typing: boolean;
  /** A group conversation (`peer` is then its local key, never a username). */
  group: GroupInfo | null;
}

export interface ParleyState {
  /** True until the first attempt to restore a session from the refresh cookie has finished. */
  booting: boolean;
  user: { id: string; username: string } | null;
  connection: SignalingState;
  conversations: readonly ConversationSummary[];
  active: ActiveConversation | null;
  /** The call on now (ringing, connecting or open), whoever it is with. */
  call: CallView | null;
  /** A call ringing for us, whichever conversation is on screen. */
  incoming: CallView | null;
  readReceipts: boolean;
  contacts: readonly ContactEntry[];
  /** 'default' until the user decides; 'unsupported' where the browser has no notifications. */
  notifications: NotificationPermission | 'unsupported';
  notice: Notice | null;
  busy: boolean;
  /**
   * Signed in on a browser that holds no keys for the account (issue #17): choose to link it to
   * another browser, or start with new keys; or waiting, with the link code shown.
   */
  setup: { kind: 'choose'; username: string } | { kind: 'linking'; username: string; code: string; expiresAt: number } | null;
  /** This account's linked browsers, and which one this is. */
  devices: readonly DeviceView[];
  thisDevice: string;
  /** A link code read in this browser, waiting for the person to confirm the new browser's name. */
  linkOffer: { name: string } | null;
  /** Messages that waited on the server, being stored after a reconnect (shown after a second). */
  catchUp: CatchUpProgress | null;
}

const INITIAL: ParleyState = {
  booting: true,
  user: null,
  connection: 'offline',
  conversations: [],
  active: null,
  call: null,
  incoming: null,
  readReceipts: true,
  contacts: [],
  notifications: typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
  notice: null,
  busy: false,
  setup: null,
  devices: [],
  thisDevice: '1',
  linkOffer: null,
  catchUp: null,
};

const TYPING_SEND_EVERY_MS = 4_000;
/** A conversation raises at most one notification in this time (they replace each other anyway, by tag). */
const NOTIFY_EVERY_MS = 1_000;
const TYPING_SHOWN_FOR_MS = 6_000;

const KEY_MAINTENANCE_INTERVAL_MS = 6 * 3_600_000;
const OUTBOX_RETRY_MS = 15_000;

function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return 'Something went wrong. Please try again.';
}

function toView(m: MessageRecord): MessageView {
  if (m.call) {
    const missed = m.direction === 'in' && (m.call.outcome === 'missed' || m.call.outcome === 'busy');
    return { id: m.id, from: 'system', text: m.text, at: m.at, call: { media: m.call.media, incoming: m.direction === 'in', missed } };
  }
  if (m.event) return { id: m.id, from: 'system', text: m.text, at: m.at };
  return {
    id: m.id,
    from: m.direction === 'out' ? 'me' : 'peer',
    text: m.text,
    at: m.at,
    state: m.state,
    ...(m.file ? { file: m.file } : {}),
    ...(m.from ? { sender: m.from } : {}),
    ...(m.group ? { receipts: m.group } : {}),
  };
}

function toSummary(c: ConversationRecord, groups: ReadonlyMap<string, { name: string; members: string[] }>): ConversationSummary {
  const group = groupOfConversation(c.peer);
  const g = group ? groups.get(group) : undefined;
  return {
    peer: c.peer,
    title: g ? g.name : c.peer,
    ...(g ? { members: g.members } : {}),
    lastText: c.lastText,
    lastAt: c.lastAt,
    lastFromMe: c.lastDirection === 'out' && !c.lastIsCall,
    unread: c.unread,
  };
}

interface Account {
  user: { id: string; username: string };
  contacts: ContactBook;
  files: FileTransfers;
  identity: LocalIdentity;
  device: string;
  store: BrowserProtocolStore;
  sessions: SessionManager;
  history: HistoryStore;
  outbox: Outbox;
  inbox: Inbox;
  groups: GroupService;
  signaling: SignalingClient;
  links: LinkManager;
  calls: CallController;
  catchUp: CatchUp;
  timers: Array<ReturnType<typeof setInterval>>;
}

export class ParleyClient {
  private current: ParleyState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private readonly api = new ApiClient();
  private account: Account | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Notes shown in a conversation for this page's lifetime (not stored). */
  private readonly notes = new Map<string, MessageView[]>();
  private readonly typingUntil = new Map<string, ReturnType<typeof setTimeout>>();
  /** Live progress of file transfers, ahead of what the store has checkpointed. */
  private readonly fileProgress = new Map<string, { bytes: number; status: FileInfo['status'] }>();
  private lastTypingSent = 0;
  private readonly changedPeers = new Set<string>();
  private refreshing: Promise<void> | undefined;
  /** When each conversation last raised a notification (a burst raises one). */
  private readonly notifiedAt = new Map<string, number>();
  /** Per group, the members typing now (each with the timer that clears them). */
  private readonly groupTyping = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();
  private groupInfoOpen = false;
  /** Signed in, no keys here: the session waits while the person chooses (issue #17). */
  private pendingSession: SessionResponse | undefined;
  private pendingLink: PendingLink | undefined;
  /** The session the account was entered with (its user; the token lives in the API client). */
  private session: SessionResponse | undefined;
  private linkPoll: ReturnType<typeof setTimeout> | undefined;
  private linkOfferFull: LinkOffer | undefined;

  constructor(private readonly origin: string = location.origin) {
    this.api.onSession = (s) => this.scheduleRefresh(s);
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible' && this.current.active) void this.markActiveRead();
      });
    }
    // Back online, perhaps on another network: channels and a live call look for a path again (ICE restart).
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => {
        this.account?.links.networkChanged();
        this.account?.calls.networkChanged();
      });
    }
  }

  get state(): ParleyState {
    return this.current;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ParleyState => this.current;

  private set(patch: Partial<ParleyState>): void {
    this.current = { ...this.current, ...patch };
    for (const l of this.listeners) l();
  }

  // ---- account

  async restore(): Promise<void> {
    try {
      await this.enter(await this.api.refresh());
    } catch {
      // No session: the sign-in screen.
    } finally {
      this.set({ booting: false });
    }
  }

  async signup(username: string, password: string): Promise<boolean> {
    const name = normalizeUsername(username);
    if (!name.ok) return this.fail(name.message);
    const pw = checkNewPassword(password);
    if (!pw.ok) return this.fail(pw.message);
    return this.withBusy(async () => {
      const identity = await createIdentity();
      const session = await this.api.signup(name.username, password, identityToWire(identity));
      await saveIdentity(session.user.id, identity);
      await this.enter(session, identity);
    });
  }

  async login(username: string, password: string): Promise<boolean> {
    if (!username.trim() || !password) return this.fail('Enter your username and password.');
    return this.withBusy(async () => {
      await this.enter(await this.api.login(username, password));
    });
  }

  /** Logs out; `wipe` also deletes this browser's history and keys for the account. */
  async logout(options: { wipe: boolean } = { wipe: false }): Promise<void> {
    clearTimeout(this.refreshTimer);
    this.cancelLinking();
    const account = this.account;
    if (account) this.teardown(account);
    await this.api.logout();
    if (account && options.wipe) await idbWipePrefix([account.user.id]);
    this.notes.clear();
    this.set({
      ...INITIAL,
      booting: false,
      notice: { kind: 'info', text: options.wipe ? 'You are logged out, and this browser no longer holds your messages or keys.' : 'You are logged out.' },
    });
  }

  async changePassword(currentPassword: string, newPassword: string): Promise<boolean> {
    const pw = checkNewPassword(newPassword);
    if (!pw.ok) return this.fail(pw.message);
    return this.withBusy(async () => {
      await this.api.changePassword(currentPassword, newPassword);
      this.set({ notice: { kind: 'info', text: 'Your password is changed. Parley is logged out everywhere else.' } });
    });
  }

  connect(): void {
    this.account?.signaling.connect();
  }

  /** A problem the UI found itself (a form's limit), shown like any other. */
  showError(text: string): void {
    this.fail(text);
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  async setReadReceipts(on: boolean): Promise<void> {
    this.set({ readReceipts: on });
    await this.account?.history.saveSetting('readReceipts', on);
  }

  // ---- conversations

  /** Opens the conversation with `peer` (from the list). */
  async openConversation(peer: string): Promise<void> {
    const a = this.account;
    if (!a) return;
    const group = groupOfConversation(peer);
    if (group) return this.openGroup(group);
    const messages = await this.messagesOf(peer);
    this.set({
      active: {
        peer,
        messages,
        security: await a.sessions.security(peer),
        link: a.links.view(peer),
        call: this.callWith(peer),
        relation: this.relationOf(peer, messages),
        online: a.contacts.online(peer),
        typing: this.typingUntil.has(peer),
        group: null,
      },
    });
    // A mutual contact who is online gets a direct channel in the background; nobody rings.
    a.links.want(peer);
    await this.markActiveRead();
  }

  /**
   * "Start chat": opens the conversation with `peerInput`, making sure their keys can be
   * reached first. Nothing rings; what is written waits in the server's queue until a direct
   * channel is up (mutual contacts) or the person comes online.
   */
  async startChat(peerInput: string): Promise<boolean> {
    const a = this.account;
    const name = normalizeUsername(peerInput);
    if (!name.ok) return this.fail(name.message);
    if (!a) return false;
    const peer = name.username;
    if (peer === a.user.username) return this.fail('You cannot start a chat with yourself.');
    this.set({ notice: null });
    try {
      await a.sessions.prepare(peer);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found') return this.fail(`There is no Parley account named ${peer}. Check the spelling.`);
      if (e instanceof ApiError && e.code === 'network') {
        // Offline: the conversation still opens; messages wait in the outbox.
      } else if (!(e instanceof ApiError)) {
        return this.fail(`Could not verify ${peer}'s keys, so nothing was sent.`);
      } else return this.fail(e.message);
    }
    await a.history.touch(peer, Date.now());
    await this.refreshConversations();
    await this.openConversation(peer);
    if (this.current.connection !== 'connected') this.note(peer, 'You are offline. Your messages will be sent when you reconnect.');
    return true;
  }

  // ---- groups

  /** Checks a username for "Add member": a real account, not this one. Returns it normalised, or null (with a notice). */
  async checkMember(input: string): Promise<string | null> {
    const a = this.account;
    const name = normalizeUsername(input);
    if (!name.ok) return this.fail(name.message) || null;
    if (!a) return null;
    if (name.username === a.user.username) return this.fail('You are in the group already.') || null;
    try {
      await a.sessions.prepare(name.username);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found') return this.fail(`There is no Parley account named ${name.username}. Check the spelling.`) || null;
      if (!(e instanceof ApiError && e.code === 'network')) return this.fail(messageOf(e)) || null;
    }
    this.set({ notice: null });
    return name.username;
  }

  /** "Create group": the group exists on this side at once; each member learns of it through its own pairwise session. */
  async createGroup(name: string, members: readonly string[]): Promise<boolean> {
    const a = this.account;
    const title = name.trim();
    if (!a) return false;
    if (!title) return this.fail('Give the group a name.');
    if (members.length === 0) return this.fail('Add at least one member.');
    if (members.length + 1 > MAX_GROUP_MEMBERS) return this.fail(`A group has at most ${MAX_GROUP_MEMBERS} members.`);
    const group = await this.groupAction(() => a.groups.create(title, members));
    if (!group) return false;
    await this.refreshConversations();
    await this.openConversation(groupConversation(group));
    return true;
  }

  renameGroup(name: string): Promise<boolean> {
    return this.onActiveGroup((a, g) => a.groups.rename(g, name));
  }

  async addToGroup(input: string): Promise<boolean> {
    const g = this.current.active?.group;
    if (!g) return false;
    if (g.members.length >= MAX_GROUP_MEMBERS) return this.fail(`A group has at most ${MAX_GROUP_MEMBERS} members.`);
    const name = await this.checkMember(input);
    if (!name) return false;
    if (g.members.some((m) => m.name === name)) return this.fail(`${name} is in the group already.`);
    return this.onActiveGroup((a, id) => a.groups.add(id, name));
  }

  removeFromGroup(member: string): Promise<boolean> {
    return this.onActiveGroup((a, g) => a.groups.remove(g, member));
  }

  makeGroupAdmin(member: string): Promise<boolean> {
    return this.onActiveGroup((a, g) => a.groups.makeAdmin(g, member));
  }

  leaveGroup(): Promise<boolean> {
    return this.onActiveGroup((a, g) => a.groups.leave(g));
  }

  acceptGroup(): Promise<boolean> {
    return this.onActiveGroup((a, g) => a.groups.accept(g));
  }

  /** A group from a stranger: leave it, and block whoever added this account. */
  async leaveGroupAndBlock(): Promise<boolean> {
    const by = this.current.active?.group?.request?.by;
    if (!(await this.leaveGroup())) return false;
    if (by) await this.blockContact(by);
    return true;
  }

  async setGroupInfoOpen(open: boolean): Promise<void> {
    this.groupInfoOpen = open;
    const peer = this.current.active?.peer;
    if (peer && this.current.active?.group) await this.refreshActive(peer);
  }

  private async onActiveGroup(job: (a: Account, group: string) => Promise<void>): Promise<boolean> {
    const a = this.account;
    const g = this.current.active?.group;
    if (!a || !g) return false;
    const ok = (await this.groupAction(async () => (await job(a, g.id), true))) === true;
    await this.afterHistoryChange(groupConversation(g.id));
    return ok;
  }

  private async groupAction<T>(job: () => Promise<T>): Promise<T | undefined> {
    try {
      this.set({ notice: null });
      return await job();
    } catch (e) {
      this.fail(e instanceof GroupRuleError ? e.message : messageOf(e));
      return undefined;
    }
  }

  private async openGroup(group: string): Promise<void> {
    const a = this.account;
    const peer = groupConversation(group);
    if (!a) return;
    if (this.current.active?.peer !== peer) this.groupInfoOpen = false;
    const info = await this.groupInfo(group);
    if (!info) return;
    const messages = await this.messagesOf(peer);
    this.set({ active: { peer, messages, security: null, link: null, call: null, relation: 'contact', online: null, typing: false, group: info } });
    // Direct channels to the members who are mutual contacts, for files (texts go through the queue).
    for (const m of info.members) if (!m.me) a.links.want(m.name);
    await this.markActiveRead();
  }

  private async groupInfo(group: string): Promise<GroupInfo | null> {
    const a = this.account;
    const rec = await a?.groups.get(group);
    if (!a || !rec) return null;
    return groupInfoOf(rec, a.user.username, {
      keyState: (m) => a.sessions.keyState(m),
      security: (m) => a.sessions.security(m),
      isContact: (m) => a.contacts.isAdded(m),
      typing: [...(this.groupTyping.get(group) ?? new Map<string, unknown>()).keys()],
      infoOpen: this.groupInfoOpen,
    });
  }

  /**
   * A file to a group: the same file and key to each member who is a mutual contact (files go
   * directly, browser to browser), each over its own channel, now or when it opens; the others
   * are named, since they will not get it.
   */
  private async sendFileToGroup(a: Account, group: GroupInfo, conversation: string, file: File): Promise<boolean> {
    if (!group.amMember) return this.fail('You are no longer in this group.');
    const others = group.members.filter((m) => !m.me && !m.keyChanged).map((m) => m.name);
    const direct = others.filter((m) => a.contacts.isAdded(m) && Boolean(a.contacts.find(m)?.mutual));
    if (direct.length === 0) return this.fail('Files go directly from browser to browser, between contacts who added each other: no member of this group is one of yours yet.');
    for (const m of direct) a.links.want(m);
    await a.files.sendToGroup(group.id, conversation, direct, file, (m) => this.fileChannel(m));
    const left = others.filter((m) => !direct.includes(m));
    if (left.length) this.note(conversation, `${left.join(', ')} will not get ${file.name || 'this file'}: files go directly between contacts who added each other.`);
    await this.afterHistoryChange(conversation);
    return true;
  }

  private async sendToGroup(group: string, text: string): Promise<boolean> {
    const a = this.account!;
    const info = this.current.active?.group;
    const changed = info?.members.filter((m) => m.keyChanged).map((m) => m.name) ?? [];
    this.typing(false);
    if ((await this.groupAction(() => a.groups.sendText(group, text))) === undefined) return false;
    // The others get it now; a member whose safety number changed gets it once it is accepted.
    if (changed.length) this.note(groupConversation(group), `Waiting for you to accept the new safety number of ${changed.join(', ')}: they get this message after that.`);
    await this.afterHistoryChange(groupConversation(group));
    return true;
  }

  private async onGroup(from: string, effect: GroupEffect): Promise<void> {
    const a = this.account;
    if (!a) return;
    const peer = groupConversation(effect.group);
    if (effect.typing) {
      const typing = this.groupTyping.get(effect.group) ?? new Map<string, ReturnType<typeof setTimeout>>();
      clearTimeout(typing.get(effect.typing.from));
      if (effect.typing.active) {
        const who = effect.typing.from;
        typing.set(who, setTimeout(() => {
          typing.delete(who);
          void this.refreshActive(peer);
        }, TYPING_SHOWN_FOR_MS));
      } else typing.delete(effect.typing.from);
      this.groupTyping.set(effect.group, typing);
      await this.refreshActive(peer);
      return;
    }
    if (effect.offer) {
      if (effect.offer.isNew) this.notify(peer, `${from}: 📎 ${effect.offer.message.text}`);
      const channel = this.fileChannel(from);
      if (channel) void a.files.offered(from, effect.offer.transfer, channel);
      await this.afterHistoryChange(peer);
      return;
    }
    const rec = await a.groups.get(effect.group);
    a.groups.afterReceive(from, effect, this.isReading(peer), Boolean(rec?.accepted || (rec?.invitedBy && a.contacts.isAdded(rec.invitedBy))));
    for (const m of effect.texts) {
      this.groupTyping.get(effect.group)?.delete(m.from ?? from);
      if (m.from && a.contacts.isBlocked(m.from)) continue;
      this.notify(peer, `${m.from ?? from}: ${m.text}`, rec ? headOf(rec.view).name : 'Group');
    }
    await this.afterHistoryChange(peer);
  }

  // ---- contacts

  async addContact(input: string): Promise<boolean> {
    const name = normalizeUsername(input);
    if (!name.ok) return this.fail(name.message);
    if (!this.account) return false;
    if (name.username === this.account.user.username) return this.fail('You cannot add yourself as a contact.');
    return this.withBusy(async () => {
      try {
        await this.account!.contacts.set(name.username, 'added');
      } catch (e) {
        if (e instanceof ApiError && e.code === 'not_found') throw new ApiError('not_found', `There is no Parley account named ${name.username}.`, 404);
        throw e;
      }
      this.set({ notice: { kind: 'info', text: `${name.username} is in your contacts. You see each other online once they add you too.` } });
    });
  }

  async blockContact(peer: string): Promise<void> {
    await this.account?.contacts.set(peer, 'blocked').catch((e: unknown) => this.fail(messageOf(e)));
    this.account?.calls.drop(peer);
    this.account?.links.close(peer);
  }

  async unblockContact(peer: string): Promise<void> {
    await this.account?.contacts.set(peer, 'added').catch((e: unknown) => this.fail(messageOf(e)));
  }

  async removeContact(peer: string): Promise<void> {
    await this.account?.contacts.remove(peer).catch((e: unknown) => this.fail(messageOf(e)));
    this.account?.links.close(peer);
  }

  /** The composer changed: tell the contact we are writing (throttled; only if they are online). */
  typing(active: boolean): void {
    const a = this.account;
    const peer = this.current.active?.peer;
    if (!a || !peer || this.current.active?.security?.keyChanged || a.contacts.isBlocked(peer)) return;
    const now = Date.now();
    if (active && now - this.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    if (!active && this.lastTypingSent === 0) return;
    this.lastTypingSent = active ? now : 0;
    const group = this.current.active?.group;
    if (group) {
      // Only to members known to be online now: a typing notice is never queued.
      const online = group.members.filter((m) => !m.me && !m.keyChanged && a.contacts.online(m.name) === true).map((m) => m.name);
      a.groups.typingTo(group.id, online, (m, p) => void a.sessions.seal(m, p).then((bytes) => a.signaling.sendTransient(m, bytes)).catch(() => undefined), active);
      return;
    }
    const direct = a.links.channel(peer);
    if (!direct && a.contacts.online(peer) !== true) return; // nobody there to see it: do not spend a ratchet step
    void a.sessions
      .seal(peer, { type: 'typing', active })
      .then((bytes) => (direct ? direct.send(bytes) : a.signaling.sendTransient(peer, bytes)))
      .catch(() => undefined);
  }

  async enableNotifications(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    this.set({ notifications: await Notification.requestPermission() });
  }

  private relationOf(peer: string, messages: readonly MessageView[]): Relation {
    const contacts = this.account?.contacts;
    if (contacts?.isBlocked(peer)) return 'blocked';
    if (contacts?.isAdded(peer)) return 'contact';
    return messages.some((m) => m.from === 'peer' || m.call?.incoming) ? 'request' : 'stranger';
  }

  closeConversation(): void {
    this.set({ active: null });
  }

  /** Sends a text in the open conversation; it is stored first, then delivered by whatever path exists. */
  async send(text: string): Promise<boolean> {
    const a = this.account;
    const peer = this.current.active?.peer;
    const trimmed = text.trim();
    if (!a || !peer || !trimmed) return false;
    const group = groupOfConversation(peer);
    if (group) return this.sendToGroup(group, trimmed);
    if (this.current.active?.security?.keyChanged) return this.fail(`Accept the new safety number with ${peer} first.`);
    if (a.contacts.isBlocked(peer)) return this.fail(`You blocked ${peer}. Unblock them to write.`);
    this.typing(false);
    await a.outbox.sendText(peer, trimmed);
    a.links.want(peer);
    await this.refreshActive(peer);
    await this.refreshConversations();
    return true;
  }

  /** Sends a file to the open conversation's contact, directly: it needs the direct channel. */
  async sendFile(file: File): Promise<boolean> {
    const a = this.account;
    const peer = this.current.active?.peer;
    if (!a || !peer) return false;
    if (a.device !== '1') return this.fail('Files go directly from browser to browser, and for now only from the first browser of an account (the one it was made in). Send it from there.');
    const group = this.current.active?.group;
    if (group) return this.sendFileToGroup(a, group, peer, file);
    const channel = this.fileChannel(peer);
    if (!channel) {
      a.links.want(peer);
      if (!a.contacts.find(peer)?.mutual) return this.fail(`Files go directly from browser to browser, between contacts: add ${peer}, and ask them to add you, to send one.`);
      return this.fail(`Files go directly from browser to browser: ${peer} must be online. Try again when the chat says "direct" or "relayed".`);
    }
    if (this.current.active?.security?.keyChanged) return this.fail(`Accept the new safety number with ${peer} first.`);
    const sent = await a.files.send(peer, file, channel);
    // The file is on its way; telling the other browsers is worth less than saying so here.
    await a.outbox.sendFileCopy(peer, { id: sent.id, name: file.name, size: file.size, sentAt: sent.at, seq: sent.seq }).catch(() => undefined);
    await this.afterHistoryChange(peer);
    return true;
  }

  async cancelTransfer(id: string): Promise<void> {
    const a = this.account;
    const peer = this.current.active?.peer;
    if (!a || !peer) return;
    await a.files.cancel(peer, id, this.fileChannel(peer));
  }

  /** A received file as an object URL for saving (disk-backed; nothing is loaded into memory). */
  async fileUrl(id: string): Promise<string | undefined> {
    const file = await this.account?.files.file(id);
    return file ? URL.createObjectURL(file) : undefined;
  }

  /** `member`: a group member's (the group's conversation is open); else the open conversation's contact. */
  async acceptNewSafetyNumber(member?: string): Promise<void> {
    const a = this.account;
    const peer = member ?? this.current.active?.peer;
    if (!a || !peer) return;
    try {
      await a.sessions.acceptNewKey(peer);
    } catch (e) {
      this.fail(messageOf(e));
    }
    await this.refreshSecurity(peer);
    if (!this.current.active?.security?.keyChanged) {
      await a.links.unblocked(peer);
      await a.calls.unblocked(peer);
      a.outbox.kick(peer);
      if (!(await a.sessions.keyState(peer)).keyChanged) await a.groups.resendTo(peer).catch(() => undefined);
      if (this.current.active?.group) await this.afterHistoryChange(this.current.active.peer);
    }
  }

  async setVerified(verified: boolean): Promise<void> {
    const a = this.account;
    const peer = this.current.active?.peer;
    if (!a || !peer) return;
    await a.sessions.setVerified(peer, verified);
    await this.refreshSecurity(peer);
  }

  // ---- calls

  /** Rings the open conversation's contact for a voice or video call. */
  async startCall(media: 'voice' | 'video'): Promise<void> {
    const a = this.account;
    const active = this.current.active;
    if (!a || !active) return;
    const peer = active.peer;
    if (a.calls.live) return void this.fail('End the current call first.');
    if (this.current.connection !== 'connected') return void this.fail('You are offline: calls need the server to ring the other person.');
    if (a.contacts.isBlocked(peer)) return void this.fail(`You blocked ${peer}. Unblock them to call.`);
    if (active.security?.keyChanged) return void this.fail(`Accept the new safety number with ${peer} first.`);
    this.set({ notice: null });
    try {
      await a.sessions.prepare(peer);
      await this.refreshSecurity(peer);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found') return void this.fail(`${peer} has no Parley keys, so they cannot be called.`);
      // Unreachable directory: an existing session can still carry the invitation.
    }
    if (this.current.active?.security?.keyChanged) return void this.fail(`Accept the new safety number with ${peer} first.`);
    await a.history.touch(peer, Date.now());
    await a.calls.start(peer, media);
  }

  async accept(): Promise<void> {
    const a = this.account;
    const call = a?.calls.view;
    if (!a || !call || call.phase !== 'incoming') return;
    const peer = call.peer;
    // The ring stops at once; the conversation opens while the call connects.
    const accepting = a.calls.accept();
    await a.history.touch(peer, Date.now());
    await this.refreshConversations();
    await this.openConversation(peer);
    await accepting;
  }

  decline(): void {
    this.account?.calls.decline();
  }

  hangup(): void {
    this.account?.calls.hangup();
  }

  toggleMute(): void {
    this.account?.calls.toggleMute();
  }

  async toggleCamera(): Promise<void> {
    await this.account?.calls.toggleCamera();
  }

  async toggleScreen(): Promise<void> {
    await this.account?.calls.toggleScreen();
  }

  // ---- internals

  private async enter(session: SessionResponse, fresh?: LocalIdentity): Promise<void> {
    const identity = fresh ?? (await loadIdentity(session.user.id));
    if (!identity) {
      // A browser with no keys for this account: link it to another browser, or start afresh.
      this.pendingSession = session;
      this.set({ setup: { kind: 'choose', username: session.user.username }, notice: null });
      return;
    }
    this.pendingSession = undefined;
    this.session = session;
    const user = session.user;
    const device = await loadDeviceId(user.id);
    this.api.device = device;
    const store = new BrowserProtocolStore(user.id, identity);
    // This account's own key is pinned like a contact's, so its list of browsers verifies too.
    if (device === '1' && !(await store.contact(user.username))) await store.pin(user.username, identity.signing.publicRaw);
    const directory = new DeviceDirectory(user.id, this.api, store, (peer, event) => this.onDeviceList(peer, event));
    store.lists = directory;
    const sessions = new SessionManager({ username: user.username, identity, device }, store, this.api, directory);
    const history = new HistoryStore(user.id);
    const groupStore = new GroupStore(user.id, user.username, history);

    const wsUrl = this.origin.replace(/^http/, 'ws') + '/ws';
    // Envelopes from the queue are stored in batches (a backlog of thousands in seconds), each
    // acknowledged once stored or reported: never lost, never shown twice.
    const catchUp = new CatchUp({
      receive: (batch) => inbox.receiveMany(batch.map((e) => ({ peer: e.from, envelope: e.body, device: e.device }))),
      ack: (qids) => signaling.ack(qids),
      progress: (p) => this.set({ catchUp: p }),
      now: () => Date.now(),
    });
    const signaling = new SignalingClient(
      wsUrl,
      () => this.api.token(),
      {
      state: (state, detail) => {
        this.set({ connection: state, ...(detail ? { notice: { kind: 'info' as const, text: detail } } : {}) });
        if (state === 'connected') {
          void this.account?.outbox.kickAll();
          const peer = this.current.active?.peer;
          if (peer) this.account?.links.want(peer);
        }
      },
      signal: (from, callId, data, fromDevice) => this.onSignal(from, callId, data, fromDevice),
      error: (code, message, callId) => {
        const a = this.account;
        if (callId && a?.calls.unreachable(callId)) return;
        if (callId && code === 'peer_unavailable') {
          // A direct channel's offer found nobody: the queue carries messages meanwhile.
          for (const peer of this.current.conversations.map((c) => c.peer)) a?.links.unreachable(peer, callId);
          return;
        }
        if (code !== 'rate_limited') this.set({ notice: { kind: 'error', text: message } });
      },
      envelope: (qid, from, body, _sentAt, fromDevice) => catchUp.push({ qid, from, device: fromDevice, body }),
      ready: (queued) => catchUp.begin(queued),
      presence: (user, online) => {
        this.account?.contacts.presence(user, online);
        // Gone from the server means gone (a closed tab, a lost network): the direct channel would
        // only linger until ICE gives up, so messages go through the server at once instead.
        if (!online) this.account?.links.close(user);
        else if (this.current.active?.peer === user) this.account?.links.want(user);
      },
      transient: (from, body, fromDevice) => {
        // Typing notices: decrypted like any envelope (nothing is stored for them).
        if (!this.account?.contacts.isBlocked(from)) void this.account?.inbox.receive(from, body, undefined, fromDevice).catch(() => undefined);
      },
      devices: (who) => {
        this.account?.sessions.directory.markStale(who);
        if (who === this.account?.user.username) void this.refreshDevices();
        else void this.account?.sessions.directory.refresh(who).catch(() => undefined);
      },
      unlinked: () => void this.unlinkedHere(),
      authFailed: () => {
        this.api.invalidate();
        this.api.refresh().catch((e: unknown) => {
          if (e instanceof ApiError && e.code === 'unauthorized') {
            void this.logout().then(() => this.fail('Your session ended (was your password changed?). Please log in again.'));
          }
        });
      },
      },
      device,
    );
    const outbox = new Outbox(
      history,
      sessions,
      {
        channel: (peer) => this.account?.links.channel(peer),
        enqueue: (peer, id, bytes, device) => signaling.enqueue(peer, id, bytes, device),
        enqueueMany: (items) => signaling.enqueueMany(items),
      },
      {
        changed: (peer) => void this.afterHistoryChange(peer),
        blocked: (peer, reason, detail) => {
          if (reason === 'identity_changed') void this.refreshSecurity(peer);
          else this.note(peer, detail);
        },
        handedOver: (entry) => {
          void this.account?.groups.handedOver(entry).then((changed) => {
            if (changed.length && changed[0]) void this.afterHistoryChange(changed[0].peer);
          });
        },
      },
      Date.now,
      user.username,
    );
    const inbox = new Inbox(
      history,
      sessions,
      outbox,
      {
        fileOffer: (peer, message, transfer, isNew) => {
          if (isNew) this.notify(peer, `📎 ${message.text}`);
          const channel = this.fileChannel(peer);
          if (channel) void this.account?.files.offered(peer, transfer, channel);
          void this.afterHistoryChange(peer);
        },
        message: (peer, message, isNew) => {
          if (isNew) this.notify(peer, message.text);
          this.clearTyping(peer);
          void this.afterHistoryChange(peer);
        },
        receipts: (peer) => void this.afterHistoryChange(peer),
        control: (peer, payload) => this.onControl(peer, payload),
        keyChanged: (peer) => void this.refreshSecurity(peer),
        undecryptable: (peer) => this.note(peer, `A message from ${peer} could not be decrypted and was dropped.`),
        unknownDevice: (peer) =>
          this.note(peer, `Warning: a message from a browser that is not in ${peer}'s signed list of browsers was refused. Someone may be trying to pose as ${peer}.`),
        own: (peer) => void this.afterHistoryChange(peer),
        group: (from, effect) => void this.onGroup(from, effect),
      },
      (peer) => this.current.active?.peer === peer && (typeof document === 'undefined' || document.visibilityState === 'visible'),
      () => this.current.readReceipts,
      user.username,
      groupStore,
    );
    const groups = new GroupService(groupStore, history, outbox, user.username, () => this.current.readReceipts);

    const maintain = () =>
      maintainKeys(this.api, store, identity).catch(() => {
        this.set({ notice: { kind: 'error', text: 'Your keys could not be published. Others may not be able to reach you; Parley will try again.' } });
      });
    const files = new FileTransfers(
      history,
      async (peer, payload, channel) => channel.send(await sessions.seal(peer, payload)),
      {
        changed: (peer, id, bytes, status) => {
          this.fileProgress.set(id, { bytes, status });
          // Progress of a file on screen moves its bar without reading the conversation again
          // (five times a second on each side, for the whole transfer).
          if ((status === 'sending' || status === 'receiving') && this.patchFileView(id, bytes, status)) return;
          void this.refreshActive(peer);
          // A group file's transfers run with each member; its message is in the group.
          const active = this.current.active;
          if (active?.group) void this.refreshActive(active.peer);
        },
      },
    );
    const contacts = new ContactBook(this.api, () => {
      this.set({ contacts: contacts.entries });
      void this.refreshRelation();
      const peer = this.current.active?.peer;
      if (peer) this.account?.links.want(peer);
    });
    const ice = () => fetchIce(this.api);
    // Channel-only payloads (a binding, a call's key) to someone this browser has no session
    // with yet (a contact's new browser, say) start one from the directory first.
    // `address`: a session's (a username is that person's browser 1).
    const sealFor = async (address: string, p: Payload): Promise<Uint8Array> => {
      try {
        return await sessions.seal(address, p);
      } catch (e) {
        if (!isProtocolError(e, 'no_session')) throw e;
        await sessions.prepare(parseAddress(address).peer);
        return sessions.seal(address, p);
      }
    };
    const signalTo = (address: string, callId: string, data: SignalData): boolean => {
      const { peer, device } = parseAddress(address);
      return signaling.send(device === '1' ? { type: 'signal', to: peer, callId, data } : { type: 'signal', to: peer, toDevice: device, callId, data });
    };
    const keyBlocked = (peer: string) => Boolean(this.current.active?.peer === peer && this.current.active.security?.keyChanged);
    const links = new LinkManager({
      me: () => user.username,
      // Direct channels run between browsers "1" for now (docs/devices.md); others use the queue.
      mutual: (peer) => device === '1' && Boolean(contacts.find(peer)?.mutual) && contacts.isAdded(peer),
      online: (peer) => contacts.online(peer) === true,
      ready: () => signaling.state === 'connected',
      // The open conversation's contact, or the open group's members (group files go directly).
      interested: (peer) => this.current.active?.peer === peer || Boolean(this.current.active?.group?.members.some((m) => m.name === peer)),
      ice,
      sendSignal: (peer, id, data) => signaling.send({ type: 'signal', to: peer, callId: id, data }),
      seal: sealFor,
      blocked: keyBlocked,
      message: (peer, bytes, via) => {
        if (bytes[0] === FILE_FRAME_TAG) void files.onChunk(peer, bytes, links.channel(peer));
        else void inbox.receive(peer, bytes, via).catch(() => undefined);
      },
      channel: (peer, open) => {
        if (open) {
          outbox.kick(peer);
          const channel = links.channel(peer);
          if (channel) void files.channelOpened(peer, channel);
        } else {
          void outbox.channelClosed(peer);
          void files.channelClosed(peer);
        }
      },
      changed: (peer) => this.refreshLink(peer),
    });
    const calls = new CallController({
      ice,
      sendSignal: signalTo,
      seal: sealFor,
      open: (address, bytes, via) => {
        const { peer, device } = parseAddress(address);
        return inbox.receive(peer, bytes, via, device);
      },
      browsers: async (peer) => (await sessions.targets(peer, false)).peer,
      keyChanged: async (peer) => (await sessions.security(peer)).keyChanged,
      blocked: keyBlocked,
      isContact: (peer) => contacts.isAdded(peer),
      isBlocked: (peer) => contacts.isBlocked(peer),
      mutual: (peer) => Boolean(contacts.find(peer)?.mutual) && contacts.isAdded(peer),
      log: async (peer, id, direction, at, log, text) => {
        await history.addCallLog(peer, id, direction, at, log, text, this.isReading(peer));
        await this.afterHistoryChange(peer);
      },
      notify: (peer, body) => this.notify(peer, body),
      notice: (kind, text) => this.set({ notice: { kind, text } }),
      changed: () => this.refreshCall(),
    });
    this.account = { user, identity, device, store, contacts, files, sessions, history, outbox, inbox, groups, signaling, links, calls, catchUp, timers: [] };
    await contacts.load().catch(() => undefined);
    this.set({ user, setup: null, thisDevice: device, notice: null, readReceipts: await history.setting('readReceipts', true) });
    await this.refreshConversations();
    // Keys must be in the directory before anyone can start a session with us.
    await maintain();
    this.account.timers.push(setInterval(() => void maintain(), KEY_MAINTENANCE_INTERVAL_MS));
    this.account.timers.push(setInterval(() => void outbox.kickAll(), OUTBOX_RETRY_MS));
    signaling.connect();
    void this.refreshDevices();
  }

  /** Stops everything live of the account in this page (calls, channels, timers, socket). */
  private teardown(account: Account): void {
    if (this.account === account) this.account = undefined;
    account.calls.endAll();
    account.links.closeAll();
    account.files.close();
    for (const t of account.timers) clearInterval(t);
    account.signaling.disconnect();
  }

  // ---- several browsers per account (issue #17)

  /**
   * "Start with new keys" on a browser that holds none: new keys, published as the account's
   * browser 1. Contacts see a new safety number, and any other linked browser is unlinked.
   */
  async startWithNewKeys(): Promise<boolean> {
    const session = this.pendingSession;
    if (!session) return false;
    return this.withBusy(async () => {
      const identity = await createIdentity();
      await saveIdentity(session.user.id, identity);
      await saveDeviceId(session.user.id, '1');
      await this.enter(session, identity);
    });
  }

  /** "Link to another browser": shows a link code and waits for a linked browser to answer it. */
  async linkToAnotherBrowser(): Promise<boolean> {
    const session = this.pendingSession;
    if (!session) return false;
    return this.withBusy(async () => {
      const pending = await PendingLink.start(this.api);
      this.pendingLink = pending;
      this.set({ setup: { kind: 'linking', username: session.user.username, code: pending.text, expiresAt: pending.expiresAt } });
      this.pollLink(session, pending);
    });
  }

  /** Back to the choice (or, with `signOut`, to the sign-in screen). */
  cancelLinking(): void {
    clearTimeout(this.linkPoll);
    this.linkPoll = undefined;
    this.pendingLink = undefined;
    if (this.pendingSession && this.current.setup?.kind === 'linking') this.set({ setup: { kind: 'choose', username: this.pendingSession.user.username } });
  }

  private pollLink(session: SessionResponse, pending: PendingLink): void {
    this.linkPoll = setTimeout(() => {
      if (this.pendingLink !== pending) return;
      if (Date.now() > pending.expiresAt) {
        this.cancelLinking();
        this.set({ notice: { kind: 'error', text: 'The link code expired. Make a new one.' } });
        return;
      }
      pending.poll(this.api, session.user.username).then(
        async (transfer) => {
          if (this.pendingLink !== pending) return;
          if (!transfer) return this.pollLink(session, pending);
          await this.completeLink(session, pending, transfer);
        },
        (e: unknown) => {
          if (this.pendingLink !== pending) return;
          if (e instanceof ApiError && e.code === 'network') return this.pollLink(session, pending);
          this.cancelLinking();
          this.set({ notice: { kind: 'error', text: isProtocolError(e) ? `Linking failed: ${e.message}.` : messageOf(e) } });
        },
      );
    }, 1000);
  }

  private async completeLink(session: SessionResponse, pending: PendingLink, transfer: LinkTransfer): Promise<void> {
    const userId = session.user.id;
    const store = new BrowserProtocolStore(userId, pending.identity);
    await store.pin(session.user.username, decodeBase64url(transfer.account)!);
    for (const c of transfer.contacts) {
      await store.pin(c.peer, decodeBase64url(c.pinnedKey)!);
      if (c.verified) await store.setVerified(c.peer, true);
    }
    const history = new HistoryStore(userId);
    await history.importLinked(
      transfer.conversations as ConversationRecord[],
      transfer.messages.map((m) => ({ ...m, state: m.direction === 'out' ? ('sent' as const) : undefined, read: m.direction === 'in' ? (m.read ?? true) : undefined }) as StoredMessage),
    );
    await history.saveSetting('readReceipts', transfer.settings.readReceipts);
    await saveIdentity(userId, pending.identity);
    await saveDeviceId(userId, pending.deviceId);
    this.pendingLink = undefined;
    await this.enter(session, pending.identity);
    this.set({ notice: { kind: 'info', text: 'This browser is linked. Your contacts see the same safety number as before.' } });
  }

  /** "Link a new browser" → "Link": reads the code and checks it; the person confirms the name next. */
  async readLinkCode(text: string): Promise<boolean> {
    if (!this.account) return false;
    return this.withBusy(async () => {
      try {
        const offer = await readLinkCode(this.api, text);
        this.linkOfferFull = offer;
        this.set({ linkOffer: { name: offer.name } });
      } catch (e) {
        if (isProtocolError(e, 'link_mismatch')) throw new ApiError('bad_request', 'This link code does not match the request the server holds: it may have been altered. Nothing was linked.', 400);
        if (isProtocolError(e)) throw new ApiError('bad_request', e.message, 400);
        throw e;
      }
    });
  }

  cancelLinkOffer(): void {
    this.linkOfferFull = undefined;
    this.set({ linkOffer: null });
  }

  /** Confirms the new browser: signs it into the list and sends it what it needs, end-to-end encrypted. */
  async confirmLink(name: string, withHistory: boolean): Promise<boolean> {
    const a = this.account;
    const offer = this.linkOfferFull;
    if (!a || !offer) return false;
    const label = name.trim() || offer.name;
    return this.withBusy(async () => {
      const account = (await a.store.contact(a.user.username))?.pinnedKey ?? a.identity.signing.publicRaw;
      const since = withHistory ? Date.now() - HISTORY_DAYS * 86_400_000 : Number.POSITIVE_INFINITY;
      const recent = await a.history.exportRecent(since);
      const peers = new Set([...recent.conversations.map((c) => c.peer), ...a.contacts.entries.map((c) => c.username)]);
      const contacts: LinkTransfer['contacts'] = [];
      for (const peer of peers) {
        const c = await a.store.contact(peer);
        if (c && !c.pendingKey) contacts.push({ peer, pinnedKey: encodeBase64url(c.pinnedKey), verified: c.verified });
      }
      const transfer: LinkTransfer = {
        v: 1,
        account: encodeBase64url(account),
        contacts,
        conversations: recent.conversations.map((c) => ({ peer: c.peer, lastAt: c.lastAt, lastText: c.lastText, lastDirection: c.lastDirection, unread: c.unread, nextSeq: c.nextSeq })),
        messages: recent.messages.map(transferMessage),
        settings: { readReceipts: this.current.readReceipts },
      };
      try {
        await approveLink(this.api, { username: a.user.username, device: a.device, identity: a.identity, account }, offer, label, transfer);
      } catch (e) {
        if (isProtocolError(e)) throw new ApiError('bad_request', `Linking failed: ${e.message}.`, 400);
        throw e;
      }
      this.linkOfferFull = undefined;
      this.set({ linkOffer: null, notice: { kind: 'info', text: `${label} is linked to your account.` } });
      a.sessions.directory.markStale(a.user.username);
      await this.refreshDevices();
    });
  }

  /**
   * "Reset identity", for a browser that may be in someone else's hands: new keys for the
   * account, this browser its only one (every other is unlinked and wipes itself). Contacts see a
   * new safety number, as they must. History stays; sessions start again from the new keys.
   */
  async resetIdentity(): Promise<boolean> {
    const a = this.account;
    const session = this.session;
    if (!a || !session) return false;
    const name = this.current.devices.find((d) => d.id === a.device)?.name || suggestedName();
    return this.withBusy(async () => {
      const identity = await createIdentity();
      await this.api.resetIdentity(identityToWire(identity), name);
      this.teardown(a);
      await idbDelete('sessions', prefixRange([a.user.id]));
      await idbDelete('meta', [a.user.id, `devices:${a.user.username}`]);
      await saveIdentity(a.user.id, identity);
      await saveDeviceId(a.user.id, '1');
      await new BrowserProtocolStore(a.user.id, identity).pin(a.user.username, identity.signing.publicRaw);
      await this.enter(session, identity);
      this.set({ notice: { kind: 'info', text: 'Your account has new keys, and this is its only browser. Your contacts will see a new safety number: compare it with them again.' } });
    });
  }

  /** "Unlink <name>": the next version of the list without it; the server drops its queue and tells it to wipe. */
  async unlinkBrowser(id: string): Promise<boolean> {
    const a = this.account;
    if (!a) return false;
    if (id === a.device) return this.fail('This is the browser you are using: log out and wipe it instead, or unlink it from another browser.');
    return this.withBusy(async () => {
      const account = (await a.store.contact(a.user.username))?.pinnedKey ?? a.identity.signing.publicRaw;
      try {
        await unlinkDevice(this.api, { username: a.user.username, device: a.device, identity: a.identity, account }, id);
      } catch (e) {
        if (isProtocolError(e)) throw new ApiError('bad_request', e.message, 400);
        throw e;
      }
      a.sessions.directory.markStale(a.user.username);
      await this.refreshDevices();
    });
  }

  private async refreshDevices(): Promise<void> {
    const a = this.account;
    if (!a) return;
    try {
      this.set({ devices: await this.api.devices() });
    } catch {
      // Offline: the list shows what it showed.
    }
  }

  /** The server says this browser was unlinked: its keys and history for the account go. */
  private async unlinkedHere(): Promise<void> {
    const a = this.account;
    if (!a) return;
    await this.logout({ wipe: true });
    this.set({ notice: { kind: 'info', text: 'This browser was unlinked from your account, and its keys and messages were deleted.' } });
  }

  private onDeviceList(peer: string, event: DeviceListEvent): void {
    const a = this.account;
    if (peer === a?.user.username) {
      void this.refreshDevices();
      return;
    }
    switch (event.kind) {
      case 'linked':
        this.line(peer, event.count === 1 ? `${peer} linked a new browser.` : `${peer} linked ${event.count} new browsers.`);
        return;
      case 'unlinked':
        this.line(peer, event.count === 1 ? `${peer} unlinked a browser.` : `${peer} unlinked ${event.count} browsers.`);
        return;
      case 'refused':
        this.note(peer, `Warning: the server sent a list of ${peer}'s browsers that does not verify (${event.reason === 'stale' ? 'an older list' : event.reason === 'fork' ? 'a list no browser of theirs signed' : 'a bad signature'}). Messages go only to the browsers already verified.`);
        return;
      case 'new-identity':
        void a?.store.markChanged(peer, event.account).then(() => this.refreshSecurity(peer));
    }
  }

  private fileChannel(peer: string): FileChannel | undefined {
    return this.account?.links.channel(peer);
  }

  private onControl(peer: string, payload: Payload): void {
    if (payload.type.startsWith('file-')) {
      void this.account?.files.onControl(peer, payload, this.fileChannel(peer));
      return;
    }
    if (payload.type === 'typing') {
      if (payload.active) this.showTyping(peer);
      else this.clearTyping(peer);
      return;
    }
    // A binding, a goodbye or a call's key means something only on its own connection, which
    // takes it first (Inbox `via`); the same payload from anywhere else is dropped here.
  }

  private showTyping(peer: string): void {
    clearTimeout(this.typingUntil.get(peer));
    this.typingUntil.set(peer, setTimeout(() => this.clearTyping(peer), TYPING_SHOWN_FOR_MS));
    const active = this.current.active;
    if (active?.peer === peer && !active.typing) this.set({ active: { ...active, typing: true } });
  }

  private clearTyping(peer: string): void {
    clearTimeout(this.typingUntil.get(peer));
    this.typingUntil.delete(peer);
    const active = this.current.active;
    if (active?.peer === peer && active.typing) this.set({ active: { ...active, typing: false } });
  }

  /** A desktop notification for a new message while the tab is hidden (if the user allowed them). */
  private notify(peer: string, text: string, title = peer): void {
    if (typeof document === 'undefined' || document.visibilityState === 'visible') return;
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    if (this.account?.contacts.isBlocked(peer)) return;
    const now = Date.now();
    if (now - (this.notifiedAt.get(peer) ?? -Infinity) < NOTIFY_EVERY_MS) return;
    this.notifiedAt.set(peer, now);
    const n = new Notification(title, { body: text.length > 140 ? `${text.slice(0, 140)}…` : text, tag: `parley-${peer}` });
    n.onclick = () => {
      window.focus();
      void this.openConversation(peer);
      n.close();
    };
  }

  private async refreshRelation(): Promise<void> {
    const active = this.current.active;
    const a = this.account;
    if (!active || !a) return;
    this.set({ active: { ...active, relation: this.relationOf(active.peer, active.messages), online: a.contacts.online(active.peer) } });
  }

  private isReading(peer: string): boolean {
    return this.current.active?.peer === peer && (typeof document === 'undefined' || document.visibilityState === 'visible');
  }

  private callWith(peer: string): CallView | null {
    const view = this.account?.calls.view;
    return view?.peer === peer ? view : null;
  }

  /** Publishes the current call: the ringing dialog, the call panel, and the conversation's view of it. */
  private refreshCall(): void {
    const view = this.account?.calls.view ?? null;
    const patch: Partial<ParleyState> = {
      call: view && view.phase !== 'ended' ? view : null,
      incoming: view?.phase === 'incoming' ? view : null,
    };
    const active = this.current.active;
    if (active && view?.peer === active.peer) patch.active = { ...active, call: view };
    this.set(patch);
  }

  private refreshLink(peer: string): void {
    const view = this.account?.links.view(peer) ?? null;
    if (view?.ended === 'intercepted') {
      this.set({
        notice: {
          kind: 'error',
          text: `The direct connection to ${peer} was closed: its two ends do not match, which means someone may be intercepting it. Messages go through the server, still end-to-end encrypted.`,
        },
      });
    }
    const active = this.current.active;
    if (active?.peer === peer) this.set({ active: { ...active, link: view } });
  }

  private onSignal(from: string, callId: string, data: SignalData, fromDevice = '1'): void {
    const a = this.account;
    if (!a) return;
    const address = addressOf(from, fromDevice);
    if (a.calls.handleSignal(from, callId, data, address)) return;
    if (data.kind === 'offer' && data.sealed) return a.calls.offer(from, callId, data.sdp, data.sealed, address);
    // Direct channels run between browsers 1 for now (docs/devices.md): another browser of a
    // contact reaches this one through the queue.
    if (fromDevice !== '1' || a.device !== '1') return;
    if (a.links.owns(from, callId)) return a.links.handleSignal(from, callId, data);
    if (data.kind === 'offer') a.links.offer(from, callId, data.sdp);
  }

  /** Moves the progress of file message `id` in the open conversation; false if it is not there. */
  private patchFileView(id: string, bytes: number, status: FileInfo['status']): boolean {
    const active = this.current.active;
    const at = active?.messages.findIndex((m) => m.id === id && m.file) ?? -1;
    if (!active || at < 0) return false;
    const messages = [...active.messages];
    const m = messages[at]!;
    messages[at] = { ...m, file: { ...m.file!, bytes, status } };
    this.set({ active: { ...active, messages } });
    return true;
  }

  private async messagesOf(peer: string): Promise<MessageView[]> {
    const stored = (await this.account!.history.messages(peer)).map((m) => {
      const v = toView(m);
      const live = this.fileProgress.get(m.id);
      return v.file && live ? { ...v, file: { ...v.file, bytes: live.bytes, status: live.status } } : v;
    });
    return mergeNotes(stored, this.notes.get(peer) ?? []);
  }

  /** A note that stays: kept in the conversation's history when there is one, else a note of this page. */
  private line(peer: string, text: string): void {
    const history = this.account?.history;
    if (!history) return;
    void history.addLine(peer, `line-${newId()}`, text, Date.now()).then(
      (stored) => (stored ? this.refreshActive(peer) : this.note(peer, text)),
      () => this.note(peer, text),
    );
  }

  private note(peer: string, text: string): void {
    const list = this.notes.get(peer) ?? [];
    list.push({ id: newId(), from: 'system', text, at: Date.now() });
    this.notes.set(peer, list);
    void this.refreshActive(peer);
  }

  /**
   * Refreshes what changed at once, and folds changes that come while a refresh runs into the
   * next: a catch-up's ten thousand messages make a refresh per batch, not one each.
   */
  private afterHistoryChange(peer: string): Promise<void> {
    this.changedPeers.add(peer);
    return (this.refreshing ??= this.refreshChanged());
  }

  private async refreshChanged(): Promise<void> {
    try {
      while (this.changedPeers.size) {
        const peers = [...this.changedPeers];
        this.changedPeers.clear();
        for (const peer of peers) await this.refreshActive(peer);
        await this.refreshConversations();
      }
    } finally {
      this.refreshing = undefined;
    }
  }

  private async refreshActive(peer: string): Promise<void> {
    const active = this.current.active;
    if (!this.account || active?.peer !== peer) return;
    const messages = await this.messagesOf(peer);
    const group = active.group ? await this.groupInfo(active.group.id) : null;
    const now = this.current.active;
    if (now?.peer === peer) this.set({ active: { ...now, messages, relation: group ? 'contact' : this.relationOf(peer, messages), group } });
  }

  private async refreshSecurity(peer: string): Promise<void> {
    const group = this.current.active?.group;
    if (group?.members.some((m) => m.name === peer)) return this.refreshActive(groupConversation(group.id));
    if (!this.account || this.current.active?.peer !== peer) return;
    const security = await this.account.sessions.security(peer);
    if (this.current.active?.peer === peer) this.set({ active: { ...this.current.active, security } });
  }

  private async refreshConversations(): Promise<void> {
    const a = this.account;
    if (!a) return;
    const names = new Map<string, { name: string; members: string[] }>();
    for (const g of await a.groups.all()) {
      const head = headOf(g.view);
      names.set(g.view.group, { name: head.name, members: head.members.filter((m) => m !== a.user.username) });
    }
    const list = (await a.history.conversations()).map((c) => toSummary(c, names));
    this.set({ conversations: list });
  }

  private async markActiveRead(): Promise<void> {
    const peer = this.current.active?.peer;
    if (!peer || !this.account || (typeof document !== 'undefined' && document.visibilityState !== 'visible')) return;
    const group = this.current.active?.group;
    if (group) await this.account.groups.markRead(group.id, !group.request);
    else await this.account.inbox.markRead(peer);
    await this.refreshConversations();
  }

  private scheduleRefresh(session: SessionResponse): void {
    clearTimeout(this.refreshTimer);
    this.account?.signaling.reauthenticate(session.accessToken);
    this.refreshIn(Math.max(5_000, session.expiresAt - Date.now() - 60_000));
  }

  private refreshIn(delay: number): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.api.refresh().catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'unauthorized') {
          void this.logout().then(() => this.fail('Your session ended. Please log in again.'));
        } else if (this.current.user) {
          // The server is unreachable; a chat already open goes on without it. Try again later.
          this.refreshIn(15_000);
        }
      });
    }, delay);
  }

  private fail(text: string): false {
    this.set({ notice: { kind: 'error', text } });
    return false;
  }

  private async withBusy(job: () => Promise<void>): Promise<boolean> {
    this.set({ busy: true, notice: null });
    try {
      await job();
      return true;
    } catch (e) {
      return this.fail(messageOf(e));
    } finally {
      this.set({ busy: false });
    }
  }
}

/** Stored messages in their order, with this page's notes placed by time among them. */
function mergeNotes(stored: MessageView[], notes: MessageView[]): MessageView[] {
  if (notes.length === 0) return stored;
  const out: MessageView[] = [];
  let n = 0;
  for (const m of stored) {
    while (n < notes.length && notes[n]!.at < m.at) out.push(notes[n++]!);
    out.push(m);
  }
  while (n < notes.length) out.push(notes[n++]!);
  return out;
}

