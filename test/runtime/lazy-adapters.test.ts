import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eventually, startVigil } from '../e2e/cli.ts';
import { freePort } from '../support/peers.ts';

const run = promisify(execFile);
// What the package's `import` condition points at: the bundled library entry.
const INDEX = fileURLToPath(new URL('../../dist/bundle/lib/index.js', import.meta.url));

/**
 * Runs `body` in a fresh Node process on the built package (module state is per process), with
 * `runtime` created from `env`, and resolves with what it printed as JSON. `loaded()` names the
 * optional drivers Node has loaded so far (they are CommonJS: ESM imports of them fill require.cache).
 */
async function inFreshProcess(env: Record<string, string>, body: string): Promise<Record<string, unknown>> {
  const script = `
import { createRequire } from 'node:module';
import { createRuntime } from ${JSON.stringify(INDEX)};
const cache = createRequire(import.meta.url).cache;
const loaded = () => ['kafkajs', 'pg', 'nodemailer', 'ws', 'pino-pretty'].filter((name) => Object.keys(cache).some((path) => path.includes('/node_modules/' + name + '/')));
const runtime = createRuntime({ inheritEnv: false, env: ${JSON.stringify({ LOG_LEVEL: 'silent', ...env })} });
const out = {};
${body}
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 55_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('optional adapters are imported only when configured and used', { timeout: 60_000 }, () => {
  it('the embedded default (SQLite, in-process broker, console, JSON logs) loads none of kafkajs, pg, nodemailer, ws, pino-pretty', async () => {
    const out = await inFreshProcess({ DATABASE_URL: 'sqlite::memory:' }, `
await runtime.start({ listen: false });
out.loaded = loaded();
await runtime.stop();`);
    expect(out).toEqual({ loaded: [] });
  });

  it('email configured: nodemailer waits for the first email, the runtime starts without it', async () => {
    const out = await inFreshProcess(
      { DATABASE_URL: 'sqlite::memory:', ENABLE_EMAIL_ALERTS: 'true', SMTP_HOST: '127.0.0.1', SMTP_PORT: '1', ALERT_EMAILS: 'ops@example.com' },
      `
await runtime.start({ listen: false });
out.loaded = loaded();
await runtime.stop();`,
    );
    expect(out).toEqual({ loaded: [] });
  });

  it('DATABASE_URL=postgres: pg is imported on the first store call, which reaches the real driver', async () => {
    const out = await inFreshProcess({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' }, `
out.kind = runtime.store.kind;
out.before = loaded();
out.error = await runtime.store.health().then(() => 'none', (error) => error.name + ' ' + error.code);
out.after = loaded();
await runtime.stop();`);
    expect(out.kind).toBe('postgres');
    expect(out.before).toEqual([]);
    expect(out.after).toContain('pg');
    expect(out.error).toMatch(/^StoreError /);
  });

  it('KAFKA_BROKERS set: kafkajs is imported on the first broker call, which reaches the real client', async () => {
    const out = await inFreshProcess({ DATABASE_URL: 'sqlite::memory:', KAFKA_BROKERS: '127.0.0.1:1', KAFKA_MAX_RETRIES: '0' }, `
out.kind = runtime.broker.kind;
out.before = loaded();
out.health = await runtime.broker.health();
out.after = loaded();
await runtime.stop();`);
    expect(out.kind).toBe('kafka');
    expect(out.before).toEqual([]);
    expect(out.after).toContain('kafkajs');
    expect(out.health).toMatchObject({ ok: false });
  });

  it('`vigil run` (the bin, default config: what it runs is the bundle in dist/bundle/) loads none of them either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-lazy-bin-'));
    try {
      // Preloaded into the bin's process: prints the optional drivers loaded by the time it exits.
      const probe = join(dir, 'probe.mjs');
      writeFileSync(probe, `
import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const loaded = ['kafkajs', 'pg', 'nodemailer', 'ws'].filter((name) => Object.keys(cache).some((path) => path.includes('/node_modules/' + name + '/')));
  process.stderr.write('LOADED ' + JSON.stringify(loaded) + '\\n');
});`);
      const port = await freePort();
      const vigil = startVigil(['run'], { DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`, PORT: String(port), LOG_LEVEL: 'warn', NODE_OPTIONS: `--import=${pathToFileURL(probe).href}` });
      await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 30_000);
      // The dashboard's files are found from the bundle too.
      expect((await fetch(`http://127.0.0.1:${port}/assets/dashboard.js`)).status).toBe(200);
      vigil.child.kill('SIGTERM');
      expect(await vigil.exit()).toBe(0);
      expect(/LOADED (.*)/.exec(vigil.output())?.[1]).toBe('[]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
