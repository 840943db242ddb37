import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { watchProcess } from './cli.ts';

// The Docker image's command, run the way a container runs it: as PID 1 of a PID namespace of its
// own (`unshare --pid`, as root), and stopped the way `docker stop` stops it: SIGTERM sent to that
// PID 1 from outside the namespace. The kernel delivers such a signal to a namespace's init only if
// it handles it, so this is the case where a process that relies on default signal handling hangs
// until `docker stop` kills it after 10 s.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** The image's `CMD ["…", …]` (the last one: the run stage's). */
const command = JSON.parse([...dockerfile.matchAll(/^CMD (\[.*\])$/gm)].at(-1)![1]!) as string[];

/** The host pid of the namespace's PID 1: the one child of `unshare --fork`, whose NSpid ends in 1. */
function namespaceInit(unsharePid: number): number {
  const child = Number(readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim());
  const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${child}/status`, 'utf8'))![1]!.split(/\s+/);
  expect(nspid.at(-1), 'Vigil is PID 1 of its namespace').toBe('1');
  return child;
}

describe("the Docker image's command as PID 1 (unshare --pid, no container engine needed)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pid1-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('drains and exits 0 within 5 s of SIGTERM sent from outside its namespace', async () => {
    expect(command.slice(0, 2)).toEqual(['node', 'dist/bundle/cli.js']);
    const vigil = watchProcess(
      spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, ...command.slice(1)], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`, LOG_FORMAT: 'json' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const { url } = await vigil.waitForLog((line) => line.msg === 'vigil listening', 60_000);
    expect((await fetch(`${String(url)}/readyz`)).status).toBe(200);
    const init = namespaceInit(vigil.child.pid!);
    const sent = Date.now();
    process.kill(init, 'SIGTERM');
    // unshare exits with its child's code.
    expect(await vigil.exit(), vigil.output().slice(-3_000)).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5_000);
    expect(vigil.output()).toContain('"msg":"stopped"');
  });
});
