import { SimulatedClock } from 'xstate';
import { alertMachine, type AlertIntent, type AlertStateName } from '../actors/alert.ts';
import type { Reading } from '../domain/reading.ts';
import type { Rule } from '../domain/rule.ts';
import { createLogger } from '../runtime/logger.ts';
import { ActorRegistry } from '../runtime/registry.ts';
import { createRuleActors, stateName } from '../runtime/alerts/rule-actors.ts';
import type { InputSeries } from './test-file.ts';

/** A fire or resolve the rules asked for during a simulation. */
export interface SimulatedWrite {
  kind: 'fire' | 'resolve';
  ruleId: string;
  value: number;
  at: number;
}

/** What the simulation is given: the rules, their input series and the times. */
export interface SimulationOptions {
  rules: Rule[];
  series: InputSeries[];
  /** Spacing of the input samples: sample k of a series is at k × sampleIntervalMs. */
  sampleIntervalMs: number;
  /** Evaluations are at 0, 1, 2 … × evaluationIntervalMs, up to `untilMs`. */
  evaluationIntervalMs: number;
  untilMs: number;
  /** Called after each evaluation with its time and every rule's state. */
  onEvaluation?: (at: number, states: ReadonlyMap<string, AlertStateName>) => void;
}

/** The samples of a series that exist, in time order. */
function samplesOf(series: InputSeries, intervalMs: number): Reading[] {
  const samples: Reading[] = [];
  series.values.forEach((value, k) => {
    if (value !== null) samples.push({ device_id: series.device_id, metric: series.metric, value, ts: new Date(k * intervalMs).toISOString() });
  });
  return samples;
}

/** Where each run's writes go, by its actor system (the rule actors of one run share one). */
const sinks = new WeakMap<object, SimulatedWrite[]>();
const record =
  (kind: SimulatedWrite['kind']) =>
  ({ system }: { system: object }, intent: AlertIntent) =>
    void sinks.get(system)?.push({ kind, ruleId: intent.rule.id, value: intent.value, at: intent.at });
const quiet = createLogger('silent', { write: () => {} });
// Provided once: building a machine costs about a millisecond, more than a whole short test.
const machine = alertMachine.provide({ actions: { fireAlert: record('fire'), resolveAlert: record('resolve') } });

/**
 * Runs rules over input series in interval mode on a virtual clock, with the production rule
 * actors and alert machine: at each evaluation time t, every rule is evaluated against the latest
 * sample of its series at or before t. No store, no network, no wall clock, no timers: hours of
 * series take milliseconds. Returns the fires and resolves, in order.
 */
export function simulate(options: SimulationOptions): SimulatedWrite[] {
  const written: SimulatedWrite[] = [];
  let now = 0;
  const actors = createRuleActors({
    registry: new ActorRegistry(),
    logger: quiet,
    machine,
    now: () => now,
    clock: new SimulatedClock(),
    timers: false,
  });
  try {
    for (const rule of options.rules) sinks.set(actors.start(rule).actor.system, written);
    const all = options.series.map((series) => ({ samples: samplesOf(series, options.sampleIntervalMs), next: 0 }));
    const latest = new Map<(typeof all)[number], Reading>();
    for (let n = 0; n * options.evaluationIntervalMs <= options.untilMs; n++) {
      now = n * options.evaluationIntervalMs;
      for (const entry of all) {
        while (entry.next < entry.samples.length && Date.parse(entry.samples[entry.next]!.ts) <= now) latest.set(entry, entry.samples[entry.next++]!);
      }
      actors.evaluate([...latest.values()]);
      if (options.onEvaluation) {
        const states = new Map<string, AlertStateName>();
        for (const entry of actors.entries()) states.set(entry.rule.id, stateName(entry.current?.value));
        options.onEvaluation(now, states);
      }
    }
  } finally {
    actors.stopAll();
  }
  return written;
}
