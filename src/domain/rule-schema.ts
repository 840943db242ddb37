import { z } from 'zod';
import type { Issue } from '../errors.ts';
import { OPERATORS, SEVERITIES, type Rule } from './rule.ts';

const deviceId = z.union([z.string().trim().min(1).max(200), z.number().finite()]).transform(String);
const seconds = z.number().finite().min(0).max(31_536_000);

/** What each field means, as the README's rule table says it (served in the OpenAPI document). */
const MEANING = {
  name: 'Used in notification titles (<name> firing, <name> resolved)',
  device_id: 'The device watched; text or number (stored as text)',
  metric: 'The metric watched; readings are matched on (device_id, metric)',
  operator: 'A value breaches when value <operator> threshold',
  threshold: 'The value compared with each reading',
  for_seconds: 'How long the condition must hold, from the first evaluation that found it breaching, before the rule fires (0: at the same evaluation)',
  clear_threshold: 'Hysteresis: a firing alert resolves only once the value no longer passes this (null: the threshold)',
  keep_firing_for_seconds: 'How long an alert keeps firing after the first evaluation that found its value cleared (a breach meanwhile cancels the countdown)',
  nodata_seconds: 'No reading for this long puts a rule in ok or pending in nodata (null: never)',
  severity: 'info, warning, error or critical',
  channels: 'Channels notified on fire and resolve; empty: routed by severity among the enabled channels',
  enabled: 'A disabled rule stops; an alert it had open is resolved with its last value',
} as const;

/** The fields a caller sets; on create the defaults below apply. */
const fields = {
  name: z.string().trim().min(1).max(200).describe(MEANING.name),
  device_id: deviceId.describe(MEANING.device_id),
  metric: z.string().trim().min(1).max(200).describe(MEANING.metric),
  operator: z.enum(OPERATORS).describe(MEANING.operator),
  threshold: z.number().finite().describe(MEANING.threshold),
  for_seconds: seconds.describe(MEANING.for_seconds),
  clear_threshold: z.number().finite().nullable().describe(MEANING.clear_threshold),
  keep_firing_for_seconds: seconds.describe(MEANING.keep_firing_for_seconds),
  nodata_seconds: seconds.positive().nullable().describe(MEANING.nodata_seconds),
  severity: z.enum(SEVERITIES).describe(MEANING.severity),
  channels: z.array(z.string().trim().min(1).max(100)).max(20).describe(MEANING.channels),
  enabled: z.boolean().describe(MEANING.enabled),
};

/** `POST /rules`: a new rule; `id` is optional (a UUID is assigned). */
export const ruleInputSchema = z
  .object({
    id: z.string().trim().min(1).max(200).regex(/^[^/\s]+$/, 'must not contain spaces or slashes').optional(),
    name: fields.name,
    device_id: fields.device_id,
    metric: fields.metric,
    operator: fields.operator,
    threshold: fields.threshold,
    for_seconds: fields.for_seconds.default(0),
    clear_threshold: fields.clear_threshold.default(null),
    keep_firing_for_seconds: fields.keep_firing_for_seconds.default(0),
    nodata_seconds: fields.nodata_seconds.default(null),
    severity: fields.severity.default('warning'),
    // None: routed by severity among the enabled channels (src/channels/routing.ts).
    channels: fields.channels.default([]),
    enabled: fields.enabled.default(true),
  })
  .strict();

/** `PATCH /rules/:id`: any of the settable fields. */
export const rulePatchSchema = z.object(fields).partial().strict();

/** A rule as served. */
export const ruleSchema = ruleInputSchema.extend({ id: z.string(), created_at: z.string(), updated_at: z.string() });

/**
 * What a field-by-field schema cannot see: the clear threshold (hysteresis) must lie on the
 * resolving side of the threshold, and is meaningless for `==` and `!=`.
 */
export function ruleIssues(rule: Pick<Rule, 'operator' | 'threshold' | 'clear_threshold'>): Issue[] {
  const { operator, threshold, clear_threshold: clear } = rule;
  if (clear === null || clear === undefined) return [];
  const problem =
    (operator === '>' || operator === '>=') && clear > threshold
      ? `must be at most the threshold (${threshold}) for '${operator}': the alert resolves once the value falls to it`
      : (operator === '<' || operator === '<=') && clear < threshold
        ? `must be at least the threshold (${threshold}) for '${operator}': the alert resolves once the value rises to it`
        : (operator === '==' || operator === '!=') && clear !== threshold
          ? `must be null or equal to the threshold for '${operator}'`
          : undefined;
  return problem ? [{ path: 'clear_threshold', message: problem }] : [];
}
