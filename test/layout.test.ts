import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const src = join(root, 'src');

/** Every TypeScript file under `dir`, as paths relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/** Functions of a file longer than `max` lines, as `file:line name (n lines)`. */
function longFunctions(file: string, max: number, text = readFileSync(join(root, file), 'utf8')): string[] {
  const tree = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node)) {
      const first = tree.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = tree.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name?.getText() ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : '(anonymous)');
      if (last - first + 1 > max) found.push(`${file}:${first + 1} ${name} (${last - first + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

/** Relative module specifiers a file imports or re-exports from. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((match) => match[1]!);
}

describe('source layout', () => {
  it('adapters (storage, streams, channels, sources) import nothing from src/runtime: the runtime hands them their logger and reporter', () => {
    const adapters = ['storage', 'streams', 'channels', 'sources'].flatMap((folder) => sources(join(src, folder)));
    const reaching = adapters.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => relative(src, join(root, file, '..', specifier)).startsWith('runtime'))
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(adapters.length).toBeGreaterThan(20);
    expect(reaching).toEqual([]);
  });

  it('no function in streams, channels and sources is over 80 lines', () => {
    const adapters = ['streams', 'channels', 'sources'].flatMap((folder) => sources(join(src, folder)));
    expect(adapters.flatMap((file) => longFunctions(file, 80))).toEqual([]);
  });

  it('the length check counts functions, methods and arrow functions from first to last line, nested ones too', () => {
    const body = (lines: number) => Array.from({ length: lines - 2 }, (_, i) => `  x${i}();`).join('\n');
    const text = [
      `function declared() {\n${body(81)}\n}`,
      `const arrow = () => {\n${body(81)}\n};`,
      `class Thing {\n  method() {\n${body(81)}\n  }\n}`,
      `function fits() {\n${body(80)}\n}`,
      `function outer() {\n  const inner = function () {\n${body(79)}\n  };\n}`,
    ].join('\n');
    expect(longFunctions('example.ts', 80, text).map((found) => found.replace(/:\d+/, ''))).toEqual([
      'example.ts declared (81 lines)',
      'example.ts arrow (81 lines)',
      'example.ts method (81 lines)',
      'example.ts outer (81 lines)',
    ]);
  });
});
