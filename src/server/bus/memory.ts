// The default bus: every connection lives in this process, so routing is a Map lookup.
import type { Attachment, Bus, Endpoint } from './types.ts';

/** An object per connection, not a closure and its scope: a relay holds tens of thousands. */
class MemoryAttachment implements Attachment {
  constructor(
    private readonly endpoints: Map<string, Endpoint>,
    private readonly userId: string,
    private readonly endpoint: Endpoint,
  ) {}

  detach(): void {
    if (this.endpoints.get(this.userId) === this.endpoint) this.endpoints.delete(this.userId);
  }
}

export function createMemoryBus(): Bus {
  const endpoints = new Map<string, Endpoint>();
  const blockListeners: Array<(ownerId: string | undefined) => void> = [];
  return {
    async attach(userId, endpoint, replacedCode) {
      const previous = endpoints.get(userId);
      endpoints.set(userId, endpoint);
      if (previous && previous !== endpoint) previous.close(replacedCode, 'signed in elsewhere');
      return new MemoryAttachment(endpoints, userId, endpoint);
    },
    deliverHere(userId, frameText) {
      const endpoint = endpoints.get(userId);
      if (!endpoint) return false;
      endpoint.send(frameText);
      return true;
    },
    async deliver(userId, frameText) {
      const endpoint = endpoints.get(userId);
      if (!endpoint) return false;
      endpoint.send(frameText);
      return true;
    },
    async notifyQueue(userId) {
      endpoints.get(userId)?.onQueue();
    },
    async blocksChanged(ownerId) {
      for (const listener of blockListeners) listener(ownerId);
    },
    onBlocksChanged(listener) {
      blockListeners.push(listener);
    },
    hearsChanges: true,
    async disconnect(userId, code, reason) {
      endpoints.get(userId)?.close(code, reason);
    },
    async isOnline(userId) {
      return endpoints.has(userId);
    },
    get localConnections() {
      return endpoints.size;
    },
    async ping() {},
    async close() {
      endpoints.clear();
    },
  };
}
