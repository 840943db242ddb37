import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';

/**
 * In-process runtimes for a test file: `started(env)` starts one (no HTTP listener) on `base` plus
 * `env`, each stopped after its test; `dir` is a temp folder for store files, removed after the file.
 * Call at the top level of the file (it registers the hooks).
 */
export function inProcessRuntimes(base: Record<string, string>, prefix: string) {
  const running: Runtime[] = [];
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const runtime of running.splice(0)) await runtime.stop();
  });
  async function started(env: Record<string, string> = {}): Promise<Runtime> {
    const runtime = createRuntime({ inheritEnv: false, env: { ...base, ...env } });
    running.push(runtime);
    await runtime.start({ listen: false });
    return runtime;
  }
  return { dir, started };
}

/** One request to the runtime's app (a string body is sent as is, anything else as JSON), its status and parsed body. */
export async function call(runtime: Runtime, method: string, path: string, body?: unknown) {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await runtime.app.request(path, init);
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}
