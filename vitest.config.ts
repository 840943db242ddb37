import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The end-to-end tests spawn bin/vigil.js, which runs dist/: build it first when a source changed.
    globalSetup: ['test/support/build-dist.ts'],
    // Contract suites are shared modules, run once per adapter by their own test files.
    exclude: ['test/contract/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
