import type { AlertEvent, NewAlertEvent } from '../../../src/domain/alert-event.ts';
import type { Rule } from '../../../src/domain/rule.ts';
import { StoreError } from '../../../src/errors.ts';
import type { Reading } from '../../../src/domain/reading.ts';
import type { AlertTransition, Store } from '../../../src/storage/store.ts';

/** Options of `fakeAlertStore`: how long each call takes (in macrotask hops) and which calls fail. */
export interface FakeAlertStoreOptions {
  /** Hops before the call of number `n` (0-based, over all calls), about rule `rule`, takes effect. */
  latency?: (n: number, rule: string) => number;
  /** Whether the call of number `n` about rule `rule` fails (retriably) instead of taking effect. */
  fails?: (n: number, rule: string) => boolean;
  /** Whether the call of number `n` fails for good (a non-retriable StoreError). */
  breaks?: (n: number) => boolean;
}

/** What the fake store saw: every call that took effect, in order. */
export interface AppliedCall {
  kind: 'open' | 'resolve' | 'reading';
  rule: string;
  value: number;
}

const hop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The alert-event part of the Store port with its one-open-event-per-rule rule, in memory, where each
 * call takes a chosen time and may fail: the writer's concurrency and ordering are then observable.
 */
export function fakeAlertStore({ latency = () => 0, fails = () => false, breaks = () => false }: FakeAlertStoreOptions = {}) {
  const events: AlertEvent[] = [];
  const applied: AppliedCall[] = [];
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let failures = 0;

  const openEvent = (ruleId: string) => events.find((e) => e.alert_id === ruleId && !e.is_resolved);
  /** Runs `effect` after the call's latency, counting it in flight meanwhile. */
  const call = async <T>(ruleId: string, effect: () => T): Promise<T> => {
    const n = calls++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      for (let i = latency(n, ruleId); i > 0; i--) await hop();
      if (fails(n, ruleId)) {
        failures++;
        throw new StoreError('injected failure', { code: 'STORE_FAILED', retriable: true });
      }
      if (breaks(n)) {
        failures++;
        throw new StoreError('injected fault', { code: 'STORE_FAILED', retriable: false });
      }
      return effect();
    } finally {
      inFlight--;
    }
  };

  const openNow = (input: NewAlertEvent) => {
    const existing = openEvent(input.alert_id);
    if (existing) return { event: existing, created: false };
    const event: AlertEvent = { ...input, id: input.id ?? String(events.length), is_resolved: false, resolved_at: null, resolution_value: null, metadata: {} };
    events.push(event);
    applied.push({ kind: 'open', rule: input.alert_id, value: input.current_value });
    return { event, created: true };
  };
  const resolveNow = (ruleId: string, resolution: { resolved_at: string; resolution_value: number }) => {
    const open = openEvent(ruleId);
    if (!open) return undefined;
    Object.assign(open, { is_resolved: true, ...resolution });
    applied.push({ kind: 'resolve', rule: ruleId, value: resolution.resolution_value });
    return open;
  };

  const alerts = {
    /** All of a batch or nothing, as one transaction would. */
    commit: ({ transitions, readings }: { transitions: AlertTransition[]; readings: Reading[] }) =>
      call(transitions[0] ? (transitions[0].kind === 'open' ? transitions[0].event.alert_id : transitions[0].alertId) : '', () => {
        const outcomes = transitions.map((t) => {
          if (t.kind === 'open') {
            const { event, created } = openNow(t.event);
            return { changed: created, event };
          }
          const event = resolveNow(t.alertId, t.resolution);
          return { changed: event !== undefined, event };
        });
        for (const r of readings) applied.push({ kind: 'reading', rule: r.device_id, value: r.value });
        return outcomes;
      }),
    open: (input: NewAlertEvent) =>
      call(input.alert_id, () => {
        const existing = openEvent(input.alert_id);
        if (existing) return { event: existing, created: false };
        const event: AlertEvent = { ...input, id: input.id ?? String(events.length), is_resolved: false, resolved_at: null, resolution_value: null, metadata: {} };
        events.push(event);
        applied.push({ kind: 'open', rule: input.alert_id, value: input.current_value });
        return { event, created: true };
      }),
    openFor: (ruleId: string) => call(ruleId, () => openEvent(ruleId)),
    resolve: (ruleId: string, resolution: { resolved_at: string; resolution_value: number }) =>
      call(ruleId, () => {
        const open = openEvent(ruleId);
        if (!open) return undefined;
        Object.assign(open, { is_resolved: true, ...resolution });
        applied.push({ kind: 'resolve', rule: ruleId, value: resolution.resolution_value });
        return open;
      }),
  };
  return {
    store: { alerts } as unknown as Store,
    events,
    applied,
    maxInFlight: () => maxInFlight,
    failures: () => failures,
  };
}

/** A rule as the writer needs it. */
export function rule(id: string): Rule {
  return {
    id,
    name: `rule ${id}`,
    device_id: 'device-1',
    metric: 'cpu',
    operator: '>',
    threshold: 90,
    for_seconds: 0,
    clear_threshold: null,
    keep_firing_for_seconds: 0,
    nodata_seconds: null,
    severity: 'critical',
    channels: [],
    enabled: true,
    created_at: '2030-01-01T00:00:00.000Z',
    updated_at: '2030-01-01T00:00:00.000Z',
  };
}
