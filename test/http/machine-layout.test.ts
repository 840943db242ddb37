import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createActor, type AnyStateMachine } from 'xstate';
import { alertWorkerMachine } from '../../src/actors/alert-worker.ts';
import { alertMachine } from '../../src/actors/alert.ts';
import { notifierMachine } from '../../src/actors/notifier.ts';
import { periodicJobMachine } from '../../src/actors/periodic-job.ts';
import { pluginHealthMachine } from '../../src/actors/plugin-health.ts';
import { propagatorMachine } from '../../src/actors/propagator.ts';
import { silenceMachine } from '../../src/actors/silence.ts';
import { publisherMachine } from '../../src/actors/publisher.ts';
import { subscriberMachine } from '../../src/actors/subscriber.ts';
import { machineConfig } from '../../src/runtime/machine-config.ts';

/** The dashboard's layout module (plain browser JS, no types): only what this test calls. */
interface Layout {
  machineGraph(config: unknown, measure: (text: string, kind: string) => { width: number; height: number }, direction?: string): {
    states: Map<string, { id: string; type: string; children: unknown[] }>;
    edges: Array<{ id: string; source: string; target: string; label: string; events: string[] }>;
    elk: unknown;
  };
  absoluteLayout(laidOut: unknown): { nodes: Map<string, Box>; edges: Map<string, { points: unknown[]; label?: Box }> };
  activeStateIds(states: unknown, value: unknown): string[];
}
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const layout = (await import('../../src/http/dashboard/machine-layout.js' as string)) as Layout;
const ELK = createRequire(import.meta.url)('elkjs/lib/elk.bundled.js') as new () => { layout(graph: unknown): Promise<unknown> };
const elk = new ELK();
// Wider than the browser's 11-12 px system font, so the boxes ELK reserves are at least as large as the text drawn.
const measure = (text: string) => ({ width: text.length * 7.5, height: 14 });

const MACHINES: AnyStateMachine[] = [publisherMachine, subscriberMachine, notifierMachine, alertWorkerMachine, periodicJobMachine, alertMachine, pluginHealthMachine, propagatorMachine, silenceMachine];

interface StateNodeLike {
  id: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, Array<{ eventType: string; target?: Array<{ id: string }> }>>;
  always?: Array<{ target?: Array<{ id: string }> }>;
}

/** Every transition with a target as XState resolves it: `source → target` and its event (`always` when eventless). */
function resolved(machine: AnyStateMachine): Array<{ source: string; target: string; event: string }> {
  const out: Array<{ source: string; target: string; event: string }> = [];
  const walk = (node: StateNodeLike): void => {
    for (const list of node.transitions.values()) for (const t of list) for (const target of t.target ?? []) out.push({ source: node.id, target: target.id, event: t.eventType });
    for (const t of node.always ?? []) for (const target of t.target ?? []) out.push({ source: node.id, target: target.id, event: 'always' });
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root as unknown as StateNodeLike);
  return out;
}

function stateIds(machine: AnyStateMachine): string[] {
  const ids: string[] = [];
  const walk = (node: StateNodeLike): void => {
    ids.push(node.id);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root as unknown as StateNodeLike);
  return ids;
}

const overlap = (a: Box, b: Box): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('statechart layout of every machine (the dashboard drawing, without a browser)', () => {
  for (const direction of ['RIGHT', 'DOWN']) for (const machine of MACHINES) {
    it(`${machine.id}, ${direction}: every state, every transition (eventless and delayed too) as XState resolves it, labels clear of each other and of states`, async () => {
      const graph = layout.machineGraph(machineConfig(machine), measure, direction);
      const want = resolved(machine);
      expect([...graph.states.keys()].sort()).toEqual(stateIds(machine).sort());
      for (const t of want) {
        const edges = graph.edges.filter((e) => e.source === t.source && e.target === t.target);
        const name = `${t.source} → ${t.target} on ${t.event}`;
        expect(edges.length, name).toBeGreaterThan(0);
        const events = edges.flatMap((e) => e.events);
        if (t.event === 'always') expect(events, name).toContain('always');
        else if (t.event.startsWith('xstate.after.')) expect(events.some((e) => e.startsWith('after ')), name).toBe(true);
        else if (!t.event.startsWith('xstate.')) expect(events, name).toContain(t.event);
      }
      // No edge XState does not have.
      for (const edge of graph.edges) expect(want.some((t) => t.source === edge.source && t.target === edge.target), `${edge.source} → ${edge.target}`).toBe(true);

      const placed = layout.absoluteLayout(await elk.layout(graph.elk));
      const labels = graph.edges.map((e) => ({ name: e.label, box: placed.edges.get(e.id)!.label! }));
      for (const [i, a] of labels.entries()) {
        expect(a.box, a.name).toBeDefined();
        for (const b of labels.slice(i + 1)) expect(overlap(a.box, b.box), `"${a.name}" over "${b.name}"`).toBe(false);
        for (const state of graph.states.values()) {
          if (state.children.length === 0) expect(overlap(a.box, placed.nodes.get(state.id)!), `"${a.name}" over ${state.id}`).toBe(false);
        }
      }
    });
  }

  it('marks the active states of a snapshot value, the root included', () => {
    const graph = layout.machineGraph(machineConfig(notifierMachine), measure);
    const actor = createActor(notifierMachine, { input: { pollMs: 60_000 } as never });
    expect(layout.activeStateIds(graph.states, actor.getSnapshot().value)).toEqual(['notifier', 'notifier.idle']);
    expect(layout.activeStateIds(graph.states, { running: { claiming: 'inFlight' } })).toEqual(['notifier', 'notifier.running', 'notifier.running.claiming', 'notifier.running.claiming.inFlight']);
  });
});
