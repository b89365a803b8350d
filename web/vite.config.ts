// Vite build of the dashboard. The output (web/dist, or --outDir from CMake) is compiled into the
// cairn binary (cmake/CairnWebAssets.cmake) and served from /: hashed files under /assets/.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1200,
    // No inlined data: URLs for scripts (the page's CSP allows scripts from 'self' only).
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev`: the UI with hot reload, API calls proxied to a running cairn.
    proxy: { '/v1': process.env.CAIRN_URL ?? 'http://127.0.0.1:8080' },
  },
});
