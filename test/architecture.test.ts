import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The shape of src/ that the style guide asks for, kept by a test: an import graph without cycles,
 * state machines that know no adapter, and functions a reader can hold in mind.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const MAX_FUNCTION_LINES = 80;

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });

/** Every function-like node of a file, named `file:line name`, with its length in lines (first to last). */
function functionLengths(path: string, text: string = readFileSync(path, 'utf8')): { where: string; lines: number }[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: { where: string; lines: number }[] = [];
  const lineOf = (pos: number) => file.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node)) {
      const start = lineOf(node.getStart(file));
      const name = node.name?.getText(file) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(file) : '(anonymous)');
      found.push({ where: `${relative(ROOT, path)}:${start} ${name}`, lines: lineOf(node.end) - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** What a file imports: its static and dynamic import specifiers. */
function importsOf(path: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0]!)) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specifiers;
}

/** The imports of the files under `dir` (relative to src/) that `forbidden` matches, as `file → specifier`. */
function forbiddenImports(dir: string, forbidden: (specifier: string, resolved: string) => boolean): string[] {
  return sourceFiles(join(SRC, dir)).flatMap((path) =>
    importsOf(path)
      .filter((specifier) => forbidden(specifier, specifier.startsWith('.') ? relative(SRC, join(path, '..', specifier)) : specifier))
      .map((specifier) => `${relative(SRC, path)} → ${specifier}`),
  );
}

describe('the shape of src/', () => {
  it('has no import cycle (type imports included, as `madge --circular --extensions ts src` counts them)', async () => {
    const graph = await madge(SRC, { fileExtensions: ['ts'], tsConfig: join(ROOT, 'tsconfig.json') });
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(100);
    expect(graph.circular()).toEqual([]);
  }, 60_000);

  it('keeps the state machines of src/actors free of adapters, Hono, kafkajs, pg and better-sqlite3', () => {
    const adapter = /^(hono|@hono\/|kafkajs|pg|better-sqlite3|mqtt|nodemailer|ws)(\/|$)/;
    const adapterDir = /^(http|channels|sources|storage\/(sqlite|postgres|migrations)|streams\/brokers)(\/|\.ts$)/;
    expect(forbiddenImports('actors', (specifier, resolved) => adapter.test(specifier) || adapterDir.test(resolved))).toEqual([]);
  });

  it('keeps src/runtime (the concerns) from importing src/http: only the composition root joins them', () => {
    // The composition root, src/create-runtime.ts (outside src/runtime), builds the HTTP app from the concerns.
    expect(forbiddenImports('runtime', (_, resolved) => resolved.startsWith('http/'))).toEqual([]);
  });

  it('has one entry per folder: no `name.ts` beside a `name/` folder (the folder has an index.ts instead)', () => {
    const pairs = readdirSync(SRC, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => relative(SRC, join(entry.parentPath, entry.name)))
      .filter((dir) => sourceFiles(SRC).some((path) => relative(SRC, path) === `${dir}.ts`));
    expect(pairs).toEqual([]);
  });

  it('keeps the adapters (storage, streams, channels, sources) from importing src/runtime: the runtime hands them their logger and reporter', () => {
    const reaching = ['storage', 'streams', 'channels', 'sources'].flatMap((dir) => forbiddenImports(dir, (_, resolved) => resolved.startsWith('runtime')));
    expect(reaching).toEqual([]);
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = sourceFiles(SRC)
      .flatMap((path) => functionLengths(path))
      .filter(({ lines }) => lines > MAX_FUNCTION_LINES)
      .map(({ where, lines }) => `${where} (${lines} lines)`);
    expect(long).toEqual([]);
  });

  it('measures every function-like node: declarations, arrows, methods, function expressions', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const sample = ['function f() {', body, '}', 'const g = () => {', body, '};', 'class C {', '  m() {', body, '  }', '}', 'const h = function () {', body, '};'].join('\n');
    const measured = functionLengths(join(ROOT, 'sample.ts'), sample).map(({ where, lines }) => `${where.split(' ')[1]} ${lines}`);
    const lines = MAX_FUNCTION_LINES + 2;
    expect(measured).toEqual([`f ${lines}`, `g ${lines}`, `m ${lines}`, `h ${lines}`]);
  });
});
