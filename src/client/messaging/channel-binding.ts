// Channel binding (DESIGN.md "Transport"): the DTLS certificate fingerprints of both ends of the
// WebRTC connection, as each browser sees them in the SDP, are exchanged inside the ratchet.
// Someone relaying the connection (a malicious signaling server running two DTLS sessions) has
// to present different fingerprints to each side, and cannot fix the encrypted report.

export interface Fingerprints {
  local: string;
  remote: string;
}

/** The a=fingerprint attribute (RFC 8122 §5), normalised: lower-case hash name, upper-case hex. */
export function fingerprintOf(sdp: string | undefined): string | undefined {
  const m = sdp && /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
  return m ? `${m[1]!.toLowerCase()} ${m[2]!.toUpperCase()}` : undefined;
}

/** Their report must be our view reversed: their local is our remote and the other way round. */
export function bindingMatches(mine: Fingerprints, theirs: Fingerprints): boolean {
  return mine.local === theirs.remote && mine.remote === theirs.local;
}
