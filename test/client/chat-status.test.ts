// Issue #7: the chat's status line says plainly how messages travel.
import { describe, expect, it } from 'vitest';
import { chatStatus } from '../../src/client/ui/chat-status.ts';
import type { ActiveConversation, CallView } from '../../src/client/messaging/parley-client.ts';

const conversation = (call: Partial<CallView> | null): ActiveConversation => ({
  peer: 'bob',
  messages: [],
  security: null,
  relation: 'contact',
  online: true,
  typing: false,
  call: call ? { id: 'c1', peer: 'bob', role: 'caller', phase: 'open', binding: 'verified', path: 'direct', ...call } : null,
});

describe('chat status line (issue #7)', () => {
  it('names the path of an open call: direct or relayed, once the channel is bound', () => {
    expect(chatStatus(conversation({ path: 'direct' }), 'connected').text).toBe('End-to-end encrypted · direct');
    expect(chatStatus(conversation({ path: 'relayed' }), 'connected').text).toBe('End-to-end encrypted · relayed');
    expect(chatStatus(conversation({ path: 'relayed', binding: 'pending' }), 'connected').text).toBe('End-to-end encrypted · checking the relayed connection…');
    expect(chatStatus(conversation({ path: 'connecting' }), 'connected').text).toBe('End-to-end encrypted · checking the connection…');
  });

  it('says when it is reconnecting, and that the server carries messages meanwhile', () => {
    expect(chatStatus(conversation({ path: 'reconnecting' }), 'connected')).toEqual({ text: 'Reconnecting to bob… · messages go through the server meanwhile', tone: 'warn' });
  });

  it('says plainly when the contact cannot be reached, and that messages still go through the server', () => {
    for (const reason of ['no-path', 'failed'] as const) {
      const c = conversation({ phase: 'ended', ended: { reason, text: '' }, path: 'connecting' });
      expect(chatStatus(c, 'connected')).toEqual({ text: 'Cannot reach bob directly · messages go through the server', tone: 'warn' });
      // Without the server either, the honest answer is that nothing goes out until it is back.
      expect(chatStatus(c, 'reconnecting').text).toBe('Offline · messages will be sent when you reconnect');
    }
    expect(chatStatus(conversation({ phase: 'ended', ended: { reason: 'left', text: '' } }), 'connected').text).toBe('End-to-end encrypted · via server');
    expect(chatStatus(conversation(null), 'connected').text).toBe('End-to-end encrypted · via server');
  });
});
