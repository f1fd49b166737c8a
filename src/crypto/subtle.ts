// The one place that reaches for Web Crypto's SubtleCrypto, present in browsers and in Node ≥ 19
// as globalThis.crypto. Nothing else in crypto/ names a platform object.
export function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('Web Crypto is not available (a secure context is required)');
  return s;
}
