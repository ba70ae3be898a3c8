import { defineConfig } from 'vite';

// The console is plain TypeScript + Preact (JSX via the automatic runtime), served by
// `custos serve` from web/dist. Relative asset paths keep it working under any prefix.
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
});
