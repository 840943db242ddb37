import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stopThroughLauncher } from '../support/launcher.ts';
import { childrenOf, killTree, startCommand } from '../support/processes.ts';
import { BIN_ENV, BIN_NODE_OPTIONS, environOf, eventually, startVigil, VIGIL_BIN } from './cli.ts';

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
    vigil.child.kill('SIGTERM');
    expect(await vigil.exit()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(vigil.output()).toContain('"msg":"stopped"');
  });

  it('npm start: SIGTERM to npm reaches Vigil, which drains; npm and Vigil exit 0 within 5 s', async () => {
    const stop = await stopThroughLauncher('npm', ['start'], ROOT, { DATABASE_URL: freshDb() });
    expect(stop.code, stop.output).toBe(0);
    expect(stop.below.some((row) => /vigil(\.js)? run/.test(row.args)), JSON.stringify(stop.below)).toBe(true);
    // Vigil runs with the bin's node options and environment (read while it ran).
    const vigil = stop.below.find((row) => /vigil(\.js)? run/.test(row.args))!;
    expect(vigil.args.split(' ')).toEqual(expect.arrayContaining(BIN_NODE_OPTIONS));
    expect(stop.environ.get(vigil.pid)).toEqual(expect.arrayContaining(Object.entries(BIN_ENV).map(([name, value]) => `${name}=${value}`)));
    expect(stop.ms).toBeLessThan(5_000);
    expect(stop.output).toContain('"msg":"stopped"');
  });

  it('bin/vigil.js run as a command: node runs with the memory settings of its first line', async () => {
    expect(BIN_NODE_OPTIONS).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=20']);
    expect(BIN_ENV).toEqual({ MALLOC_ARENA_MAX: '2' });
    const started = startCommand(VIGIL_BIN, ['run'], ROOT, { PORT: '0', DATABASE_URL: freshDb() });
    try {
      await eventually(async () => (started.output().includes('"msg":"vigil listening"') ? true : undefined), 30_000);
      // `env -S` execs node in its own place: the process started is Vigil.
      // Each argument ends with a NUL.
      const argv = readFileSync(`/proc/${started.child.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
      expect(argv.slice(1, 1 + BIN_NODE_OPTIONS.length)).toEqual(BIN_NODE_OPTIONS);
      expect(argv.slice(-2)).toEqual([VIGIL_BIN, 'run']);
      expect(environOf(started.child.pid!)).toContain('MALLOC_ARENA_MAX=2');
    } finally {
      killTree(started.child.pid!);
      await started.exited;
    }
  });
});
