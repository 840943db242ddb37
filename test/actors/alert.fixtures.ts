import { createActor, SimulatedClock, type Actor } from 'xstate';
import { alertMachine, type AlertIntent, type PersistedAlert } from '../../src/actors/alert.ts';
import type { Rule } from '../../src/domain/rule.ts';
import { persistedAlert, stateName } from '../../src/runtime/alerts/rule-actors.ts';

/** A rule with test defaults: `temperature > 82` on device 7, firing at once. */
export const rule = (overrides: Partial<Rule> = {}): Rule => ({
  id: 'r1',
  name: 'hot',
  device_id: '7',
  metric: 'temperature',
  operator: '>',
  threshold: 82,
  for_seconds: 0,
  clear_threshold: null,
  keep_firing_for_seconds: 0,
  nodata_seconds: null,
  severity: 'warning',
  channels: ['console'],
  enabled: true,
  created_at: '2030-01-01T00:00:00.000Z',
  updated_at: '2030-01-01T00:00:00.000Z',
  ...overrides,
});

/** A fire or resolve the machine asked for. */
export interface Written {
  kind: 'fire' | 'resolve';
  value: number;
  at: number;
}

/** Runs up to `target`, stopping at every timer on the way, as real time would. */
function advanceTo(clock: SimulatedClock, target: number): void {
  for (;;) {
    const timeouts = (clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
    let next = Number.POSITIVE_INFINITY;
    for (const { start, timeout } of timeouts.values()) next = Math.min(next, start + timeout);
    if (next > target) break;
    clock.set(Math.max(next, clock.now()));
  }
  clock.set(target);
}

/**
 * One alert actor on a virtual clock, with what it asked to write; `restart` persists and restores it.
 * `timers: false` is interval mode: the actor arms no deadline and changes state only at `evaluate()`.
 */
export function harness(r: Rule, start = 0, options: { timers?: boolean } = {}) {
  const clock = new SimulatedClock();
  clock.set(start);
  const written: Written[] = [];
  const record = (kind: Written['kind']) => (_: unknown, intent: AlertIntent) => written.push({ kind, value: intent.value, at: intent.at });
  const machine = alertMachine.provide({ actions: { fireAlert: record('fire'), resolveAlert: record('resolve') } });
  const create = (restored?: PersistedAlert): Actor<typeof machine> => {
    const actor = createActor(machine, { input: { rule: r, now: clock.now(), restored, ...(options.timers === undefined ? {} : { timers: options.timers }) }, clock });
    actor.start();
    if (restored && restored.state !== 'ok') actor.send({ type: 'RESUME', now: clock.now() });
    return actor;
  };
  let actor = create();
  let lastTs: number | null = null;
  let lastValue: number | null = null;
  return {
    clock,
    written,
    get actor() {
      return actor;
    },
    state: () => stateName(actor.getSnapshot().value),
    /** A reading taken now: an evaluation at its own `ts` (reactive). */
    reading: (value: number) => {
      lastTs = clock.now();
      lastValue = value;
      actor.send({ type: 'EVALUATE', at: lastTs, now: lastTs, value, ts: lastTs });
    },
    /** An interval evaluation now of the latest reading (none before the first). */
    evaluate: () => actor.send({ type: 'EVALUATE', at: clock.now(), now: clock.now(), value: lastValue, ts: lastTs }),
    advance: (ms: number) => advanceTo(clock, clock.now() + ms),
    /** Persists (through JSON, as the store does), stops, and restores into a new actor. */
    restart(downtimeMs = 0): PersistedAlert {
      const persisted = JSON.parse(JSON.stringify(persistedAlert(actor))) as PersistedAlert;
      actor.stop();
      clock.set(clock.now() + downtimeMs);
      actor = create(persisted);
      return persisted;
    },
  };
}

/** The alert machine recording its intents and reported transitions in `into`, in order. */
export const recordingMachine = (into: unknown[]) =>
  alertMachine.provide({
    actions: {
      fireAlert: (_, intent: AlertIntent) => void into.push(['fire', intent.value, intent.at]),
      resolveAlert: (_, intent: AlertIntent) => void into.push(['resolve', intent.value, intent.at]),
      reportTransition: (_, { to }) => void into.push(['to', to]),
    },
  });
