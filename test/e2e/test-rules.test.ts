import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-test-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const example = fileURLToPath(new URL('../../examples/rules.test.yaml', import.meta.url));

const failing = `
evaluation_interval: 1m
rules:
  - { id: A, name: A, device_id: "7", metric: reading, operator: ">", threshold: 50, for_seconds: 60 }
tests:
  - name: expects too early
    input_series: [ { device_id: "7", metric: reading, values: "76 76 76" } ]
    alert_rule_test:
      - { eval_time: 0m, rule_id: A, exp_alerts: [ { device_id: "7" } ] }
      - { eval_time: 1m, rule_id: A, exp_alerts: [ { device_id: "7" } ] }
`;

describe('vigil test rules (real process)', () => {
  it('exits 0 on the example file, with a summary', { timeout: 120_000 }, async () => {
    const run = startVigil(['test', 'rules', example], {});
    expect(await run.exit(), run.output()).toBe(0);
    expect(run.output()).toContain('3 passed, 0 failed');
  });

  it('exits 1 on a failing test; --json prints every test with its failures', { timeout: 120_000 }, async () => {
    const file = join(dir, 'failing.yaml');
    writeFileSync(file, failing);
    const run = startVigil(['test', 'rules', example, file, '--json'], {});
    expect(await run.exit(), run.output()).toBe(1);
    const report = JSON.parse(run.output().trim()) as { tests: { name: string; passed: boolean }[]; passed: number; failed: number };
    expect(report).toMatchObject({ passed: 3, failed: 1 });
    expect(report.tests.at(-1)).toEqual({
      name: 'expects too early',
      passed: false,
      failures: [{ eval_time: '0m', rule_id: 'A', expected: [{ device_id: '7' }], got: [] }],
    });
  });

  it('exits 2 on a bad file, naming the file and the field', { timeout: 120_000 }, async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, failing.replace('threshold: 50', 'threshold: fifty'));
    const run = startVigil(['test', 'rules', file], {});
    expect(await run.exit()).toBe(2);
    expect(run.output()).toContain(`${file}: rules[0].threshold:`);
  });
});
