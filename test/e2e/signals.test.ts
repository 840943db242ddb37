import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stopThroughLauncher } from '../support/launcher.ts';
import { childrenOf } from '../support/processes.ts';
import { eventually, startVigil } from './cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const freshDb = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-signals-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'vigil.db')}`;
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('signals reach Vigil however it is started', () => {
  it('bin/vigil.js is one process: no loader, no child; SIGTERM drains and exits 0 within 5 s', async () => {
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: freshDb() });
    const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening')).url);
    await eventually(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000);
    expect(childrenOf(vigil.child.pid!)).toEqual([]);
    const stopping = Date.now();
    expect(await vigil.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(vigil.output()).toContain('"msg":"stopped"');
  });

  it('npm start: SIGTERM to npm reaches Vigil, which drains; npm and Vigil exit 0 within 5 s', async () => {
    const stop = await stopThroughLauncher('npm', ['start'], ROOT, { DATABASE_URL: freshDb() });
    expect(stop.code, stop.output).toBe(0);
    expect(stop.below.some((row) => /vigil(\.js)? run/.test(row.args)), JSON.stringify(stop.below)).toBe(true);
    expect(stop.ms).toBeLessThan(5_000);
    expect(stop.output).toContain('"msg":"stopped"');
  });
});
