import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The `vigil` bin of this checkout. */
export const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

/** The words after `#!/usr/bin/env -S` on the bin's first line: `NAME=value…`, `node`, its options. */
const SHEBANG = /^#!\/usr\/bin\/env -S (.*)$/.exec(readFileSync(VIGIL_BIN, 'utf8').split('\n')[0]!)?.[1]!.split(' ') ?? ['node'];
/** The environment and node options set on the bin's first line, which `npm start` and the image set too. */
export const BIN_ENV = Object.fromEntries(SHEBANG.slice(0, SHEBANG.indexOf('node')).map((word) => word.split('=', 2) as [string, string]));
export const BIN_NODE_OPTIONS = SHEBANG.slice(SHEBANG.indexOf('node') + 1);

/** The environment of a running process (Linux /proc), as NAME=value strings. */
export const environOf = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

/** A `vigil` process started by a test, with its output collected. */
export interface VigilProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first JSON log line matching `predicate` (rejects after `timeoutMs`). */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit(): Promise<number | null>;
}

/** Starts `vigil <args>` with `env` added to a clean environment. */
export function startVigil(args: string[], env: Record<string, string>): VigilProcess {
  return watchProcess(
    spawn(process.execPath, [VIGIL_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Collects the output of a Vigil started some other way (a launcher, a container's command). */
export function watchProcess(child: ChildProcess): VigilProcess {
  let out = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    out += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => out,
    waitForLog(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of out.split('\n')) {
            if (!line.startsWith('{')) continue;
            const parsed = JSON.parse(line) as Record<string, unknown>;
            if (predicate(parsed)) {
              listeners.delete(check);
              clearTimeout(timer);
              resolve(parsed);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    exit: () => exited,
  };
}

/** Polls `fn` until it returns a value (not undefined), every `everyMs`, for at most `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
