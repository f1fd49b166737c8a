// The user's contacts as the server keeps them, with presence kept current by the signaling
// socket's presence frames. Presence exists only between two users who added each other.
import type { ContactView } from '../../wire/index.ts';
import type { ApiClient } from '../platform/api-client.ts';

export type ContactEntry = ContactView;

export class ContactBook {
  private list: ContactEntry[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly changed: () => void,
  ) {}

  get entries(): readonly ContactEntry[] {
    return this.list;
  }

  async load(): Promise<void> {
    this.list = await this.api.contacts();
    this.changed();
  }

  find(username: string): ContactEntry | undefined {
    return this.list.find((c) => c.username === username);
  }

  isAdded(username: string): boolean {
    return this.find(username)?.state === 'added';
  }

  isBlocked(username: string): boolean {
    return this.find(username)?.state === 'blocked';
  }

  /** True or false for a mutual contact; null when presence is not shared with them. */
  online(username: string): boolean | null {
    return this.find(username)?.online ?? null;
  }

  async set(username: string, state: 'added' | 'blocked'): Promise<void> {
    await this.api.setContact(username, state);
    await this.load();
  }

  async remove(username: string): Promise<void> {
    await this.api.removeContact(username);
    await this.load();
  }

  presence(username: string, online: boolean): void {
    const c = this.find(username);
    if (!c) {
      // A contact who just added us back: fetch the list to learn the new relation.
      void this.load().catch(() => undefined);
      return;
    }
    this.list = this.list.map((e) => (e.username === username ? { ...e, online, mutual: e.mutual || online } : e));
    this.changed();
  }
}
