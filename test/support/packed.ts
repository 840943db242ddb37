import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SQLITE_BINARY = join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 10 * 60_000;
/** Installs of other checkouts' builds, unused this long, are removed. */
const STALE_INSTALL_MS = 60 * 60_000;

/** The package name, as package.json gives it. */
export const PACKAGE_NAME = '@vigil-alerts/vigil';

/** Every file under `dir`, relative paths sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(dir, join(prefix, entry.name)) : [join(prefix, entry.name)]))
    .sort();
}

/** A hash of what `npm pack` puts in the tarball: package.json, README.md, bin/ and dist/ (build stamps aside). */
function packageHash(): string {
  const hash = createHash('sha256');
  const files = ['package.json', 'README.md', ...filesUnder(join(ROOT, 'bin')).map((f) => join('bin', f)), ...filesUnder(join(ROOT, 'dist')).map((f) => join('dist', f))];
  for (const file of files.filter((f) => !/\.(tsbuildinfo|build-stamp)$/.test(f))) hash.update(file).update('\0').update(readFileSync(join(ROOT, file))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** Packs the checkout and installs the tarball into `dir`/install; see installPacked. */
async function packAndInstall(dir: string): Promise<void> {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  renameSync(join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename), join(dir, 'package.tgz'));
  const install = join(dir, 'install');
  mkdirSync(install);
  writeFileSync(join(install, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, 'package.tgz')], { cwd: install });
  const modules = join(install, 'node_modules');
  mkdirSync(join(modules, 'better-sqlite3', 'build', 'Release'), { recursive: true });
  copyFileSync(join(ROOT, 'node_modules', SQLITE_BINARY), join(modules, SQLITE_BINARY));
  // A TypeScript consumer has @types/node of its own; this one borrows the checkout's when the
  // package's dependencies did not bring one.
  if (!existsSync(join(modules, '@types', 'node'))) {
    mkdirSync(join(modules, '@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));
  }
  writeFileSync(join(dir, 'done'), '');
}

/** Removes the installs of other builds nobody used for an hour (the current one is `keep`). */
function pruneOldInstalls(keep: string): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith('vigil-packed-') && join(tmpdir(), n) !== keep)) {
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > STALE_INSTALL_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed by another run meanwhile.
    }
  }
}

/**
 * The install of this build, made once: the first caller packs and installs while holding a lock
 * (a folder), concurrent callers (other test files) wait for it, later runs reuse it as long as
 * package.json, README.md, bin/ and dist/ are unchanged.
 */
async function sharedInstall(): Promise<string> {
  const dir = join(tmpdir(), `vigil-packed-${packageHash()}`);
  const lock = `${dir}.lock`;
  for (;;) {
    if (existsSync(join(dir, 'done'))) break;
    try {
      mkdirSync(lock);
    } catch {
      const age = (() => {
        try {
          return Date.now() - statSync(lock).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    try {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      await packAndInstall(dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  utimesSync(dir, new Date(), new Date());
  pruneOldInstalls(dir);
  return dir;
}

/**
 * This checkout as an embedder gets it: packed with `npm pack` (dist/ is built by the test setup) and
 * installed into an empty project, from npm's cache where it can (the registry otherwise), as their
 * `npm install` would. The pack and install are shared by every caller (see sharedInstall); each
 * caller gets a project folder of its own (remove it when done), whose node_modules links to them.
 * Install scripts are skipped because better-sqlite3's would download its prebuilt binary (no network
 * in tests); the checkout's binary of the same version is copied in.
 */
export async function installPacked(): Promise<{ project: string; tarball: string }> {
  const shared = await sharedInstall();
  const project = mkdtempSync(join(tmpdir(), 'vigil-consumer-'));
  copyFileSync(join(shared, 'install', 'package.json'), join(project, 'package.json'));
  symlinkSync(join(shared, 'install', 'node_modules'), join(project, 'node_modules'));
  return { project, tarball: join(shared, 'package.tgz') };
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

