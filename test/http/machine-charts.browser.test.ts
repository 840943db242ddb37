import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { alertWorkerMachine } from '../../src/actors/alert-worker.ts';
import { alertMachine } from '../../src/actors/alert.ts';
import { notifierMachine } from '../../src/actors/notifier.ts';
import { periodicJobMachine } from '../../src/actors/periodic-job.ts';
import { pluginHealthMachine } from '../../src/actors/plugin-health.ts';
import { propagatorMachine } from '../../src/actors/propagator.ts';
import { silenceMachine } from '../../src/actors/silence.ts';
import { publisherMachine } from '../../src/actors/publisher.ts';
import { subscriberMachine } from '../../src/actors/subscriber.ts';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';

const CHROMIUM = '/usr/bin/chromium';
// Screenshots of every machine, for a person to look at (test-artifacts/ is not committed).
const SHOTS = join(process.cwd(), 'test-artifacts', 'machines');
const present = existsSync(CHROMIUM);
const required = process.env.VIGIL_REQUIRE_BROWSER === '1';

/**
 * The page at two widths: wide, the machine panel shows every machine whole laid out left to right;
 * narrow (a laptop), machines too wide for the panel that way are laid out top to bottom.
 */
const VIEWPORTS = [
  { name: 'wide', width: 2800, height: 1400 },
  { name: 'narrow', width: 1400, height: 1000 },
];

/** The silence created before the pages open: its actor id carries the id the API gave it. */
let silenceActor = '';

/** Every machine Vigil runs, by its id, and an actor running it (a function when known only once running). */
const MACHINES: Array<{ machine: AnyStateMachine; actor: string | (() => string) }> = [
  { machine: publisherMachine, actor: 'publisher' },
  { machine: subscriberMachine, actor: 'subscriber' },
  { machine: notifierMachine, actor: 'notifier' },
  { machine: alertWorkerMachine, actor: 'alert-worker' },
  { machine: periodicJobMachine, actor: 'janitor' },
  { machine: alertMachine, actor: 'rule:hot-7' },
  { machine: pluginHealthMachine, actor: 'plugin:publisher' },
  { machine: propagatorMachine, actor: 'propagator' },
  { machine: silenceMachine, actor: () => silenceActor },
];

interface StateNodeLike {
  id: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, Array<{ eventType: string; target?: Array<{ id: string }> }>>;
  always?: Array<{ target?: Array<{ id: string }> }>;
}

/**
 * What XState itself resolves in a machine (independently of the drawing's own reading of the
 * config): every state id, and every transition with a target as `source → target` with its event
 * (`always` for eventless ones).
 */
function expected(machine: AnyStateMachine): { states: string[]; transitions: Array<{ source: string; target: string; event: string }> } {
  const states: string[] = [];
  const transitions: Array<{ source: string; target: string; event: string }> = [];
  const walk = (node: StateNodeLike): void => {
    states.push(node.id);
    for (const list of node.transitions.values()) {
      for (const t of list) for (const target of t.target ?? []) transitions.push({ source: node.id, target: target.id, event: t.eventType });
    }
    for (const t of node.always ?? []) for (const target of t.target ?? []) transitions.push({ source: node.id, target: target.id, event: 'always' });
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root as unknown as StateNodeLike);
  return { states, transitions };
}

