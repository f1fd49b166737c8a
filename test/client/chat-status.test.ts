// Issues #7 and #16: the chat's status line says plainly how messages travel.
import { describe, expect, it } from 'vitest';
import { chatStatus } from '../../src/client/ui/chat-status.ts';
import type { ActiveConversation, LinkView } from '../../src/client/messaging/parley-client.ts';

const conversation = (link: Partial<LinkView> | null): ActiveConversation => ({
  peer: 'bob',
  group: null,
  messages: [],
  security: null,
  relation: 'contact',
  online: true,
  typing: false,
  call: null,
  link: link ? { peer: 'bob', phase: 'open', binding: 'verified', path: 'direct', ...link } : null,
});

describe('chat status line (issues #7, #16)', () => {
  it('names the path of an open direct channel: direct or relayed, once the channel is bound', () => {
    expect(chatStatus(conversation({ path: 'direct' }), 'connected').text).toBe('End-to-end encrypted · direct');
    expect(chatStatus(conversation({ path: 'relayed' }), 'connected').text).toBe('End-to-end encrypted · relayed');
    expect(chatStatus(conversation({ path: 'relayed', binding: 'pending' }), 'connected').text).toBe('End-to-end encrypted · checking the relayed connection…');
    expect(chatStatus(conversation({ path: 'connecting' }), 'connected').text).toBe('End-to-end encrypted · checking the connection…');
  });

  it('says the server carries messages while the direct channel is being set up', () => {
    expect(chatStatus(conversation({ phase: 'connecting', path: 'connecting', binding: 'pending' }), 'connected').text).toBe('End-to-end encrypted · via server, connecting directly…');
  });

  it('says when it is reconnecting, and that the server carries messages meanwhile', () => {
    expect(chatStatus(conversation({ path: 'reconnecting' }), 'connected')).toEqual({ text: 'Reconnecting to bob… · messages go through the server meanwhile', tone: 'warn' });
  });

  it('says plainly when the contact cannot be reached, and that messages still go through the server', () => {
    for (const reason of ['no-path', 'failed'] as const) {
      const c = conversation({ phase: 'ended', ended: reason, path: 'connecting' });
      expect(chatStatus(c, 'connected')).toEqual({ text: 'Cannot reach bob directly · messages go through the server', tone: 'warn' });
      // Without the server either, the honest answer is that nothing goes out until it is back.
      expect(chatStatus(c, 'reconnecting').text).toBe('Offline · messages will be sent when you reconnect');
    }
    expect(chatStatus(conversation({ phase: 'ended', ended: 'left' }), 'connected').text).toBe('End-to-end encrypted · via server');
    expect(chatStatus(conversation(null), 'connected').text).toBe('End-to-end encrypted · via server');
  });
});
