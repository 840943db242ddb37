import { z } from 'zod';
import type { Issue } from '../errors.ts';
import { OPERATORS, SEVERITIES, type Rule } from './rule.ts';

const deviceId = z.union([z.string().trim().min(1).max(200), z.number().finite()]).transform(String);
const seconds = z.number().finite().min(0).max(31_536_000);

/** The fields a caller sets; on create the defaults below apply. */
const fields = {
  name: z.string().trim().min(1).max(200),
  device_id: deviceId,
  metric: z.string().trim().min(1).max(200),
  operator: z.enum(OPERATORS),
  threshold: z.number().finite(),
  for_seconds: seconds,
  clear_threshold: z.number().finite().nullable(),
  keep_firing_for_seconds: seconds,
  nodata_seconds: seconds.positive().nullable(),
  severity: z.enum(SEVERITIES),
  channels: z.array(z.string().trim().min(1).max(100)).max(20),
  enabled: z.boolean(),
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
    channels: fields.channels.default(['console']),
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