/** What the page drew, measured in the browser: boxes, edges with their labels, and the active states. */
interface Drawn {
  nodes: Array<{ id: string; type: string; active: boolean; box: Rect; texts: Rect[] }>;
  edges: Array<{ source: string; target: string; events: string[]; label: string; labelBox: Rect | null }>;
  rowState: string;
}
interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Runs in the page (this project's TS has no DOM types: the page's globals are reached untyped). */
function measureDrawing(actorId: string): Drawn {
  type El = { getAttribute(n: string): string | null; getBoundingClientRect(): Rect; querySelector(s: string): El | null; querySelectorAll(s: string): El[]; classList: { contains(c: string): boolean }; textContent: string | null };
  const doc = (globalThis as unknown as { document: El }).document;
  const rect = (e: El | null): Rect | null => {
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
  };
  const nodes = [...doc.querySelectorAll('#machine svg .node')].map((n) => ({
    id: n.getAttribute('data-state') ?? '',
    type: ['final', 'compound', 'parallel', 'atomic'].find((t) => n.classList.contains(t)) ?? '',
    active: n.classList.contains('active'),
    box: rect(n.querySelector(':scope > .box'))!,
    texts: [...n.querySelectorAll(':scope > text')].map((t) => rect(t)!),
  }));
  const edges = [...doc.querySelectorAll('#machine svg .edge')].map((e) => ({
    source: e.getAttribute('data-source') ?? '',
    target: e.getAttribute('data-target') ?? '',
    events: (e.getAttribute('data-events') ?? '').split('\n'),
    label: e.querySelector('.edge-label text')?.textContent ?? '',
    labelBox: rect(e.querySelector('.edge-label rect')),
  }));
  const row = [...doc.querySelectorAll('#actors tbody tr')].find((r) => r.getAttribute('data-actor') === actorId);
  return { nodes, edges, rowState: row?.querySelector('.state')?.textContent ?? '' };
}

const overlap = (a: Rect, b: Rect): boolean => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
const inside = (a: Rect, b: Rect): boolean => a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;

/** The state ids a row's state text names (`running.waiting` → root, `root.running`, `root.running.waiting`). */
function activeFromText(rootId: string, text: string): string[] {
  const ids = [rootId];
  let prefix = rootId;
  for (const key of text.split('.').filter(Boolean)) ids.push((prefix = `${prefix}.${key}`));
  return ids;
}

