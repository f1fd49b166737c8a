// Channel binding (DESIGN.md "Transport"): the DTLS certificate fingerprints of both ends of the
// WebRTC connection, as each browser sees them in the SDP, are exchanged inside the ratchet.
// Someone relaying the connection (a malicious signaling server running two DTLS sessions) has
// to present different fingerprints to each side, and cannot fix the encrypted report.

export interface Fingerprints {
  local: string;
  remote: string;
}

/**
 * The a=fingerprint attributes (RFC 8122 §5) of an SDP, normalised: lower-case hash name,
 * upper-case hex. A call's SDP has one per media section; a browser puts the same certificate
 * in each, so several different ones are joined into one value that no honest report matches.
 */
export function fingerprintOf(sdp: string | undefined): string | undefined {
  if (!sdp) return undefined;
  const seen = new Set<string>();
  for (const m of sdp.matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)) seen.add(`${m[1]!.toLowerCase()} ${m[2]!.toUpperCase()}`);
  return seen.size ? [...seen].sort().join(', ') : undefined;
}

/** Their report must be our view reversed: their local is our remote and the other way round. */
export function bindingMatches(mine: Fingerprints, theirs: Fingerprints): boolean {
  return mine.local === theirs.remote && mine.remote === theirs.local;
}
