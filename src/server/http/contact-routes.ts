// /api/contacts: add, block, unblock and remove contacts; the list says who is online, for
// mutual contacts only.
import type { FastifyInstance } from 'fastify';
import { WireError, normalizeUsername, setContactRequest, type ContactView } from '../../wire/index.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { Bus } from '../bus/types.ts';
import type { Presence } from '../contacts/presence.ts';
import type { Store } from '../store/types.ts';
import { requireUser } from './auth-guard.ts';
import { validBody } from './validate.ts';

export async function contactRoutes(app: FastifyInstance, deps: { store: Store; bus: Bus; router: Pick<Bus, 'isOnline'>; tokens: AccessTokens; presence: Presence }): Promise<void> {
  const { store, bus, router, tokens, presence } = deps;

  const target = async (raw: string, meId: string) => {
    const name = normalizeUsername(raw);
    const user = name.ok ? await store.users.findByUsername(name.username) : undefined;
    if (!user) throw new WireError('not_found', 'No user with that name.');
    if (user.id === meId) throw new WireError('bad_request', 'You cannot add yourself as a contact.');
    return user;
  };

  app.get('/api/contacts', async (request): Promise<{ contacts: ContactView[] }> => {
    const me = await requireUser(request, tokens);
    const list = await store.contacts.list(me.userId);
    const contacts: ContactView[] = [];
    for (const c of list) {
      const shared = c.state === 'added' && c.mutual;
      contacts.push({ username: c.username, state: c.state, mutual: c.mutual, online: shared ? await router.isOnline(c.contactId) : null });
    }
    return { contacts };
  });

  app.put<{ Params: { username: string } }>('/api/contacts/:username', async (request, reply) => {
    const me = await requireUser(request, tokens);
    const body = validBody(setContactRequest, request.body);
    const other = await target(request.params.username, me.userId);
    const wasMutual = await presence.isMutual(me.userId, other.id);
    await store.contacts.set(me.userId, other.id, body.state, Date.now());
    // After the write, so a relay that forgets and asks again reads the new state.
    await bus.blocksChanged(me.userId);
    await presence.relationChanged({ id: me.userId, username: me.username }, other, wasMutual);
    return reply.code(204).send();
  });

  app.delete<{ Params: { username: string } }>('/api/contacts/:username', async (request, reply) => {
    const me = await requireUser(request, tokens);
    const other = await target(request.params.username, me.userId);
    const wasMutual = await presence.isMutual(me.userId, other.id);
    await store.contacts.remove(me.userId, other.id);
    await bus.blocksChanged(me.userId);
    await presence.relationChanged({ id: me.userId, username: me.username }, other, wasMutual);
    return reply.code(204).send();
  });
}
