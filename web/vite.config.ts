import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The built app runs under the strict Content-Security-Policy that relais sends
// (script-src 'self'; style-src 'self'; no inline anything), so the build must
// emit only files: no inline module-preload polyfill, no assets inlined as data:
// URIs (fonts would fall under default-src 'self').
export default defineConfig({
  plugins: [preact()],
  build: {
    target: 'es2020',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev` talks to a locally running `relais serve`.
    proxy: { '/api': process.env.RELAIS_URL ?? 'http://127.0.0.1:8080' },
  },
});
