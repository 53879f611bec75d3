// Builds the views (renderer/) into build/renderer/, the folder the Electron window loads and
// `strata serve` serves. Relative asset URLs ('./') so the same build works from file:// and
// http://; the layout worker is an ES module worker of its own file (the CSP allows only
// 'self' scripts). Vite's cache stays in build/ (node_modules may be shared between checkouts).
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  cacheDir: here('../build/.vite-renderer'),
  plugins: [svelte()],
  worker: { format: 'es' },
  build: {
    outDir: here('../build/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or data: URLs for scripts (the CSP forbids both).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
  },
  server: { fs: { allow: [here('..')] } },
});
