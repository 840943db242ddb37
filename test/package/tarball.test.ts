import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../e2e/cli.ts';
import { installPacked, PACKAGE_NAME, tarballFiles, typecheck } from '../support/packed.ts';

/** Where a child process prints its JSON lines; `text()` is everything so far. */
function collected(child: ReturnType<typeof spawn>): { text(): string } {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { text: () => out };
}

/** True while a process with this id exists. */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// One pack and one install (npm's cache first) for the whole file: each takes tens of seconds.
describe(`the package from npm pack (${PACKAGE_NAME})`, () => {
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    ({ project, tarball } = await installPacked());
  }, 300_000);

  afterAll(async () => {
    if (tarball) await rm(dirname(tarball), { recursive: true, force: true });
  }, 120_000);

  it('ships the compiled code, its types, the dashboard assets and the bin, and no tests or benchmarks', async () => {
    const files = await tarballFiles(tarball);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/vigil.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/index.js', 'dist/http/dashboard/index.html']));
    expect(files.filter((file) => /^(test|bench|src|scripts)\//.test(file) || (file.endsWith('.ts') && !file.endsWith('.d.ts')))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', PACKAGE_NAME, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(manifest.dependencies!)).not.toContain('tsx');
  });

  it('plain node imports it, creates a runtime, serves the dashboard and stops', async () => {
    writeFileSync(
      join(project, 'embed.js'),
      `import { createRuntime } from '${PACKAGE_NAME}';
const runtime = createRuntime({ inheritEnv: false, env: { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'warn' } });
await runtime.start({ listen: false });
const ready = await runtime.app.request('/readyz');
const page = await runtime.app.request('/');
// The statecharts' layout, elkjs, resolved in the consumer's node_modules.
const elk = await runtime.app.request('/assets/elk.bundled.js');
console.log(JSON.stringify({ ready: ready.status, page: page.status, html: (await page.text()).includes('<html'), elk: elk.status, store: runtime.store.kind, broker: runtime.broker.kind }));
await runtime.stop();
`,
    );
    const child = spawn(process.execPath, ['embed.js'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = collected(child);
    const [code] = await once(child, 'exit');
    expect(code, output.text()).toBe(0);
    const result = JSON.parse(output.text().trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toEqual({ ready: 200, page: 200, html: true, elk: 200, store: 'sqlite', broker: 'memory' });
  }, 60_000);

  it('type-checks in a NodeNext TypeScript consumer, with real (not any) types', async () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { createRuntime, ConfigError, type Broker, type Runtime, type Store } from '${PACKAGE_NAME}';
const runtime: Runtime = createRuntime({ inheritEnv: false, env: { DATABASE_URL: 'sqlite::memory:' } });
const store: Store = runtime.store;
const broker: Broker = runtime.broker;
const error: Error = new ConfigError('PORT: not a port', 'PORT');
// @ts-expect-error a Store is not a number: fails to compile (TS2578) if the types were any
const wrong: number = runtime.store;
// @ts-expect-error createRuntime takes an options object
createRuntime('sqlite::memory:');
export { store, broker, error, wrong };
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
        files: ['consumer.ts'],
      }),
    );
    const { code, output } = await typecheck(project);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 240_000);

  it('npx vigil run: SIGTERM to npx drains Vigil, which exits within 5 s (no orphan)', async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const npx = spawn('npx', ['vigil', 'run'], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: port, DATABASE_URL: 'sqlite:vigil.db' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collected(npx);
    await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 30_000);
    const vigil = vigilPid(npx.pid!);
    expect(vigil).toBeGreaterThan(0);
    const exited = once(npx, 'exit');
    const stopping = Date.now();
    npx.kill('SIGTERM');
    await exited;
    await eventually(async () => (alive(vigil) ? undefined : true), 5_000, 50);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    await eventually(async () => (output.text().includes('"msg":"stopped"') ? true : undefined), 2_000, 50);
  }, 60_000);
});

/** The `node …/vigil run` process below npx (npx → sh → node). */
function vigilPid(npxPid: number): number {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  const rows = table.split('\n').filter(Boolean).map((line) => {
    const [pid, ppid, ...args] = line.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), args: args.join(' ') };
  });
  const below = new Set([npxPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of rows) if (below.has(row.ppid) && !below.has(row.pid)) (below.add(row.pid), (grew = true));
  }
  return rows.find((row) => below.has(row.pid) && /vigil(\.js)? run/.test(row.args) && /node/.test(row.args))?.pid ?? 0;
}
