// Limits for the RTCDataChannel between two browsers. Every frame on it is a protocol envelope
// (src/protocol/envelope.ts) as binary; nothing else is ever sent there.
export const PEER_MAX_FRAME_BYTES = 300 * 1024;
