import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The example page, built to `examples/web/dist` (`npm run build:web`, run by `npm ci`), and served
 * by the gateway at `/app/` when `WEB_APP_DIR` names that folder, as `npm run demo` does. No React
 * plugin: the page is built, never hot-reloaded, and Vite's own transform handles JSX. No source
 * maps: the gateway would serve them to anyone (it refuses any left in the folder, too).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  oxc: { jsx: { runtime: 'automatic' } },
  // Two pages: the page, and MSAL's redirect bridge (the redirect URI the page registers).
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rolldownOptions: { input: { index: fileURLToPath(new URL('index.html', import.meta.url)), redirect: fileURLToPath(new URL('redirect.html', import.meta.url)) } },
  },
});
