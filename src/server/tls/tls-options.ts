// TLS 1.2 and 1.3 with AEAD suites only. Node's default list still offers CBC suites under
// TLS 1.2 (Lucky13-class attacks, no forward secrecy for some): the TLS 1.2 list here keeps only
// ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla's "intermediate" profile, minus DHE). TLS 1.3
// suites are all AEAD and are listed first, as OpenSSL expects.
import type { SecureContextOptions } from 'node:tls';

export const TLS_OPTIONS: SecureContextOptions & { honorCipherOrder: boolean } = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  ecdhCurve: 'X25519:P-256:P-384',
  honorCipherOrder: true,
};
