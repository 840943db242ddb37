import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Vigil's package name on the npm registry. */
export const PACKAGE_NAME = '@vigil-alerts/vigil';

interface PackageRoot {
  /** The folder holding Vigil's package.json. */
  dir: string;
  version: string;
  /** The running code's tree: `src` (under tsx or vitest) or `dist` (the build, bundled or not). */
  tree: 'src' | 'dist';
}

let found: PackageRoot | undefined;

/**
 * Vigil's own package folder, found once by walking up from this module to the package.json named
 * PACKAGE_NAME. The walk works wherever the code runs from: src/, dist/ or a bundle chunk in
 * dist/bundle/, in a checkout or in an installed node_modules/ folder.
 */
export function packageRoot(): PackageRoot {
  if (found) return found;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    const pkg = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }) : {};
    if (pkg.name === PACKAGE_NAME) {
      const tree = relative(dir, here).split(sep)[0] === 'src' ? 'src' : 'dist';
      return (found = { dir, version: pkg.version ?? 'unknown', tree });
    }
    if (dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}: no package.json named ${PACKAGE_NAME} above ${here}`);
  }
}

/** The path of a file shipped beside the code, by its place under src/ (`http/dashboard/index.html`). */
export function assetPath(path: string): string {
  const root = packageRoot();
  return join(root.dir, root.tree, path);
}
