import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: brings dist/ up to date before any test runs, since the end-to-end tests
 * spawn `bin/vigil.js`, which runs the compiled CLI. Skipped in milliseconds when nothing changed;
 * a type error elsewhere is printed but does not stop the tests (they run the emitted code).
 */
export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/build.js', import.meta.url));
  const result = spawnSync(process.execPath, [script, '--if-stale', '--emit-on-error'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`building dist/ failed (exit ${result.status}); run \`npm run build\` to see why`);
}
