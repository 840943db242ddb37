import type { AnyStateMachine } from 'xstate';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Keys whose function values are implementation (context, input, output, params): left out, the machine stays valid without them. */
const IMPLEMENTATION = new Set(['context', 'input', 'output', 'params', 'schemas']);

/** An action, guard, delay or actor given as a function or logic object: its name, or `inline`. */
function nameOf(value: object): string {
  const named = value as { type?: unknown; id?: unknown; name?: unknown };
  if (typeof named.type === 'string') return named.type;
  if (typeof named.name === 'string' && named.name !== '') return named.name;
  return 'inline';
}

function toJson(value: unknown, key: string | undefined): Json | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'function') return key !== undefined && IMPLEMENTATION.has(key) ? undefined : nameOf(value);
  if (Array.isArray(value)) return value.map((item) => toJson(item, undefined) ?? null);
  if (typeof value !== 'object') return undefined;
  // Actor logic (an invoke's `src` given as logic rather than a name) is named, not serialized.
  if (key === 'src' || typeof (value as { transition?: unknown }).transition === 'function') return nameOf(value);
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const json = toJson(v, k);
    if (json !== undefined) out[k] = json;
  }
  return out;
}

/**
 * A machine's config as JSON that `createMachine()` accepts: the definition as written (so eventless
 * `always` and delayed `after` transitions are there, which `machine.toJSON()` leaves out), with
 * named actions, guards, delays and actors as their names and implementation (context factories,
 * inputs) left out. The result draws in Stately's tools and can be given to `createMachine(config)`.
 */
export function machineConfig(machine: AnyStateMachine): Record<string, Json> {
  let config = cache.get(machine);
  if (!config) cache.set(machine, (config = { ...(toJson(machine.config, undefined) as Record<string, Json>), id: machine.id }));
  return config;
}

/** A machine's config does not change: built once per machine. */
const cache = new WeakMap<AnyStateMachine, Record<string, Json>>();
