import { defineConfig } from 'vitest/config';

/** Soaks rather than checks: minutes each, run by `npm run test:slow` (and CI), not by `npm test`. */
const SLOW = ['test/e2e/chaos-*.test.ts'];
/** Run by both: a short budget in `npm test`, the long one in `npm run test:slow`. */
const FUZZ = 'test/http/fuzz.test.ts';

export default defineConfig({
  test: {
    // The end-to-end tests spawn bin/vigil.js, which runs dist/: build it first when a source changed.
    globalSetup: ['test/support/build-dist.ts'],
    // Sized for a loaded 2-core machine: a `vigil run` can take seconds to start while other files run.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most files wait on processes, sockets and timers rather than the CPU: several run at once.
    // Every file keeps to resources of its own (temp dirs, port 0, fresh PostgreSQL schemas, unique
    // Kafka groups, topics and device ids, unique MQTT topics), so files never see each other.
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        test: {
          name: 'quick',
          include: ['test/**/*.test.ts'],
          // Contract suites are shared modules, run once per adapter by their own test files.
          exclude: ['test/contract/**', 'node_modules/**', ...SLOW],
          env: { VIGIL_FUZZ_RUNS: '400', VIGIL_FUZZ_SECONDS: '30' },
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: [...SLOW, FUZZ],
          env: { VIGIL_FUZZ_SECONDS: '60', VIGIL_FUZZ_RUNS: '20000' },
        },
      },
    ],
  },
});
