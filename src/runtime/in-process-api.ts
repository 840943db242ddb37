import { z } from 'zod';
import type { AlertEvent } from '../domain/alert-event.ts';
import { READINGS_BATCH_LIMIT } from '../domain/reading-schema.ts';
import { ruleInputSchema, rulePatchSchema } from '../domain/rule-schema.ts';
import type { Rule } from '../domain/rule.ts';
import { ValidationError, type Issue } from '../errors.ts';
import { parseWith } from '../domain/parse.ts';
import type { Store } from '../storage/store.ts';
import { alertStats, type AlertStats } from './alerts/alert-stats.ts';
import type { AlertEngine } from './alerts/engine.ts';

/** A new rule, as `POST /rules` takes it (defaults apply to the fields left out). */
export type RuleInput = z.input<typeof ruleInputSchema>;
/** Some fields of a rule, as `PATCH /rules/:id` takes them. */
export type RulePatch = z.input<typeof rulePatchSchema>;
/** One reading, as `POST /readings` takes it. */
export interface ReadingInput {
  device_id: string | number;
  metric?: string;
  value?: number;
  json_value?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** ISO-8601 time or epoch milliseconds; default now. */
  ts?: string | number;
}

/** What `runtime.ingest` did: readings accepted and evaluated, stale ones, and the rejected ones by index. */
export interface IngestSummary {
  accepted: number;
  stale: number;
  rejected: { index: number; issue: Issue }[];
}

const isoTime = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 time');
/** The filters of `GET /alerts/events`, typed. */
const eventFilter = z
  .object({
    alert_id: z.string().min(1).optional(),
    device_id: z.string().min(1).optional(),
    is_resolved: z.boolean().optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    limit: z.number().int().min(1).max(10_000).default(100),
  })
  .strict();
/** Filters of `runtime.alerts.events()`. */
export type AlertEventQuery = z.input<typeof eventFilter>;

/** Rules, managed in-process: the same validation as the HTTP routes (ValidationError naming the field, NotFoundError). */
export interface RulesApi {
  create(input: RuleInput): Promise<Rule>;
  get(id: string): Promise<Rule>;
  list(): Promise<Rule[]>;
  update(id: string, patch: RulePatch): Promise<Rule>;
  delete(id: string): Promise<void>;
}

/** Alert events and statistics, as `GET /alerts/events` and `GET /alerts/stats` answer them. */
export interface AlertsApi {
  events(filter?: AlertEventQuery): Promise<AlertEvent[]>;
  stats(): Promise<AlertStats>;
}

/** The in-process API of a runtime: what the HTTP routes do, with no HTTP and no rate limit. */
export interface InProcessApi {
  rules: RulesApi;
  /** One reading or up to READINGS_BATCH_LIMIT, checked as `POST /readings` checks them; resolves once the accepted ones and the alert writes they caused are committed. */
  ingest(readings: ReadingInput | readonly ReadingInput[]): Promise<IngestSummary>;
  alerts: AlertsApi;
}

/** Builds the in-process API over the alert engine the HTTP routes use, so both behave alike. */
export function createInProcessApi(store: Store, engine: AlertEngine): InProcessApi {
  const rules: RulesApi = {
    create: async (input) => engine.rules.create(parseWith(ruleInputSchema, input)),
    get: (id) => engine.rules.get(id),
    list: () => engine.rules.list(),
    update: async (id, patch) => engine.rules.update(id, parseWith(rulePatchSchema, patch)),
    delete: (id) => engine.rules.delete(id),
  };
  return {
    rules,
    async ingest(readings) {
      const items: unknown[] = Array.isArray(readings) ? [...readings] : [readings];
      // As POST /readings: the valid ones are evaluated and stored even when others are rejected.
      if (items.length > READINGS_BATCH_LIMIT) {
        throw new ValidationError([{ path: 'readings', message: `at most ${READINGS_BATCH_LIMIT} readings per call (got ${items.length})` }], { code: 'BATCH_TOO_LARGE' });
      }
      if (items.length === 0) throw new ValidationError([{ path: 'readings', message: 'must hold at least one reading' }]);
      const result = await engine.accept(items);
      // Committed before it resolves (readings, alert events, their outbox rows), as POST /readings awaits it.
      await result.stored;
      return { accepted: result.accepted, stale: result.stale, rejected: result.rejected };
    },
    alerts: {
      events: async (filter = {}) => store.alerts.list(parseWith(eventFilter, filter, { status: 400 })),
      stats: () => alertStats(store, engine),
    },
  };
}
