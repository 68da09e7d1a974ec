import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// npm scripts run at the package root, so the relative root and outDir need no node:path and the
// browser-only tsconfig that checks this file needs no Node types.
export default defineConfig({
  root: 'console',
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // The server answers every asset from its hashed name; the one bundle loads in a few ms locally.
    chunkSizeWarningLimit: 1024,
  },
});
