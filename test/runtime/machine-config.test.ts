import { createMachine, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import { alertWorkerMachine } from '../../src/actors/alert-worker.ts';
import { alertMachine } from '../../src/actors/alert.ts';
import { notifierMachine } from '../../src/actors/notifier.ts';
import { periodicJobMachine } from '../../src/actors/periodic-job.ts';
import { pluginHealthMachine } from '../../src/actors/plugin-health.ts';
import { propagatorMachine } from '../../src/actors/propagator.ts';
import { publisherMachine } from '../../src/actors/publisher.ts';
import { silenceMachine } from '../../src/actors/silence.ts';
import { subscriberMachine } from '../../src/actors/subscriber.ts';
import { machineConfig } from '../../src/runtime/machine-config.ts';

/** Every machine Vigil has. */
const MACHINES: Record<string, AnyStateMachine> = {
  alert: alertMachine,
  alertWorker: alertWorkerMachine,
  notifier: notifierMachine,
  periodicJob: periodicJobMachine,
  pluginHealth: pluginHealthMachine,
  silence: silenceMachine,
  propagator: propagatorMachine,
  publisher: publisherMachine,
  subscriber: subscriberMachine,
};

/** A machine's structure: every state node with its type, initial state, and every transition (event, guard, targets), eventless and delayed ones included. */
function shape(machine: AnyStateMachine): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  const visit = (node: AnyStateNode) => {
    const transitions = [...node.transitions.values()].flat().map((t) => ({
      event: t.eventType,
      guard: typeof t.guard === 'string' ? t.guard : (t.guard as { type?: string } | undefined)?.type ?? (t.guard ? 'inline' : null),
      targets: (t.target ?? []).map((target: AnyStateNode) => target.id),
      reenter: t.reenter,
    }));
    const always = (node.always ?? []).map((t) => ({ targets: (t.target ?? []).map((target: AnyStateNode) => target.id) }));
    const after = node.after.map((t) => ({ delay: t.delay, targets: (t.target ?? []).map((target: AnyStateNode) => target.id) }));
    nodes[node.id] = { type: node.type, initial: node.initial?.target.map((t: AnyStateNode) => t.id) ?? null, transitions, always, after, invoke: node.invoke.map((i) => i.id) };
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root);
  return nodes;
}

describe('machineConfig', () => {
  it.each(Object.entries(MACHINES))('%s: JSON that createMachine() takes back, with the same states and transitions', (_name, machine) => {
    const json = JSON.parse(JSON.stringify(machineConfig(machine))) as Parameters<typeof createMachine>[0];
    const copy = createMachine(json);
    expect(shape(copy)).toEqual(shape(machine));
    expect(copy.id).toBe(machine.id);
  });

  it('keeps eventless (always) and delayed (after) transitions, which machine.toJSON() leaves out', () => {
    const all = Object.values(MACHINES).map((m) => shape(createMachine(JSON.parse(JSON.stringify(machineConfig(m))))));
    const count = (key: 'always' | 'after') => all.flatMap((nodes) => Object.values(nodes).flatMap((n) => (n as Record<string, unknown[]>)[key])).length;
    expect(count('always')).toBeGreaterThan(0);
    expect(count('after')).toBeGreaterThan(0);
  });
});
