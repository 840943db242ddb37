#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ to dist/ (JavaScript, .d.ts, source maps) with tsc, copies the
 * files tsc does not handle (the dashboard's html/js/css) next to the compiled code, removes
 * outputs whose source is gone, and bundles with esbuild the CLI into dist/bundle/ (what bin/vigil.js
 * runs: a few files instead of ~200 modules and the packages' own, so Node's module loader has far
 * less to resolve at start-up) and the library entry into dist/bundle/lib/ (what the package's
 * `import` condition points at: Vigil's own modules in a few files; its types stay tsc's
 * dist/index.d.ts). `--if-stale` skips all of it when dist/ is newer than every source (and no
 * build failed since).
 * Plain JavaScript, so it runs on a fresh clone with nothing built.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');
const bundle = join(dist, 'bundle');
const lock = join(root, '.build-lock');
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
const COMPILED = ['.d.ts.map', '.d.ts', '.js.map', '.js'];

/** Every file and folder under `dir` (folders too: deleting a file changes its folder's mtime). */
function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) walk(path, out);
  }
  return out;
}

/** True when some source, folder or config changed after the last successful build. */
export function isStale() {
  if (!existsSync(stamp) || !existsSync(join(bundle, 'cli.js')) || !existsSync(join(bundle, 'lib', 'index.js'))) return true;
  const built = statSync(stamp).mtimeMs;
  const inputs = [src, ...walk(src), ...CONFIGS.map((name) => join(root, name))];
  return inputs.some((path) => statSync(path).mtimeMs > built);
}

/** True when the file under src/ that `output` (under dist/) comes from still exists: an asset, or a compiled .ts. */
function hasSource(output) {
  const rel = relative(dist, output);
  const suffix = COMPILED.find((ext) => rel.endsWith(ext));
  return existsSync(join(src, rel)) || (suffix !== undefined && existsSync(join(src, rel.slice(0, -suffix.length) + '.ts')));
}

/** Copies every non-TypeScript file of src/ to the same place under dist/; drops outputs of deleted sources. */
function syncAssets() {
  for (const path of walk(src)) {
    if (path.endsWith('.ts') || statSync(path).isDirectory()) continue;
    const target = join(dist, relative(src, path));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(path, target);
  }
  for (const path of walk(dist)) {
    if (path.startsWith(bundle + sep)) continue;
    if (path === stamp || path.endsWith('.tsbuildinfo') || !existsSync(path) || statSync(path).isDirectory()) continue;
    if (!hasSource(path)) rmSync(path);
  }
}

/**
 * Packages left out of the bundle, imported from node_modules/ as they are: native addons
 * (better-sqlite3), optional adapters that must load only when configured (kafkajs, pg, nodemailer,
 * ws, mqtt, the inspector), pino (its transports run in worker threads that resolve files by name)
 * and what only tests use. Every other dependency is inlined.
 */
const EXTERNAL = ['better-sqlite3', 'kafkajs', 'pg', 'nodemailer', 'ws', 'mqtt', 'pino', 'pino-pretty', '@statelyai/inspect', 'playwright-core'];

/**
 * Bundles dist/cli/index.js (tsc's output) into dist/bundle/cli.js and its chunks, and dist/index.js
 * into dist/bundle/lib/index.js and its own: ESM with code splitting, so the commands and adapters
 * imported lazily stay in chunks of their own, loaded only when used. Bundled CommonJS packages call require(), which an ES module lacks: the banner gives every chunk one.
 */
function bundleCli() {
  const esbuild = createRequire(import.meta.url)('esbuild');
  rmSync(bundle, { recursive: true, force: true });
  esbuild.buildSync({
    entryPoints: { cli: join(dist, 'cli', 'index.js') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: bundle,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);" },
    external: EXTERNAL,
  });
  // The library entry: Vigil's own modules only. Every package stays an import, so an embedder and
  // Vigil share one copy of each (hono's app.route() only mounts an app of its own copy).
  esbuild.buildSync({
    entryPoints: { index: join(dist, 'index.js') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: join(bundle, 'lib'),
    logLevel: 'warning',
    packages: 'external',
  });
  for (const path of walk(bundle)) if (path.endsWith('.js')) asciiOnly(path);
}

/**
 * Rewrites what is left of non-ASCII characters in a bundled file as `\u` escapes. esbuild escapes
 * them in strings, regular expressions and names, not in the comments it keeps (a dash in zod's, an
 * apostrophe in xstate's). One such character is enough for V8 to hold the module's whole source as
 * two bytes a character, and it holds the source for as long as the process runs: 0.9 MB of the CLI's.
 */
function asciiOnly(path) {
  const text = readFileSync(path, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(path, ascii);
}

/** Holds a lock folder while building, so two test runs in one checkout never write dist/ at once. */
function withLock(fn) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A lock older than three minutes belongs to a build that died.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`build: ${lock} held for over three minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Builds dist/. Returns true when the output is complete and type-checked. With `strict: false`, a
 * type error is reported and the emitted JavaScript kept (tsc still emits), as tsx would run it.
 */
export function build({ ifStale = false, strict = true, quiet = false } = {}) {
  return withLock(() => {
    if (ifStale && !isStale()) return true;
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8' });
    if (result.error) throw result.error;
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0 && (strict || !existsSync(join(dist, 'cli', 'index.js')))) {
      process.stderr.write(output);
      return false;
    }
    syncAssets();
    bundleCli();
    if (result.status !== 0) {
      process.stderr.write(`build: type errors; dist/ holds the emitted JavaScript anyway:\n${output}`);
      return false;
    }
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
    if (!quiet) process.stdout.write('build: dist/ is up to date\n');
    return true;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  // --emit-on-error: keep the JavaScript tsc emitted despite type errors (the tests' build: they run it as tsx would).
  const strict = !process.argv.includes('--emit-on-error');
  const ok = build({ ifStale, strict });
  process.exit(ok || (!strict && existsSync(join(dist, 'cli', 'index.js'))) ? 0 : 1);
}
