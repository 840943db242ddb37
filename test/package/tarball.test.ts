import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopThroughLauncher } from '../support/launcher.ts';
import { installPacked, PACKAGE_NAME, tarballFiles, typecheck } from '../support/packed.ts';
import { startCommand } from '../support/processes.ts';

// One pack and one install (npm's cache first), shared with the packed edge-gateway test and kept
// while the package is unchanged: each takes tens of seconds.
describe(`the package from npm pack (${PACKAGE_NAME})`, () => {
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    ({ project, tarball } = await installPacked());
  }, 300_000);

  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  }, 120_000);

  it('ships the compiled code, its types, the dashboard assets and the bin, and no tests or benchmarks', async () => {
    const files = await tarballFiles(tarball);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/vigil.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/index.js', 'dist/bundle/cli.js', 'dist/http/dashboard/index.html']));
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
    const embed = startCommand(process.execPath, ['embed.js'], project, {});
    expect(await embed.exited, embed.output()).toBe(0);
    const result = JSON.parse(embed.output().trim().split('\n').at(-1)!) as Record<string, unknown>;
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
    const stop = await stopThroughLauncher('npx', ['vigil', 'run'], project, { DATABASE_URL: 'sqlite:vigil.db' });
    // npx → sh → node …/vigil run: Vigil itself ran below npx.
    expect(stop.below.some((row) => /node/.test(row.args) && /vigil(\.js)? run/.test(row.args)), JSON.stringify(stop.below)).toBe(true);
    expect(stop.ms).toBeLessThan(5_000);
    expect(stop.output).toContain('"msg":"stopped"');
  });
});
