import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil, VIGIL_BIN } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `vigil <args>` to its end: exit code, stdout and stderr apart. */
async function vigil(args: string[], env: Record<string, string> = {}) {
  const process = startVigil(args, env);
  let stdout = '';
  let stderr = '';
  process.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  process.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await process.exit();
  return { code, stdout, stderr };
}

const COMMANDS = ['run', 'worker', 'migrate', 'propagate', 'cleanup'];

// Each case starts one or more real processes; sized for a loaded 2-core machine.
describe('vigil usage (real process)', { timeout: 90_000 }, () => {
  it('a bare vigil prints the help on stderr and exits 2, starting nothing', async () => {
    const db = join(dir, 'bare.db');
    const { code, stdout, stderr } = await vigil([], { DATABASE_URL: `sqlite:${db}`, PORT: '0' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('usage: vigil <command>');
    for (const command of COMMANDS) expect(stderr).toContain(`  ${command} `);
    expect(existsSync(db)).toBe(false);
  });

  it('vigil --help and vigil help print the commands and exit 0', async () => {
    for (const args of [['--help'], ['help'], ['-h']]) {
      const { code, stdout } = await vigil(args);
      expect(code).toBe(0);
      expect(stdout).toContain('usage: vigil <command>');
      expect(stdout).toContain('--version');
    }
  });

  it.each(COMMANDS)('vigil %s --help prints its flags, exits 0 and touches nothing', async (command) => {
    const db = join(dir, `${command}-help.db`);
    // Settings that would make the command fail or start something, were it run.
    const { code, stdout, stderr } = await vigil([command, '--port', '0', '--help'], { DATABASE_URL: `sqlite:${db}`, PUBLISH_INTERVAL_SECONDS: '-1' });
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(`usage: vigil ${command} [flags]`);
    expect(stdout).toContain('--config FILE');
    expect(existsSync(db)).toBe(false);
  });

  it('vigil help <command> is vigil <command> --help', async () => {
    expect(await vigil(['help', 'migrate'])).toEqual(await vigil(['migrate', '--help']));
  });

  it('vigil cleanup --help, vigil worker --help and vigil run --help list their own flags', async () => {
    expect((await vigil(['cleanup', '--help'])).stdout).toMatch(/--days N\s+retention in days/);
    expect((await vigil(['run', '--help'])).stdout).toMatch(/--inspect-port PORT\s+serve a Stately inspector bridge on PORT/);
    const worker = (await vigil(['worker', '-h'])).stdout;
    expect(worker).toMatch(/--interval S\s+evaluate every S seconds/);
    expect(worker).toMatch(/--dry-run\s+evaluate once/);
  });

  it('vigil --version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await vigil(['--version'])).toMatchObject({ code: 0, stdout: `vigil ${pkg.version}\n` });
  });

  it('an unknown flag exits 2 with the closest flag, before anything starts', async () => {
    const db = join(dir, 'flag.db');
    const typo = await vigil(['migrate', '--log-levl', 'debug'], { DATABASE_URL: `sqlite:${db}` });
    expect(typo).toMatchObject({ code: 2, stdout: '', stderr: 'vigil: unknown flag --log-levl; did you mean --log-level?\n' });
    const bogus = await vigil(['run', '--bogus-flag', '1'], { DATABASE_URL: `sqlite:${db}`, PORT: '0' });
    expect(bogus).toMatchObject({ code: 2, stderr: 'vigil: unknown flag --bogus-flag; see --help for the flags it takes\n' });
    // --days is cleanup's, not migrate's.
    expect((await vigil(['migrate', '--days', '3'], { DATABASE_URL: `sqlite:${db}` })).code).toBe(2);
    expect(existsSync(db)).toBe(false);
  });

  it('an unknown command exits 2 with the closest command', async () => {
    expect(await vigil(['wroker'])).toMatchObject({ code: 2, stderr: "vigil: unknown command 'wroker'; did you mean 'worker'?\n" });
    expect(await vigil(['--port', '0'])).toMatchObject({ code: 2 });
  });
});

describe('vigil logs (real process)', { timeout: 90_000 }, () => {
  const env = () => ({ DATABASE_URL: `sqlite:${join(dir, `logs-${Math.random().toString(36).slice(2)}.db`)}` });

  it('writes JSON lines when stdout is not a terminal', async () => {
    const { code, stdout } = await vigil(['migrate'], env());
    expect(code).toBe(0);
    const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'migrations applied' });
  });

  it('writes pretty lines with LOG_FORMAT=pretty, and JSON with LOG_FORMAT=json', async () => {
    const pretty = await vigil(['migrate'], { ...env(), LOG_FORMAT: 'pretty' });
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: migrations applied\n/m);
    expect(pretty.stdout).not.toContain('{"level"');
    const json = await vigil(['migrate', '--log-format', 'json'], env());
    expect(json.stdout).toContain('"msg":"migrations applied"');
    expect(await vigil(['migrate'], { ...env(), LOG_FORMAT: 'yaml' })).toMatchObject({ code: 2, stderr: expect.stringContaining('LOG_FORMAT') });
  });

  it('writes pretty lines on a terminal, unless LOG_FORMAT=json', () => {
    // util-linux `script` gives the process a real pseudo-terminal as stdout.
    expect(spawnSync('script', ['--version']).status).toBe(0);
    const onTty = (extra: string) =>
      execFileSync('script', ['-qec', `${extra} DATABASE_URL=sqlite:${join(dir, `tty-${extra.length}.db`)} "${process.execPath}" "${VIGIL_BIN}" migrate`, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      }).toString();
    const pretty = onTty('env');
    expect(pretty).toMatch(/INFO.*: .*migrations applied/);
    expect(pretty).not.toContain('"msg"');
    expect(onTty('env LOG_FORMAT=json')).toContain('"msg":"migrations applied"');
  });
});
