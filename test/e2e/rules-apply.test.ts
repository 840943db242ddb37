import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import { eventually, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yamlRules = (threshold: number, withMem: boolean) => `# rules kept in version control
rules:
  - id: cpu-hot
    name: CPU hot
    device_id: d1
    metric: cpu
    operator: ">"
    threshold: ${threshold}
${withMem ? '  - id: mem-high\n    name: Memory high\n    device_id: d1\n    metric: mem\n    operator: ">"\n    threshold: 80\n    severity: error\n' : ''}`;

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('vigil rules apply (real process)', () => {
  it('--dry-run prints the diff and changes nothing; apply creates, updates and deletes; a running instance follows', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'v.db')}`, LOG_LEVEL: 'warn' };
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, yamlRules(90, true));
    const dry = startVigil(['rules', 'apply', file, '--dry-run'], env);
    expect(await dry.exit()).toBe(0);
    expect(dry.output()).toContain('+ cpu-hot  create');
    expect(dry.output()).toContain('2 to create, 0 to update, 0 to delete, 0 unchanged');
    expect(dry.output()).toContain('dry run: nothing changed');

    const run = startVigil(['run'], { ...env, LOG_LEVEL: 'info', PORT: '0', ALERT_INTERVAL_SECONDS: '1' });
    try {
      const url = String((await run.waitForLog((line) => line.msg === 'vigil listening')).url);
      const ids = async () => ((await (await fetch(`${url}/rules`)).json()) as { rules: { id: string; threshold: number }[] }).rules;
      expect(await ids()).toEqual([]);

      const apply = startVigil(['rules', 'apply', file], env);
      expect(await apply.exit()).toBe(0);
      expect(apply.output()).toContain('applied');
      // The running instance has no rule actors until its next cycle sees the store changed.
      await eventually(async () => ((await fetch(`${url}/actors/rule:mem-high`)).status === 200 ? true : undefined), 20_000);

      writeFileSync(file, yamlRules(95, false));
      const again = startVigil(['rules', 'apply', file], env);
      expect(await again.exit()).toBe(0);
      expect(again.output()).toContain('~ cpu-hot  threshold: 90 → 95');
      expect(again.output()).toContain('- mem-high  delete');
      expect((await ids()).map((r) => [r.id, r.threshold])).toEqual([['cpu-hot', 95]]);
      await eventually(async () => ((await fetch(`${url}/actors/rule:mem-high`)).status === 404 ? true : undefined), 20_000);
      await eventually(async () => {
        const actor = (await (await fetch(`${url}/actors/rule:cpu-hot`)).json()) as { context: { rule: { threshold: number } } };
        return actor.context.rule.threshold === 95 ? true : undefined;
      }, 20_000);
      // It fires on the new threshold only.
      await post(`${url}/readings`, { device_id: 'd1', metric: 'cpu', value: 93 });
      await post(`${url}/readings`, { device_id: 'd1', metric: 'cpu', value: 97 });
      const events = await eventually(async () => {
        const body = (await (await fetch(`${url}/alerts/events?alert_id=cpu-hot`)).json()) as { events: { current_value: number }[] };
        return body.events.length > 0 ? body.events : undefined;
      });
      expect(events.map((e) => e.current_value)).toEqual([97]);
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 120_000);

  it('a file of thousands of rules: --dry-run changes nothing, apply stores every rule, again is a no-op, JSON agrees', async () => {
    const path = join(dir, 'many.db');
    const env = { DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'warn' };
    const count = 3_000;
    const rules = Array.from({ length: count }, (_, i) => ({
      id: `r-${i}`,
      name: `rule ${i}`,
      device_id: i % 7 === 0 ? String(i) : `dev-${i % 100}`,
      metric: `m${i % 13}`,
      operator: i % 2 === 0 ? '>' : '<=',
      threshold: i / 4,
      severity: ['info', 'warning', 'error', 'critical'][i % 4]!,
      channels: i % 3 === 0 ? [] : ['console', 'email'].slice(0, i % 3),
      enabled: i % 5 !== 0,
    }));
    const yaml = (list: typeof rules) =>
      `rules:\n${list.map((r) => `  - id: ${r.id}\n    name: ${r.name}  # why\n    device_id: "${r.device_id}"\n    metric: ${r.metric}\n    operator: "${r.operator}"\n    threshold: ${r.threshold}\n    severity: ${r.severity}\n    channels: [${r.channels.join(', ')}]\n    enabled: ${r.enabled}\n`).join('')}`;
    const file = join(dir, 'many.yaml');
    writeFileSync(file, yaml(rules));
    const stored = async () => {
      const store = createSqliteStore({ path });
      try {
        await store.migrate();
        return await store.rules.list();
      } finally {
        await store.close();
      }
    };
    const apply = async (target: string, ...flags: string[]) => {
      const run = startVigil(['rules', 'apply', target, ...flags], env);
      expect(await run.exit(), run.output()).toBe(0);
      return run.output();
    };

    const dry = await apply(file, '--dry-run');
    expect(dry).toContain('+ r-0  create (0/m0 > 0)');
    expect(dry).toContain(`… and ${count - 100} more`);
    expect(dry).toContain(`${count} to create, 0 to update, 0 to delete, 0 unchanged`);
    expect(dry).toContain('dry run: nothing changed');
    expect(await stored()).toEqual([]);

    expect(await apply(file)).toContain(`applied ${file}: ${count} rules stored`);
    const after = await stored();
    const fields = ({ id, name, device_id, metric, operator, threshold, severity, channels, enabled }: (typeof rules)[number]) => ({ id, name, device_id, metric, operator, threshold, severity, channels, enabled });
    expect(after.map(fields)).toEqual(rules);
    expect(after.every((r) => r.for_seconds === 0 && r.clear_threshold === null)).toBe(true);

    expect(await apply(file)).toContain(`0 to create, 0 to update, 0 to delete, ${count} unchanged`);
    const json = join(dir, 'many.json');
    writeFileSync(json, JSON.stringify({ rules }));
    expect(await apply(json)).toContain(`0 to create, 0 to update, 0 to delete, ${count} unchanged`);

    // One rule in a hundred changed, another one in a hundred gone.
    const edited = rules.flatMap((r, i) => (i % 100 === 50 ? [] : i % 100 === 0 ? [{ ...r, threshold: r.threshold + 1 }] : [r]));
    writeFileSync(file, yaml(edited));
    const diff = await apply(file, '--dry-run');
    expect(diff).toContain('~ r-100  threshold: 25 → 26');
    expect(diff).toContain('- r-50  delete');
    expect(diff).toContain(`0 to create, ${count / 100} to update, ${count / 100} to delete, ${count - (2 * count) / 100} unchanged`);
    expect((await stored()).map(fields)).toEqual(rules);
    // Every rule has a saved state, as a stopped instance leaves them: a deleted rule's goes with it.
    const saved = createSqliteStore({ path });
    await saved.snapshots.save(rules.map((r) => ({ actorId: `rule:${r.id}`, snapshot: { state: 'ok', context: { value: r.threshold } } })));
    await saved.close();
    await apply(file);
    expect((await stored()).map(fields)).toEqual(edited);
    const left = createSqliteStore({ path });
    try {
      const states = await left.snapshots.loadAll('rule:');
      expect([...states.keys()].sort()).toEqual(edited.map((r) => `rule:${r.id}`).sort());
    } finally {
      await left.close();
    }
  }, 120_000);

  it('exits 2 naming every bad field of the file', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'bad.db')}` };
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ rules: [{ id: 'a', name: 'a', device_id: 'd', metric: 'm', operator: '>', threshold: 'hot' }, { name: 'no id', device_id: 'd', metric: 'm', operator: '>', threshold: 1 }] }));
    const bad = startVigil(['rules', 'apply', file], env);
    expect(await bad.exit()).toBe(2);
    expect(bad.output()).toContain('rules[0].threshold');
    expect(bad.output()).toContain('rules[1].id: is required');
    const missing = startVigil(['rules', 'apply', join(dir, 'nope.yaml')], env);
    expect(await missing.exit()).toBe(2);
    expect(missing.output()).toContain('FILE: cannot read');
    const listed = startVigil(['rules', 'apply', file, '--dry-run'], env);
    expect(await listed.exit()).toBe(2);
  }, 60_000);
});
