// Accepting envelopes for the offline queue (DESIGN.md "Transport"): from an authenticated
// sender only (the sender is the token's user, never a field of the frame), to an existing
// user, within the recipient's limits, once per sender-chosen id. The server cannot read them.
import { WireError, normalizeUsername } from '../../wire/index.ts';
import type { Bus } from '../bus/types.ts';
import { deviceAddress } from '../devices/device-router.ts';
import type { BlockCache } from '../contacts/block-cache.ts';
import type { FindUser } from '../signaling/user-lookup.ts';
import type { QueueLimits, Store } from '../store/types.ts';

export interface Sender {
  id: string;
  username: string;
  /** Which of the sender's browsers (issue #17). */
  device: string;
}

/**
 * The process's caches of who a name belongs to and who blocks whom (the relay's), so a queued
 * message costs the store one write rather than two reads and a write.
 */
export interface QueueLookups {
  findUser: FindUser;
  blocks: Pick<BlockCache, 'blocks'>;
}

export class QueueService {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    readonly limits: QueueLimits,
    private readonly lookups: QueueLookups,
    /** The linked browsers of an account: an envelope is for one of them. */
    private readonly linked: (userId: string) => Promise<string[]>,
  ) {}

  /**
   * Queues an envelope for one browser (`toDevice`) of `to`: a contact's, or another of the
   * sender's own. Each browser gets a fair share of the account's queue limits.
   */
  async accept(sender: Sender, to: string, toDevice: string, clientId: string, body: Uint8Array, now = Date.now()): Promise<void> {
    const name = normalizeUsername(to);
    const recipient = name.ok ? await this.lookups.findUser(name.username) : undefined;
    if (!recipient) throw new WireError('peer_unavailable', `${name.ok ? name.username : 'That user'} cannot receive messages: no such account.`);
    if (recipient.id === sender.id && toDevice === sender.device) throw new WireError('bad_request', 'You cannot send messages to yourself.');
    // A recipient who blocked the sender never gets it; the sender is not told (as in Signal).
    if (recipient.id !== sender.id && (await this.lookups.blocks.blocks(recipient.id, sender.id))) return;
    const linked = await this.linked(recipient.id);
    // Not (or no longer) one of their browsers: an unlinked browser's queue is gone for good.
    if (!linked.includes(toDevice)) throw new WireError('peer_unavailable', `That browser of ${recipient.username} is no longer linked. Fetch their list of browsers again.`);
    const share = linked.length;
    const limits = share === 1 ? this.limits : { ...this.limits, maxCount: Math.max(1, Math.floor(this.limits.maxCount / share)), maxBytes: Math.floor(this.limits.maxBytes / share) };
    const result = await this.store.queue.enqueue(
      { recipientId: recipient.id, recipientDevice: toDevice, senderId: sender.id, senderDevice: sender.device, senderName: sender.username, clientId, body, createdAt: now },
      limits,
    );
    if (result.status === 'full') {
      throw new WireError('queue_full', `${recipient.username} has too many undelivered messages waiting. They need to come online before you can send more.`);
    }
    if (result.status === 'stored') await this.bus.notifyQueue(deviceAddress(recipient.id, toDevice));
  }

  /** Drops envelopes older than the age limit; run periodically. */
  purge(now = Date.now()): Promise<number> {
    return this.store.queue.purgeExpired(now - this.limits.maxAgeMs);
  }
}
