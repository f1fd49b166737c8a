// Which way the bytes of a peer connection actually go, read from its getStats() report
// (W3C webrtc-stats: RTCTransportStats.selectedCandidatePairId, RTCIceCandidatePairStats,
// RTCIceCandidateStats). "relayed" when either end of the selected pair is a TURN relay
// candidate, "direct" otherwise (host, server- or peer-reflexive: through NATs, but with no
// relay in between). Knows nothing of calls; takes any Map-like report so tests can build one.

export type PathKind = 'direct' | 'relayed';

export interface CandidateInfo {
  type: 'host' | 'srflx' | 'prflx' | 'relay' | 'unknown';
  /** Transport between this candidate and its peer: 'udp' or 'tcp'. */
  protocol: string;
  /** For a relay candidate, how we reach the TURN server: 'udp', 'tcp' or 'tls'. */
  relayProtocol?: string;
}

export interface SelectedPath {
  kind: PathKind;
  local: CandidateInfo;
  remote: CandidateInfo;
}

type Stat = Record<string, unknown> & { type?: unknown; id?: unknown };

export interface StatsLike {
  get(id: string): unknown;
  forEach(fn: (value: unknown) => void): void;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function candidate(s: Stat | undefined): CandidateInfo | undefined {
  if (!s) return undefined;
  const t = str(s.candidateType);
  const type = t === 'host' || t === 'srflx' || t === 'prflx' || t === 'relay' ? t : 'unknown';
  const info: CandidateInfo = { type, protocol: str(s.protocol) ?? 'unknown' };
  const relayProtocol = str(s.relayProtocol);
  if (relayProtocol) info.relayProtocol = relayProtocol;
  return info;
}

/** The pair in use: the transport's selected pair, or (older engines) the selected/nominated succeeded one. */
function selectedPair(report: StatsLike): Stat | undefined {
  let viaTransport: string | undefined;
  let flagged: Stat | undefined;
  report.forEach((v) => {
    const s = v as Stat;
    if (s.type === 'transport' && str(s.selectedCandidatePairId)) viaTransport ??= str(s.selectedCandidatePairId);
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.selected === true || s.nominated === true)) flagged ??= s;
  });
  const pair = viaTransport ? (report.get(viaTransport) as Stat | undefined) : undefined;
  return pair ?? flagged;
}

export function selectedPath(report: StatsLike): SelectedPath | undefined {
  const pair = selectedPair(report);
  if (!pair) return undefined;
  const local = candidate(report.get(str(pair.localCandidateId) ?? '') as Stat | undefined);
  const remote = candidate(report.get(str(pair.remoteCandidateId) ?? '') as Stat | undefined);
  if (!local || !remote) return undefined;
  return { kind: local.type === 'relay' || remote.type === 'relay' ? 'relayed' : 'direct', local, remote };
}
