import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import { startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-cleanup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil cleanup (real process)', () => {
  it('deletes what is older than --days and prints the counts per table', async () => {
    const path = join(dir, 'v.db');
    const store = createSqliteStore({ path });
    await store.migrate();
    const day = 86_400_000;
    await store.readings.upsertLatest([
      { device_id: 'old', metric: 'cpu', value: 1, ts: new Date(Date.now() - 10 * day).toISOString() },
      { device_id: 'new', metric: 'cpu', value: 1, ts: new Date().toISOString() },
    ]);
    await store.messages.record(
      [10, 0].map((age) => {
        const ts = new Date(Date.now() - age * day).toISOString();
        return { topic: 'system-alerts', partition: 0, offset: String(age), key: null, value: {}, timestamp: ts, received_at: ts };
      }),
    );
    await store.close();
    const vigil = startVigil(['cleanup', '--days', '7'], { DATABASE_URL: `sqlite:${path}` });
    expect(await vigil.exit()).toBe(0);
    const line = vigil.output().split('\n').find((l) => l.startsWith('{"days"'))!;
    expect(JSON.parse(line)).toMatchObject({ days: 7, deleted: { readings: 1, alert_events: 0, notifications: 0, analytics_snapshots: 0, messages: 1 } });
  });

  it('exits 2 naming --days when it is not a positive number', async () => {
    const vigil = startVigil(['cleanup', '--days', 'soon'], { DATABASE_URL: `sqlite:${join(dir, 'x.db')}` });
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toContain('--days: must be a number of days from more than 0 to 36500');
  });
});
