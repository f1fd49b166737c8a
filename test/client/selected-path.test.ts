// Issue #7: "relayed" means a TURN relay is on the selected candidate pair, read from getStats.
// The reports below have the shape Chromium's getStats() gives (webrtc-stats), trimmed.
import { describe, expect, it } from 'vitest';
import { selectedPath } from '../../src/client/transport/selected-path.ts';

function report(...stats: Array<Record<string, unknown>>): Map<string, unknown> {
  return new Map(stats.map((s) => [s.id as string, s]));
}

const local = (id: string, candidateType: string, extra: Record<string, unknown> = {}) => ({ id, type: 'local-candidate', candidateType, protocol: 'udp', address: '198.18.0.11', port: 50000, ...extra });
const remote = (id: string, candidateType: string) => ({ id, type: 'remote-candidate', candidateType, protocol: 'udp', address: '198.18.0.12', port: 50001 });
const pair = (id: string, l: string, r: string, extra: Record<string, unknown> = {}) => ({ id, type: 'candidate-pair', localCandidateId: l, remoteCandidateId: r, state: 'succeeded', nominated: false, ...extra });

describe('selected path (issue #7)', () => {
  it('is direct through NATs: server-reflexive and peer-reflexive ends, no relay', () => {
    const r = report({ id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' }, local('L1', 'srflx'), remote('R1', 'prflx'), pair('CP1', 'L1', 'R1', { nominated: true }));
    expect(selectedPath(r)).toEqual({ kind: 'direct', local: { type: 'srflx', protocol: 'udp' }, remote: { type: 'prflx', protocol: 'udp' } });
  });

  it('is relayed when our end is a TURN relay, and says how we reach the relay', () => {
    const r = report({ id: 'T01', type: 'transport', selectedCandidatePairId: 'CP2' }, local('L1', 'host'), local('L2', 'relay', { relayProtocol: 'tls' }), remote('R1', 'srflx'), pair('CP1', 'L1', 'R1', { state: 'failed' }), pair('CP2', 'L2', 'R1'));
    expect(selectedPath(r)).toEqual({ kind: 'relayed', local: { type: 'relay', protocol: 'udp', relayProtocol: 'tls' }, remote: { type: 'srflx', protocol: 'udp' } });
  });

  it('is relayed when only the contact is behind a relay', () => {
    const r = report({ id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' }, local('L1', 'srflx'), remote('R1', 'relay'), pair('CP1', 'L1', 'R1'));
    expect(selectedPath(r)?.kind).toBe('relayed');
  });

  it('follows the transport, not just any succeeded pair', () => {
    const r = report(
      { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP2' },
      local('L1', 'srflx'),
      local('L2', 'relay', { relayProtocol: 'udp' }),
      remote('R1', 'srflx'),
      pair('CP1', 'L1', 'R1', { nominated: true }),
      pair('CP2', 'L2', 'R1', { nominated: true }),
    );
    expect(selectedPath(r)?.kind).toBe('relayed');
  });

  it('falls back to the selected or nominated succeeded pair when the transport does not say', () => {
    const r = report(local('L1', 'host'), remote('R1', 'host'), pair('CP1', 'L1', 'R1', { selected: true }));
    expect(selectedPath(r)?.kind).toBe('direct');
  });

  it('knows nothing before a pair is chosen, or when the report is incomplete', () => {
    expect(selectedPath(report())).toBeUndefined();
    expect(selectedPath(report({ id: "T01", type: "transport" }))).toBeUndefined();
    expect(selectedPath(report(local('L1', 'host'), remote('R1', 'host'), pair('CP1', 'L1', 'R1', { state: 'in-progress', nominated: true })))).toBeUndefined();
    expect(selectedPath(report({ id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' }, pair('CP1', 'L1', 'R9')))).toBeUndefined();
  });
});