describe.skipIf(!present && !required)('statecharts of every machine, laid out by ELK, in headless Chromium', () => {
  let runtime: Runtime;
  let url: string;
  let peer: Server;
  let browser: BrowserContext;
  const pages = new Map<string, Page>();
  // The pages' uncaught errors and console warnings (the dashboard warns there when a refresh or a drawing fails).
  const errors: string[] = [];
  let dir: string;

  beforeAll(async () => {
    if (!present) throw new Error(`VIGIL_REQUIRE_BROWSER=1 but ${CHROMIUM} is absent`);
    dir = mkdtempSync(join(tmpdir(), 'vigil-charts-'));
    // The propagator's peer: answers every POST, so the propagator runs as it would in production.
    peer = createServer((_req, res) => res.writeHead(200).end('{}'));
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const payloads = join(dir, 'payloads.json');
    writeFileSync(payloads, JSON.stringify([{ n: 1 }]));
    runtime = createRuntime({
      inheritEnv: false,
      env: {
        DATABASE_URL: 'sqlite::memory:',
        PORT: '0',
        LOG_LEVEL: 'silent',
        // Two pages polling and a machine fetched per test run past the default 100 reads a minute.
        ENABLE_RATE_LIMITING: 'false',
        PUBLISH_INTERVAL_SECONDS: '0.5',
        PERIOD_IN_SECONDS: '1',
        HTTP_POST_ENDPOINT: `http://127.0.0.1:${(peer.address() as AddressInfo).port}/events`,
        PAYLOAD_FILE_PATH: payloads,
      },
    });
    url = (await runtime.start()).url!;
    const created = await fetch(`${url}/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'hot-7', name: 'device 7 hot', device_id: '7', metric: 'temperature', operator: '>', threshold: 82, severity: 'critical' }),
    });
    expect(created.status).toBe(201);
    const silence = await fetch(`${url}/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rule_id: 'hot-7', ends_at: new Date(Date.now() + 3_600_000).toISOString(), created_by: 'ops', comment: 'drawn' }),
    });
    expect(silence.status).toBe(201);
    silenceActor = `silence:${((await silence.json()) as { id: string }).id}`;
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      viewport: VIEWPORTS[0],
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    for (const viewport of VIEWPORTS) {
      const page = await browser.newPage();
      page.on('pageerror', (error) => errors.push(`${viewport.name}: ${error.message}`));
      page.on('console', (message) => (message.type() === 'warning' ? errors.push(`${viewport.name}: ${message.text()}`) : undefined));
      await page.setViewportSize(viewport);
      await page.goto(`${url}/`);
      pages.set(viewport.name, page);
    }
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    await new Promise((resolve) => peer?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const { name: viewport } of VIEWPORTS) for (const { machine, actor: actorOf } of MACHINES) {
    it(`${viewport}: ${machine.id} (${typeof actorOf === 'string' ? actorOf : `${machine.id}:…`}): a box per state, a labelled edge per transition, no label over another or over a state, the active state highlighted`, async () => {
      const actor = typeof actorOf === 'string' ? actorOf : actorOf();
      const want = expected(machine);
      const page = pages.get(viewport)!;
      const row = page.locator(`tr[data-actor="${actor}"]`);
      await row.waitFor({ timeout: 10_000 });
      await row.click();
      await page.locator(`#machine svg[aria-label="machine ${machine.id}"] .node[data-state="${machine.id}"]`).waitFor({ timeout: 10_000 });
      await page.locator('#machine svg').screenshot({ path: join(SHOTS, `${machine.id}-${viewport}.png`) });

      const drawn = await page.evaluate(measureDrawing, actor);
      expect(drawn.nodes.map((n) => n.id).sort()).toEqual([...want.states].sort());
      for (const node of drawn.nodes) expect(node.box.right - node.box.left, node.id).toBeGreaterThan(0);
      for (const t of want.transitions) {
        const edge = drawn.edges.find((e) => e.source === t.source && e.target === t.target);
        expect(edge, `${t.source} → ${t.target} on ${t.event}`).toBeDefined();
        expect(edge!.label, `${t.source} → ${t.target}`).not.toBe('');
        expect(edge!.labelBox, `${t.source} → ${t.target}`).not.toBeNull();
        if (t.event === 'always') expect(edge!.events, `${t.source} → ${t.target}`).toContain('always');
        if (t.event.startsWith('xstate.after.')) expect(edge!.events.some((e) => e.startsWith('after ')), `${t.source} → ${t.target}`).toBe(true);
      }
      expect(drawn.edges.length).toBeGreaterThan(0);

      const labels = drawn.edges.map((e) => ({ name: `${e.source} → ${e.target} "${e.label}"`, box: e.labelBox! }));
      for (let i = 0; i < labels.length; i++) {
        for (let j = i + 1; j < labels.length; j++) expect(overlap(labels[i]!.box, labels[j]!.box), `${labels[i]!.name} over ${labels[j]!.name}`).toBe(false);
        for (const node of drawn.nodes) {
          // A label may sit inside a box that holds other states (its edge runs there), never across one's border or text.
          const name = `${labels[i]!.name} over state ${node.id}`;
          if (node.type === 'compound' || node.type === 'parallel') {
            if (overlap(labels[i]!.box, node.box)) expect(inside(labels[i]!.box, node.box), name).toBe(true);
          } else expect(overlap(labels[i]!.box, node.box), name).toBe(false);
          for (const text of node.texts) expect(overlap(labels[i]!.box, text), `${name}'s text`).toBe(false);
        }
      }

      // The highlight and the row's state change together (on the same SSE event): read in one go, they agree.
      const active = drawn.nodes.filter((n) => n.active).map((n) => n.id).sort();
      expect(active).toEqual(activeFromText(machine.id, drawn.rowState).sort());
      expect(active.length).toBeGreaterThanOrEqual(2);
      expect(errors).toEqual([]);
    });
  }
});
