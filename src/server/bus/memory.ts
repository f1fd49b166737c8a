// The default bus: every connection lives in this process, so routing is a Map lookup.
import type { Bus, Endpoint } from './types.ts';

export function createMemoryBus(): Bus {
  const endpoints = new Map<string, Endpoint>();
  const blockListeners: Array<(ownerId: string | undefined) => void> = [];
  const deliverHere = (userId: string, frameText: string): boolean => {
    const endpoint = endpoints.get(userId);
    if (!endpoint) return false;
    endpoint.send(frameText);
    return true;
  };
  return {
    async attach(userId, endpoint, replacedCode) {
      const previous = endpoints.get(userId);
      endpoints.set(userId, endpoint);
      if (previous && previous !== endpoint) previous.close(replacedCode, 'signed in elsewhere');
    },
    detach(userId, endpoint) {
      if (endpoints.get(userId) === endpoint) endpoints.delete(userId);
    },
    deliverHere,
    // Every connection is here: delivering is delivering here.
    async deliver(userId, frameText) {
      return deliverHere(userId, frameText);
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
    mayMissChanges: false,
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
