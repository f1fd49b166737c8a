// How a load-generator client speaks to each relay under test. The same signaling payload (an
// ICE candidate, ~250 bytes of JSON, with the send time in it) goes through all three, so only
// the relay differs. Knows nothing of phases or measurement.

export type TargetKind = 'parley' | 'bare' | 'peerjs';

/** Benchmark account i: a username valid on the wire (3–32 characters) and its id. */
export const benchUserName = (i: number) => `user${i}`;
export const benchUserId = (i: number) => `bench-user-${i}`;

export interface BenchUser {
  name: string;
  id: string;
  /** Parley's access token; PeerJS's per-peer secret. */
  token: string;
}

export interface Protocol {
  url(origin: string, me: BenchUser): string;
  /** The first frame after the socket opens, if the protocol has one. */
  hello(me: BenchUser): string | undefined;
  /** Whether this frame from the server means the client may start sending; 'open' if the open socket is enough. */
  isReady(frame: any): boolean | 'open';
  frame(to: string, data: object): string;
  /** The relayed payload, if this frame is a relayed signaling frame. */
  relayed(frame: any): any;
  /** A keep-alive the protocol requires of its clients, sent now and then. */
  heartbeat?: string;
}

/** A trickled ICE candidate, as a browser sends it; `ts` carries the send time (ms). */
export function candidate(ts: number): object {
  return {
    kind: 'ice',
    candidate: {
      candidate: `candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag EsAw network-id 1 ts ${ts}`,
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'EsAw',
    },
  };
}

export function sentAt(data: any): number {
  const text: string = data?.candidate?.candidate ?? '';
  return Number(text.slice(text.lastIndexOf(' ') + 1));
}

export const protocols: Record<TargetKind, Protocol> = {
  parley: {
    url: (origin) => `${origin}/ws`,
    hello: (me) => JSON.stringify({ type: 'auth', token: me.token }),
    isReady: (f) => f?.type === 'ready',
    frame: (to, data) => JSON.stringify({ type: 'signal', to, callId: 'benchcall00000001', data }),
    relayed: (f) => (f?.type === 'signal' ? f.data : undefined),
  },
  bare: {
    url: (origin, me) => `${origin}/?id=${me.name}`,
    hello: () => undefined,
    isReady: () => 'open',
    frame: (to, data) => JSON.stringify({ to, data }),
    relayed: (f) => f?.data,
  },
  peerjs: {
    url: (origin, me) => `${origin}/peerjs?key=peerjs&id=${me.name}&token=${me.token}`,
    hello: () => undefined,
    isReady: (f) => f?.type === 'OPEN',
    frame: (dst, payload) => JSON.stringify({ type: 'CANDIDATE', dst, payload }),
    relayed: (f) => (f?.type === 'CANDIDATE' ? f.payload : undefined),
    heartbeat: JSON.stringify({ type: 'HEARTBEAT' }),
  },
};
