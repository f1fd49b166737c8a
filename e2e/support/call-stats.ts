// What a call carries, read by the tests from the page's own RTCPeerConnection.getStats()
// (W3C webrtc-stats), not from the app's account of it: the call's connection is the one with
// media transceivers (the background chat channel has none).
import type { Page } from 'playwright-core';

export interface MediaFigures {
  connected: boolean;
  /** inbound-rtp, kind audio */
  audioBytesIn: number;
  audioEnergyIn: number;
  audioPacketsIn: number;
  /** outbound-rtp, kind audio */
  audioPacketsOut: number;
  audioBytesOut: number;
  /** inbound-rtp, kind video */
  videoBytesIn: number;
  framesDecoded: number;
  /** The selected candidate pair's two ends. */
  localCandidate: string | null;
  remoteCandidate: string | null;
  /** Every local candidate type the connection gathered. */
  localTypes: string[];
  remoteTypes: string[];
}

export async function mediaFigures(page: Page): Promise<MediaFigures | null> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __parleyPeerConnections: RTCPeerConnection[] }).__parleyPeerConnections;
    const pc = [...pcs].reverse().find((p) => p.getTransceivers().length > 0 && p.connectionState !== 'closed');
    if (!pc) return null;
    const stats = await pc.getStats();
    const out = {
      connected: pc.connectionState === 'connected',
      audioBytesIn: 0,
      audioEnergyIn: 0,
      audioPacketsIn: 0,
      audioPacketsOut: 0,
      audioBytesOut: 0,
      videoBytesIn: 0,
      framesDecoded: 0,
      localCandidate: null as string | null,
      remoteCandidate: null as string | null,
      localTypes: [] as string[],
      remoteTypes: [] as string[],
    };
    let pairId: string | undefined;
    // No named inner functions: tsx (the benchmarks) would wrap them in a helper the page lacks.
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.audioBytesIn += (Number(s.bytesReceived) || 0);
        out.audioEnergyIn += (Number(s.totalAudioEnergy) || 0);
        out.audioPacketsIn += (Number(s.packetsReceived) || 0);
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.audioPacketsOut += (Number(s.packetsSent) || 0);
        out.audioBytesOut += (Number(s.bytesSent) || 0);
      } else if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.videoBytesIn += (Number(s.bytesReceived) || 0);
        out.framesDecoded += (Number(s.framesDecoded) || 0);
      } else if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
        pairId = s.selectedCandidatePairId;
      } else if (s.type === 'local-candidate') {
        out.localTypes.push(String(s.candidateType));
      } else if (s.type === 'remote-candidate') {
        out.remoteTypes.push(String(s.candidateType));
      }
    });
    const pair = pairId ? (stats.get(pairId) as Record<string, unknown> | undefined) : undefined;
    if (pair) {
      out.localCandidate = String((stats.get(String(pair.localCandidateId)) as Record<string, unknown>)?.candidateType);
      out.remoteCandidate = String((stats.get(String(pair.remoteCandidateId)) as Record<string, unknown>)?.candidateType);
    }
    return out;
  });
}

/** Polls until `check` holds for the figures, or fails with the last figures seen. */
export async function waitFigures(page: Page, what: string, check: (f: MediaFigures) => boolean, timeout = 30_000): Promise<MediaFigures> {
  const until = Date.now() + timeout;
  let last: MediaFigures | null = null;
  while (Date.now() < until) {
    last = await mediaFigures(page);
    if (last && check(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`${what}: not seen within ${timeout} ms; last figures ${JSON.stringify(last)}`);
}
