import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from './cli.ts';

const MODULE_LOG_HOOK = fileURLToPath(new URL('../support/module-log.mjs', import.meta.url));
/** Packages only an optional adapter or tool needs: each must load only when configured. */
const OPTIONAL = ['kafkajs', 'pg', 'mqtt', 'nodemailer', 'ws', '@statelyai/inspect', 'elkjs', 'pino-pretty'];

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `vigil run` until it listens, stops it, and returns the packages (node_modules names) it loaded. */
async function packagesLoaded(name: string, env: Record<string, string>): Promise<Set<string>> {
  const log = join(dir, `${name}.modules`);
  const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`, NODE_OPTIONS: `--import ${MODULE_LOG_HOOK}`, MODULE_LOG: log, ...env });
  // The shutdown handler is installed once the command prints where it runs.
  await eventually(async () => (vigil.output().includes('vigil: running on') ? true : undefined));
  expect(await vigil.stop()).toBe(0);
  const names = [...readFileSync(log, 'utf8').matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((found) => found[1]!);
  return new Set(names);
}

describe('vigil run loads optional adapters only when configured (real process)', () => {
  it('with the default configuration, loads the SQLite driver and none of the optional packages', async () => {
    const loaded = await packagesLoaded('default', {});
    expect(loaded).toContain('better-sqlite3');
    expect(OPTIONAL.filter((name) => loaded.has(name))).toEqual([]);
  });

  it('with INSPECT_PORT set, loads the inspector and its WebSocket server', async () => {
    const loaded = await packagesLoaded('inspect', { INSPECT_PORT: '0' });
    expect(loaded).toContain('@statelyai/inspect');
    expect(loaded).toContain('ws');
    expect(['kafkajs', 'pg', 'mqtt', 'nodemailer'].filter((name) => loaded.has(name))).toEqual([]);
  });
});
