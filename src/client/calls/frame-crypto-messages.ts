// What the page tells the frame worker (frame-crypto-worker.ts): each side's key, once the
// ratchet has carried it. `key: null`: frames on that side pass unsealed (the other browser
// cannot seal or open them).
export type ToFrameWorker = { type: 'key'; side: 'send' | 'receive'; key: CryptoKey | null };
