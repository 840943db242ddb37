import { Counter, type Registry } from 'prom-client';
import { alertMachine } from '../../actors/alert.ts';
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
  const transitionsTotal = new Counter({ name: 'vigil_alert_transitions_total', help: 'Rule state changes, by target', labelNames: ['to'], registers: [metrics] });
  // Each label's child looked up once, not per transition.
  const firing = transitionsTotal.labels('firing');
  const resolved = transitionsTotal.labels('resolved');
  const reported = { pending: transitionsTotal.labels('pending'), ok: transitionsTotal.labels('ok'), nodata: transitionsTotal.labels('nodata') };
  return alertMachine.provide({
    actions: {
      fireAlert: (_, intent) => {
        firing.inc();
        sink.write({ kind: 'fire', rule: intent.rule, value: intent.value, at: intent.at });
      },
      resolveAlert: (_, intent) => {
        resolved.inc();
        sink.write({ kind: 'resolve', rule: intent.rule, value: intent.value, at: intent.at });
      },
      reportTransition: (_, { to }) => reported[to].inc(),
    },
  });
}
