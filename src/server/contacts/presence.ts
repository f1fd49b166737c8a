// Presence (issue #8): who of your contacts is online, shared only between two users who added
// each other, and never with someone blocked. Announcements go through the bus, so they reach a
// contact on whichever process holds their socket.
import type { ServerFrame } from '../../wire/index.ts';
import type { Bus } from '../bus/types.ts';
import type { Store } from '../store/types.ts';

export class Presence {
  constructor(
    private readonly store: Store,
    /** User-level routing: every linked browser of an account (devices/device-router.ts). */
    private readonly bus: Pick<Bus, 'isOnline' | 'deliver'>,
  ) {}

  private frame(username: string, online: boolean): string {
    return JSON.stringify({ type: 'presence', user: username, online } satisfies ServerFrame);
  }

  /** Tells `user`'s mutual contacts that they came online or went offline. */
  async announce(user: { id: string; username: string }, online: boolean): Promise<void> {
    const text = this.frame(user.username, online);
    for (const id of await this.store.contacts.mutual(user.id)) await this.bus.deliver(id, text);
  }

  /** Who of `userId`'s mutual contacts is online now, as presence frames. */
  async snapshot(userId: string): Promise<ServerFrame[]> {
    const out: ServerFrame[] = [];
    for (const c of await this.store.contacts.list(userId)) {
      if (c.state === 'added' && c.mutual && (await this.bus.isOnline(c.contactId))) out.push({ type: 'presence', user: c.username, online: true });
    }
    return out;
  }

  isMutual(a: string, b: string): Promise<boolean> {
    return this.store.contacts.mutual(a).then((ids) => ids.includes(b));
  }

  /**
   * After a change between `a` and `b`: each sees the other online only while the pair is
   * mutual. Nothing is sent when they were not mutual before and are not now.
   */
  async relationChanged(a: { id: string; username: string }, b: { id: string; username: string }, wasMutual: boolean): Promise<void> {
    const mutual = await this.isMutual(a.id, b.id);
    if (!mutual && !wasMutual) return;
    const [aOnline, bOnline] = await Promise.all([this.bus.isOnline(a.id), this.bus.isOnline(b.id)]);
    await this.bus.deliver(a.id, this.frame(b.username, mutual && bOnline));
    await this.bus.deliver(b.id, this.frame(a.username, mutual && aOnline));
  }
}
