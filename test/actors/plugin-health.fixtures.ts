import { createActor } from 'xstate';
import { pluginHealthMachine } from '../../src/actors/plugin-health.ts';
import type { PluginHealth } from '../../src/domain/plugin.ts';

/** A plugin health actor that records what it persists and notifies. */
export function pluginActor(restored?: PluginHealth) {
  const persisted: PluginHealth[] = [];
  const notices: string[] = [];
  const machine = pluginHealthMachine.provide({
    actions: {
      persist: (_, health) => void persisted.push(health),
      notifyFailing: (_, health) => void notices.push(`failing ${health.consecutive_failures}`),
      notifyRecovered: (_, health) => void notices.push(`recovered ${health.total_runs}`),
    },
  });
  const actor = createActor(machine, { input: { name: 'collector', restored } }).start();
  let t = 0;
  const run = (ok: boolean, error = 'boom') => actor.send({ type: 'RUN', ok, error: ok ? undefined : error, at: new Date(Date.UTC(2026, 0, 1, 0, 0, t++)).toISOString() });
  return { actor, persisted, notices, run };
}
