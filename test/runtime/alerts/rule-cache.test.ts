import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuleInput } from '../../../src/domain/rule.ts';
import { createRuleCache, sameRule } from '../../../src/runtime/alerts/rule-cache.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/index.ts';
import type { Store } from '../../../src/storage/store.ts';

const input = (id: string, threshold = 80): RuleInput => ({
  id, name: id, device_id: 'd1', metric: 'cpu', operator: '>', threshold, for_seconds: 0, clear_threshold: null,
  keep_firing_for_seconds: 0, nodata_seconds: null, severity: 'warning', channels: ['console'], enabled: true,
});

let store: Store;
let lists: number;
let clock: number;
beforeEach(async () => {
  store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  lists = 0;
  clock = 0;
});
afterEach(() => store.close());

/** A cache over the real store, counting the full reads it makes. */
function cache(reloadEveryMs = 60_000) {
  const rules = { list: () => (lists++, store.rules.list()), fingerprint: () => store.rules.fingerprint() };
  return createRuleCache({ rules, reloadEveryMs, now: () => clock });
}

describe('createRuleCache', () => {
  it('reads every rule once, then answers from memory while the store has not changed', async () => {
    await store.rules.create(input('a'));
    const rules = cache();
    expect(await rules.refresh()).toMatchObject({ reloaded: true, rules: [{ id: 'a' }] });
    expect(await rules.refresh()).toMatchObject({ reloaded: false, rules: [{ id: 'a' }] });
    expect(lists).toBe(1);
  });

  it("keeps this instance's creates, edits and deletes without reading the table again", async () => {
    const rules = cache();
    await rules.refresh();
    const a = await store.rules.create(input('a'));
    rules.put(a);
    const b = await store.rules.create(input('b'));
    rules.put(b);
    await new Promise((resolve) => setTimeout(resolve, 2));
    rules.put((await store.rules.update('a', { threshold: 5 }))!);
    await store.rules.delete('b');
    rules.remove('b');
    expect(await rules.refresh()).toMatchObject({ reloaded: false, rules: [{ id: 'a', threshold: 5 }] });
    expect(lists).toBe(1);
  });

  it('a change made elsewhere (another process on the same database) is read at the next refresh', async () => {
    const rules = cache();
    await store.rules.create(input('a'));
    await rules.refresh();
    await store.rules.create(input('b'));
    expect((await rules.refresh()).rules.map((r) => r.id)).toEqual(['a', 'b']);
    await new Promise((resolve) => setTimeout(resolve, 2));
    await store.rules.update('a', { threshold: 1 });
    expect(await rules.refresh()).toMatchObject({ reloaded: true, rules: [{ id: 'a', threshold: 1 }, { id: 'b' }] });
    await store.rules.delete('a');
    expect(await rules.refresh()).toMatchObject({ reloaded: true, rules: [{ id: 'b' }] });
    expect(lists).toBe(4);
  });

  it('reads everything again once `reloadEveryMs` has passed, even with an unchanged fingerprint', async () => {
    const rules = cache(1_000);
    await rules.refresh();
    clock += 999;
    expect((await rules.refresh()).reloaded).toBe(false);
    clock += 1;
    expect((await rules.refresh()).reloaded).toBe(true);
  });

  it('holds the rules it is given at start, so the first refresh reads no table', async () => {
    await store.rules.create(input('a'));
    const listed = await store.rules.list();
    const rules = cache();
    rules.load(listed);
    const { rules: held, reloaded } = await rules.refresh();
    expect(reloaded).toBe(false);
    expect(held[0]).toBe(listed[0]);
    expect(lists).toBe(0);
  });

  it('keeps the object it holds for a rule read again unchanged, and takes the new one for a changed rule', async () => {
    await store.rules.create(input('a'));
    await store.rules.create(input('b'));
    const rules = cache(1_000);
    const [a, b] = (await rules.refresh()).rules;
    await new Promise((resolve) => setTimeout(resolve, 2));
    await store.rules.update('b', { threshold: 1 });
    clock += 1_000;
    const again = await rules.refresh();
    expect(again.reloaded).toBe(true);
    expect(again.rules[0]).toBe(a);
    expect(again.rules[1]).not.toBe(b);
    expect(again.rules[1]).toMatchObject({ id: 'b', threshold: 1 });
  });
});

describe('sameRule', () => {
  it('compares every field, the channels item by item', async () => {
    const a = await store.rules.create(input('a'));
    expect(sameRule(a, { ...a, channels: [...a.channels] })).toBe(true);
    expect(sameRule(a, { ...a, channels: ['console', 'email'] })).toBe(false);
    expect(sameRule(a, { ...a, channels: [] })).toBe(false);
    expect(sameRule(a, { ...a, threshold: 81 })).toBe(false);
    expect(sameRule(a, { ...a, updated_at: 'later' })).toBe(false);
    expect(sameRule(a, { ...a, nodata_seconds: 5 })).toBe(false);
  });
});
