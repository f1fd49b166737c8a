import { describe, expect, it } from 'vitest';
import { bindingMatches, fingerprintOf } from '../../src/client/messaging/channel-binding.ts';

const sdp = (fp: string) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\na=fingerprint:${fp}\r\na=setup:actpass\r\n`;

describe('channel binding', () => {
  it('reads the DTLS fingerprint from SDP and normalises it', () => {
    expect(fingerprintOf(sdp('SHA-256 ab:cd:EF'))).toBe('sha-256 AB:CD:EF');
    expect(fingerprintOf('v=0\r\n')).toBeUndefined();
    expect(fingerprintOf(undefined)).toBeUndefined();
  });

  it('accepts the peer\'s view when it is ours mirrored, and nothing else', () => {
    const alice = { local: 'sha-256 AA', remote: 'sha-256 BB' };
    expect(bindingMatches(alice, { local: 'sha-256 BB', remote: 'sha-256 AA' })).toBe(true);
    // A relay in the middle shows each side its own certificate instead of the other's.
    expect(bindingMatches(alice, { local: 'sha-256 BB', remote: 'sha-256 MM' })).toBe(false);
    expect(bindingMatches(alice, { local: 'sha-256 MM', remote: 'sha-256 AA' })).toBe(false);
    expect(bindingMatches(alice, alice)).toBe(false);
  });
});
