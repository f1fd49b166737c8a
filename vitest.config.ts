// Three suites:
//  unit    — crypto, protocol, wire, server integration on real SQLite and sockets (Node)
//  browser — the crypto and protocol suites again, inside Debian's Chromium, plus checks
//            against Chromium's own Web Crypto (e.g. native ML-KEM against @noble/post-quantum)
//  e2e     — the built app in Chromium, one file at a time (each starts a server and browsers)
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/crypto/**/*.test.ts', 'test/protocol/**/*.test.ts', 'test/client/**/*.test.ts', 'test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['e2e/global-setup.ts'],
        },
      },
    ],
  },
});
