// Where an account's browsers are on the bus. Each browser's socket is attached under its own
// address (device "1" under the user id, as in v1, others under `user:device`), so a frame for one
// browser goes to it alone; what concerns the person (presence, log-out everywhere, "your list
// changed") goes to every browser of the account that is still linked.
import type { Bus } from '../bus/types.ts';
import type { DeviceStore } from '../store/types.ts';
import { usageKey } from '../store/rows.ts';

/** The bus address of one browser: the same key the queue's usage uses (migration 006). */
export const deviceAddress = usageKey;

export class DeviceRouter {
  constructor(
    private readonly devices: Pick<DeviceStore, 'list'>,
    private readonly bus: Bus,
  ) {}

  /** The ids of the account's linked browsers (a v1 account: just "1"). */
  async linked(userId: string): Promise<string[]> {
    const all = await this.devices.list(userId);
    const ids = all.filter((d) => d.unlinkedAt === null).map((d) => d.deviceId);
    // An account made before migration 006 ran in this process's view still has device "1".
    return all.length === 0 ? ['1'] : ids;
  }

  async isOnline(userId: string): Promise<boolean> {
    for (const d of await this.linked(userId)) if (await this.bus.isOnline(deviceAddress(userId, d))) return true;
    return false;
  }

  /** Hands the frame to every linked browser of the account that is connected; true if any was. */
  async deliver(userId: string, frameText: string): Promise<boolean> {
    let any = false;
    for (const d of await this.linked(userId)) if (await this.bus.deliver(deviceAddress(userId, d), frameText)) any = true;
    return any;
  }

  disconnectDevice(userId: string, device: string, code: number, reason: string): Promise<void> {
    return this.bus.disconnect(deviceAddress(userId, device), code, reason);
  }

  async disconnect(userId: string, code: number, reason: string): Promise<void> {
    for (const d of await this.linked(userId)) await this.bus.disconnect(deviceAddress(userId, d), code, reason);
  }
}
