import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/runtime/logger.ts';
import { checkClock, clockOffset, registerClockOffset } from '../../src/runtime/store-clock.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { Store } from '../../src/storage/store.ts';

// A real SQLite store, presented as a shared one whose clock runs `behind` ms behind this process's
// (a database server's clock cannot be moved from here).

let store: Store;
beforeEach(async () => {
  store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
});
afterEach(() => store.close());

const shared = (behind: number): Store => ({ ...store, kind: 'postgres', now: async () => Date.now() - behind });
const recording = () => {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
  return { lines, logger: { info: log('info'), warn: log('warn') } as unknown as Logger };
};

describe("an instance's clock against the store's", () => {
  it('is measured on a shared store, and not on a SQLite file (one host, one clock)', async () => {
    expect(Math.abs((await clockOffset(shared(60_000)))! - 60_000)).toBeLessThan(50);
    expect(Math.abs((await clockOffset(shared(-5_000)))! + 5_000)).toBeLessThan(50);
    expect(await clockOffset(store)).toBeUndefined();
  });

  it('is logged at start, as a warning past a second, and a store that cannot answer is no failure', async () => {
    const off = recording();
    await checkClock(shared(60_000), off.logger);
    expect(off.lines).toMatchObject([{ level: 'warn', msg: expect.stringContaining("clock is off the database's") }]);
    expect(Math.round((off.lines[0]!.fields.offset_ms as number) / 1_000)).toBe(60);
    const close = recording();
    await checkClock(shared(200), close.logger);
    expect(close.lines).toMatchObject([{ level: 'info', msg: "clock checked against the database's" }]);
    const down = recording();
    await checkClock({ ...shared(0), now: () => Promise.reject(new Error('connection refused')) }, down.logger);
    expect(down.lines).toMatchObject([{ level: 'warn', msg: "clock not checked against the database's" }]);
    const sqlite = recording();
    await checkClock(store, sqlite.logger);
    expect(sqlite.lines).toEqual([]);
  });

  it('is a gauge read at each scrape', async () => {
    const metrics = new Registry();
    registerClockOffset(shared(60_000), metrics);
    const value = /^vigil_store_clock_offset_seconds (\S+)$/m.exec(await metrics.metrics())?.[1];
    expect(Math.abs(Number(value) - 60)).toBeLessThan(0.05);
    const none = new Registry();
    registerClockOffset(store, none);
    expect(await none.metrics()).not.toContain('vigil_store_clock_offset_seconds');
  });
});
