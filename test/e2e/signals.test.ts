import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startVigil } from './cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const freshDb = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-signals-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'vigil.db')}`;
};
const randomPort = (): string => String(20_000 + Math.floor(Math.random() * 20_000));
const ready = (port: string) => eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 30_000);
const childrenOf = (pid: number): number[] =>
  execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === pid)
    .map(([child]) => child!);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('signals reach Vigil however it is started', () => {
  it('bin/vigil.js is one process: no loader, no child; SIGTERM drains and exits 0 within 5 s', async () => {
    const port = randomPort();
    const vigil = startVigil(['run'], { PORT: port, DATABASE_URL: freshDb() });
    await ready(port);
    expect(childrenOf(vigil.child.pid!)).toEqual([]);
    const stopping = Date.now();
    vigil.child.kill('SIGTERM');
    expect(await vigil.exit()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(vigil.output()).toContain('"msg":"stopped"');
  });

  it('npm start: SIGTERM to npm reaches Vigil, which drains; npm and Vigil exit 0 within 5 s', async () => {
    const port = randomPort();
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: port, DATABASE_URL: freshDb() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = once(npm, 'exit');
    await ready(port);
    const below = childrenOf(npm.pid!).flatMap((pid) => [pid, ...childrenOf(pid)]);
    const stopping = Date.now();
    npm.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, out).toBe(0);
    await eventually(async () => (below.some(alive) ? undefined : true), 5_000, 50);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(out).toContain('"msg":"stopped"');
  }, 60_000);
});
