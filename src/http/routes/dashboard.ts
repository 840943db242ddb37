import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Hono } from 'hono';
import { NotFoundError } from '../../errors.ts';
import { assetPath } from '../../package-root.ts';
import type { RouteTools } from '../route-module.ts';

/** The dashboard's files, served as they are: no build step, no CDN, so the page works offline. */
const ASSETS: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'machine-graph.js': 'text/javascript; charset=utf-8',
  'machine-layout.js': 'text/javascript; charset=utf-8',
  'sse-reader.js': 'text/javascript; charset=utf-8',
  'api-token.js': 'text/javascript; charset=utf-8',
  'operations.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

const read = (name: string): string => readFileSync(assetPath(`http/dashboard/${name}`), 'utf8');

/**
 * The graph layout the machine drawing uses: elkjs's browser bundle, resolved in the installed
 * package (node_modules, also when Vigil runs from its packed tarball), read at the first request
 * (it is 1.5 MB) and kept.
 */
let elk: string | undefined;
const elkBundle = (): string => (elk ??= readFileSync(createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js'), 'utf8'));

/** `GET /`: the dashboard page; `GET /assets/:file`: its script modules and stylesheet. */
export function dashboardRoutes(app: Hono, deps: RouteTools): void {
  const page = read('index.html');
  const files = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { body: read(name), type }]));
  const cache = { 'cache-control': 'no-cache' };

  deps.docs.add({ method: 'get', path: '/', tag: 'dashboard', summary: 'The dashboard page (HTML)', mediaType: 'text/html' });
  // The page's URLs are relative, so it must be served from a path ending in '/': mounted at
  // /vigil, '/' becomes /vigil, which is redirected to /vigil/ (see dashboardMountPoint).
  app.get('/', (c) => (c.req.path.endsWith('/') ? c.html(page, 200, cache) : c.redirect(`${c.req.path}/${new URL(c.req.url).search}`, 308)));

  deps.docs.add({ method: 'get', path: '/assets/:file', tag: 'dashboard', summary: "The dashboard's scripts and stylesheet", mediaType: '*/*' });
  app.get('/assets/:file', (c) => {
    const name = c.req.param('file');
    if (name === 'elk.bundled.js') return c.body(elkBundle(), 200, { 'content-type': 'text/javascript; charset=utf-8', ...cache });
    const file = files.get(name);
    if (!file) throw new NotFoundError('asset', name);
    return c.body(file.body, 200, { 'content-type': file.type, ...cache });
  });
}

/**
 * `GET /vigil/` when mounted at /vigil: Hono joins a prefix and '/' as /vigil, never /vigil/, so this
 * wildcard, added after every other route, answers the mount point with a slash (and nothing else).
 */
export function dashboardMountPoint(app: Hono): void {
  const page = read('index.html');
  app.get('/*', (c, next) => (c.req.path === c.req.routePath.slice(0, -1) ? c.html(page, 200, { 'cache-control': 'no-cache' }) : next()));
}
