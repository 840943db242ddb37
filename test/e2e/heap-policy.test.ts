import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RULES = 10_000;

/** Stores RULES enabled rules in a migrated file: loading them is what grew V8's young generation. */
async function seeded(path: string): Promise<void> {
  expect(await startVigil(['migrate'], { DATABASE_URL: `sqlite:${path}` }).exit()).toBe(0);
  const db = new Database(path);
  const insert = db.prepare(`INSERT INTO rules (id, name, device_id, metric, operator, threshold, severity, channels, enabled, created_at, updated_at)
    VALUES (?, ?, ?, ?, '>', 90, 'warning', '[]', 1, ?, ?)`);
  const at = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < RULES; i++) insert.run(`r${i}`, `rule ${i}`, `d${i % 1_000}`, `m${Math.floor(i / 1_000)}`, at, at);
  })();
  db.close();
}

/** A sample of the Prometheus text exposition, by its full name and labels. */
const sample = (text: string, series: string): number => Number(text.split('\n').find((line) => line.startsWith(`${series} `))!.split(' ')[1]);

describe('vigil run sizes V8’s heap to its load (real process)', () => {
  it('keeps the young generation small through a start-up with 10k rules and while quiet', async () => {
    const path = join(dir, 'vigil.db');
    await seeded(path);
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${path}`, PUBLISH_INTERVAL_SECONDS: '0' });
    const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening')).url);
    // Two looks of the policy at rest.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    // V8's default let loading 10k rules grow it to its largest, two 16 MB semi-spaces.
    expect(sample(metrics, 'nodejs_heap_space_size_total_bytes{space="new"}')).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(await vigil.stop()).toBe(0);
  });

  it('refuses a HEAP_POLICY it does not know with exit 2, naming the setting and its values', async () => {
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'refused.db')}`, HEAP_POLICY: 'tight' });
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toContain("HEAP_POLICY must be one of load, v8 (got 'tight')");
  });
});
