import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/create-runtime.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const redocly = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'vigil-openapi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The document a runtime with `env` serves. */
async function documentOf(env: Record<string, string>): Promise<string> {
  const runtime = createRuntime({ inheritEnv: false, env: { LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:', ...env } });
  try {
    const response = await runtime.app.request('/openapi.json', { headers: { authorization: `Bearer ${env.API_TOKEN ?? ''}` } });
    expect(response.status).toBe(200);
    return await response.text();
  } finally {
    await runtime.store.close();
  }
}

describe('redocly lint of GET /openapi.json', () => {
  it('finds no error nor warning, with the repository rule set, in every guard configuration', { timeout: 120_000 }, async () => {
    const configs: Record<string, Record<string, string>> = {
      open: {},
      token: { API_TOKEN: 'lint-secret' },
      'token-reads': { API_TOKEN: 'lint-secret', API_TOKEN_READS: 'true' },
      'no-rate-limits': { ENABLE_RATE_LIMITING: 'false' },
    };
    const files: string[] = [];
    for (const [name, env] of Object.entries(configs)) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, await documentOf(env));
      files.push(file);
    }
    const { stdout } = await promisify(execFile)(process.execPath, [redocly, 'lint', ...files, '--config', join(root, 'redocly.yaml'), '--format', 'json'], {
      cwd: dir,
      // Offline: no telemetry, no update check.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`redocly lint failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    // The JSON report comes first; redocly may print a notice after it.
    const report = JSON.parse(stdout.slice(0, stdout.indexOf('\n}') + 2)) as { totals: { errors: number; warnings: number }; problems: unknown[] };
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });
});
