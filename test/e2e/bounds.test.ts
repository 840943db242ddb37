import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const configFile = join(dir, 'vigil.json');
writeFileSync(configFile, '{"CLEANUP_RETENTION_DAYS": 1e9}');

describe('settings and flags out of bounds (real process)', () => {
  it.each([
    [['cleanup', '--days', '1e9'], {}, '--days: must be at most 36500 days'],
    [['cleanup', '--config', configFile], {}, 'CLEANUP_RETENTION_DAYS: must be at most 36500 days'],
    [['cleanup'], { CLEANUP_RETENTION_DAYS: '1e9' }, 'CLEANUP_RETENTION_DAYS: must be at most 36500 days'],
    [['run'], { PUBLISH_INTERVAL_SECONDS: '1e9' }, 'PUBLISH_INTERVAL_SECONDS: '],
    [['run'], { HOST: 'no-such-host.invalid' }, 'HOST: no-such-host.invalid is not an address of this machine'],
  ])('vigil %j with %j exits 2 with one line naming the setting, no stack', async (args, env, message) => {
    const vigil = startVigil(args, { DATABASE_URL: `sqlite:${join(dir, 'bounds.db')}`, PORT: '0', ...env });
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toContain(message);
    expect(vigil.output()).not.toMatch(/\n\s+at .*:\d+:\d+/);
  }, 60_000);
});

const aFile = join(dir, 'not-a-directory');
writeFileSync(aFile, 'x');

describe('an unusable SQLite path (real process)', () => {
  it.each([
    ['run', 'sqlite:/proc/nope/vigil.db'],
    ['cleanup', 'sqlite:/proc/nope/vigil.db'],
    ['migrate', 'sqlite:/proc/nope/vigil.db'],
    ['run', `sqlite:${join(aFile, 'vigil.db')}`],
    ['cleanup', `sqlite:${join(aFile, 'sub', 'vigil.db')}`],
  ])('vigil %s with DATABASE_URL=%s exits 2 at once, naming DATABASE_URL and the fix', async (command, url) => {
    const vigil = startVigil([command], { DATABASE_URL: url, PORT: '0' });
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toContain('DATABASE_URL: cannot open the SQLite database');
    expect(vigil.output()).toContain('point it at a file in a directory Vigil can create and write');
    expect(vigil.output()).not.toMatch(/\n\s+at .*:\d+:\d+/);
  }, 30_000);
});
