import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SQLITE_BINARY = join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

/** The package name, as package.json gives it. */
export const PACKAGE_NAME = '@vigil-alerts/vigil';

/**
 * Packs this checkout with `npm pack` (dist/ is built by the test setup) and installs the tarball
 * into a new empty project, from npm's cache where it can (the registry otherwise), as an embedder's `npm install` would.
 * Returns the project folder. Install scripts are skipped because better-sqlite3's would download
 * its prebuilt binary (no network in tests); the checkout's binary of the same version is copied in.
 */
export async function installPacked(): Promise<{ project: string; tarball: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-packed-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  const tarball = join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], { cwd: project });
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'better-sqlite3', 'build', 'Release'), { recursive: true });
  copyFileSync(join(ROOT, 'node_modules', SQLITE_BINARY), join(modules, SQLITE_BINARY));
  // A TypeScript consumer has @types/node of its own; this one borrows the checkout's when the
  // package's dependencies did not bring one.
  if (!existsSync(join(modules, '@types', 'node'))) {
    mkdirSync(join(modules, '@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));
  }
  return { project, tarball };
}

/** The files the tarball holds, relative to the package root. */
export async function tarballFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['tzf', tarball]);
  return stdout.split('\n').filter(Boolean).map((line) => line.replace(/^package\//, ''));
}

/** The checkout's TypeScript compiler, run on `project`'s tsconfig.json; resolves with its exit code and output. */
export async function typecheck(project: string): Promise<{ code: number; output: string }> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { cwd: project });
    return { code: 0, output: '' };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failure.code ?? 1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

