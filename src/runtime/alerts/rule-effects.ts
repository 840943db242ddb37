import { Counter, type Registry } from 'prom-client';
import { alertMachine, type AlertTransition } from '../../actors/alert.ts';
import type { AlertWrite, AlertWriter } from './alert-writer.ts';

/**
 * Where the rule machines' writes go: queued on their own (a timer's or an interval's transition),
 * or collected while readings are routed, to be committed with those readings.
 */
export interface WriteSink {
  write(w: AlertWrite): void;
  /** Runs `route` with every write it causes pushed to `into` instead of the writer. */
  collect<T>(into: AlertWrite[], route: () => T): T;
}

/** A sink over `writer` (late-bound: the writer may be assembled after the machine). */
export function createWriteSink(writer: () => Pick<AlertWriter, 'push'>): WriteSink {
  let caused: AlertWrite[] | undefined;
  return {
    write(w) {
      if (caused) caused.push(w);
      else writer().push(w);
    },
    collect(into, route) {
      caused = into;
      try {
        return route();
      } finally {
        caused = undefined;
      }
    },
  };
}

/** The alert machine with the runtime's effects provided: fire and resolve go to `sink`, every change of state is counted. */
export function provideRuleEffects(metrics: Registry, sink: WriteSink): typeof alertMachine {
  // Counted in plain numbers and handed to the counter at scrape time: a labelled `inc` builds its
  // labels' key and a result object on every call, which is every fire and resolve.
  const counted: Record<'firing' | 'resolved' | AlertTransition, number> = { firing: 0, resolved: 0, pending: 0, ok: 0, nodata: 0 };
  new Counter({
    name: 'vigil_alert_transitions_total',
    help: 'Rule state changes, by target',
    labelNames: ['to'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const [to, n] of Object.entries(counted)) if (n > 0) this.inc({ to }, n);
    },
  });
  return alertMachine.provide({
    actions: {
      fireAlert: (_, intent) => {
        counted.firing++;
        sink.write({ kind: 'fire', rule: intent.rule, value: intent.value, at: intent.at });
      },
      resolveAlert: (_, intent) => {
        counted.resolved++;
        sink.write({ kind: 'resolve', rule: intent.rule, value: intent.value, at: intent.at });
      },
      reportTransition: (_, { to }) => void counted[to]++,
    },
  });
}
