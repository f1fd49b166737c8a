// Builds the web client from src/client into dist/client. No inline scripts or styles are
// emitted, so the strict Content-Security-Policy holds.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/client',
  publicDir: 'public',
  build: {
    outDir: '../../dist/client',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { https: undefined },
});
