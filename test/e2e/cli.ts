import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The `vigil` bin of this checkout. */
export const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

/** A `vigil` process started by a test, with its output collected. */
export interface VigilProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first JSON log line matching `predicate` (rejects after `timeoutMs`). */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit(): Promise<number | null>;
  /** Asks it to stop (SIGTERM) and resolves with its exit code. */
  stop(): Promise<number | null>;
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
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
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

/** A JSON request to a running Vigil: its status and parsed body (null when empty). */
export async function send(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}
